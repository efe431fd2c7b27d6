"""A file drawn for its previews: the image at the large size, and the facts read on the way."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime

from PIL import Image

from service.extraction.rendition import Previews

LARGE = (1280, 1280)
SMALL = (320, 320)
WEBP_QUALITY = 80
# Encoder effort: 2 encodes a 1280-pixel preview two to three times faster than Pillow's
# default 4, for a few percent more bytes (116 KB becomes 117 KB for a photo).
WEBP_METHOD = 2


@dataclass(frozen=True)
class Picture:
    """`image` fits LARGE with its orientation applied; the facts are as `Rendition` has them."""

    image: Image.Image
    width: int
    height: int
    taken_at: datetime | None = None
    perceptual_hash: int | None = None


def preview_mode(image: Image.Image) -> Image.Image:
    """RGB, or RGBA when the image has transparency: the modes WebP stores."""
    mode = "RGBA" if image.has_transparency_data else "RGB"
    return image if image.mode == mode else image.convert(mode)


def _webp(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="WEBP", quality=WEBP_QUALITY, method=WEBP_METHOD)
    return out.getvalue()


def previews(picture: Picture) -> Previews:
    """Both previews as WebP: the large one as drawn (no bigger than LARGE), the small one
    fitted into SMALL from it."""
    large = preview_mode(picture.image)
    large.thumbnail(LARGE, Image.Resampling.LANCZOS)
    small = large.copy()
    small.thumbnail(SMALL, Image.Resampling.LANCZOS)
    return Previews(small=_webp(small), large=_webp(large))
