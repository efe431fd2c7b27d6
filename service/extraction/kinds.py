"""Which file types have text to extract, and the version of what extraction produces.

Kept free of the extractors' libraries, so the API and the indexer can ask without
loading PDFium or lxml; the child process maps each type here to its extractor.
"""

from __future__ import annotations

# Bump when any extractor's output changes, so stored text can be re-extracted.
EXTRACTOR_VERSION = 1

EXTRACTABLE_TYPES: frozenset[str] = frozenset({".pdf", ".docx", ".xlsx", ".csv", ".svg"})


def has_extractor(file_type: str) -> bool:
    """Whether files of `file_type` (an extension with its dot, `.pdf`) have text to extract."""
    return file_type.lower() in EXTRACTABLE_TYPES
