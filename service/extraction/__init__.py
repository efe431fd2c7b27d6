"""Text extraction from uploaded files (PDF, DOCX, XLSX, CSV, SVG) in an isolated child process.

The API and the indexer use only what is exported here; the extractors and their
libraries load inside the child, where a hostile file can cost time and memory under
limits but cannot stop the caller.
"""

from service.extraction.extractor import Extractor
from service.extraction.kinds import EXTRACTOR_VERSION, has_extractor
from service.extraction.result import Extraction

__all__ = ["EXTRACTOR_VERSION", "Extraction", "Extractor", "has_extractor"]
