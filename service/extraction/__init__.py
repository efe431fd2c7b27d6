"""Text extraction (PDF, DOCX, XLSX, CSV, SVG) and previews with image facts (JPEG, PNG,
GIF, SVG, PDF), in an isolated child process.

The API and the indexer use only what is exported here; the extractors, the renderers
and their libraries load inside the child, where a hostile file can cost time and memory
under limits but cannot stop the caller.
"""

from service.extraction.extractor import Extractor
from service.extraction.kinds import EXTRACTOR_VERSION, RENDERER_VERSION, has_extractor, has_preview
from service.extraction.rendition import Rendition
from service.extraction.result import Extraction

__all__ = [
    "EXTRACTOR_VERSION",
    "RENDERER_VERSION",
    "Extraction",
    "Extractor",
    "Rendition",
    "has_extractor",
    "has_preview",
]
