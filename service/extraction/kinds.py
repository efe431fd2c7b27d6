"""Which file types have text to extract or a preview to render, and the versions of what
extraction and rendering produce.

Kept free of the extractors' and renderers' libraries, so the API and the indexer can ask
without loading PDFium, lxml or Pillow; the child process maps each type here to its code.
"""

from __future__ import annotations

# Bump when any extractor's output changes, so stored text can be re-extracted.
EXTRACTOR_VERSION = 1
# Bump when previews or image facts change, so they can be rendered again.
RENDERER_VERSION = 2  # 2: SVG text in the fonts fontconfig finds

EXTRACTABLE_TYPES: frozenset[str] = frozenset({".pdf", ".docx", ".xlsx", ".csv", ".svg"})
PREVIEW_TYPES: frozenset[str] = frozenset({".jpg", ".jpeg", ".png", ".gif", ".svg", ".pdf"})


def has_extractor(file_type: str) -> bool:
    """Whether files of `file_type` (an extension with its dot, `.pdf`) have text to extract."""
    return file_type.lower() in EXTRACTABLE_TYPES


def has_preview(file_type: str) -> bool:
    """Whether files of `file_type` (an extension with its dot, `.jpg`) get previews."""
    return file_type.lower() in PREVIEW_TYPES
