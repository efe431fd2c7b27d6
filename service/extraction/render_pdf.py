"""A PDF's first page drawn for its previews with PDFium, its longer side at the large size."""

from __future__ import annotations

from pathlib import Path

from service.extraction.pdf import open_document
from service.extraction.picture import LARGE, Picture
from service.extraction.result import Unreadable


def render(path: Path) -> Picture:
    document = open_document(path, cannot="it cannot be previewed")
    if document is None:
        raise Unreadable("The PDF has no pages, so it has no preview.")
    try:
        page = document[0]
        try:
            width, height = page.get_size()
            if min(width, height) <= 0:
                raise Unreadable("The PDF's first page has no size, so it has no preview.")
            # The scale is chosen before drawing, so a page declared kilometres wide
            # costs no more than one that fits.
            bitmap = page.render(scale=max(LARGE) / max(width, height))
            image = bitmap.to_pil().convert("RGB")  # a copy: the bitmap's buffer goes
            image.thumbnail(LARGE)  # PDFium rounds up: 1281 px stays 1280
        finally:
            page.close()
    finally:
        document.close()
    return Picture(image, image.width, image.height)
