"""JPEG, PNG and GIF drawn for their previews with Pillow, under its decompression-bomb limit.

Each type opens only with its own decoder, so a file named `.png` never reaches one of
Pillow's other plugins. An image over 100 megapixels is refused before it is decoded.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from service.extraction.image_facts import (
    exif_of,
    orientation,
    perceptual_hash,
    shown_size,
    taken_at,
)
from service.extraction.picture import LARGE, Picture, preview_mode
from service.extraction.result import Unreadable

MAX_MEGAPIXELS = 100
# Pillow refuses past twice this and warns past it; the warning is made an error below.
Image.MAX_IMAGE_PIXELS = MAX_MEGAPIXELS * 1_000_000
# Camera JPEGs with a second picture inside (MPO) are JPEGs to everyone else.
DECODERS = {".jpg": ("JPEG", "MPO"), ".jpeg": ("JPEG", "MPO"), ".png": ("PNG",), ".gif": ("GIF",)}
# Palette and bilevel images are resized by nearest neighbour unless converted first.
_NEAREST_ONLY_MODES = frozenset({"1", "P", "PA"})
_PIXELS = re.compile(r"\((\d+) pixels\)")


def _bomb_sentence(error: Exception) -> str:
    match = _PIXELS.search(str(error))
    size = f"{int(match.group(1)) / 1_000_000:,.0f} megapixels, " if match else ""
    return (
        f"The image is {size}over the limit of {MAX_MEGAPIXELS} megapixels "
        "(a decompression bomb would look the same), so it has no preview."
    )


def render(path: Path, *, file_type: str) -> Picture:
    kind = DECODERS[file_type][0]
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(path, formats=DECODERS[file_type]) as opened:
                if kind != "JPEG":
                    # Decoded whole anyway, and first, so a damaged file fails here: the
                    # EXIF read below would otherwise swallow the error and keep half.
                    opened.load()
                exif = exif_of(opened)
                width, height = shown_size(opened.size, exif)
                taken = taken_at(exif)
                image: Image.Image = opened
                if image.mode in _NEAREST_ONLY_MODES:
                    image = preview_mode(image)
                # A JPEG decodes at a reduced scale here: a 24-megapixel photo is never whole.
                image.thumbnail(LARGE, Image.Resampling.LANCZOS)
                image.load()  # one that already fits is not loaded yet, and the file closes
                if orientation(exif) != 1:
                    image = ImageOps.exif_transpose(image)
                image = preview_mode(image)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise Unreadable(_bomb_sentence(exc)) from exc
        except UnidentifiedImageError as exc:
            raise Unreadable(
                f"The file is not a {kind} image that can be read: "
                "it may be damaged, or of another type."
            ) from exc
    return Picture(image, width, height, taken, perceptual_hash(image))
