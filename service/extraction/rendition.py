"""What rendering a file's previews ends as: the one result shape both processes speak about."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

RenditionStatus = Literal["ready", "none", "failed"]
# How failure sentences name the work ("Rendering the preview took longer than …").
RENDERING_ACTIVITY = "Rendering the preview"
RENDITION_STATUSES: dict[str, RenditionStatus] = {
    "ready": "ready",
    "none": "none",
    "failed": "failed",
}


@dataclass(frozen=True)
class Rendition:
    """The previews of one file and the facts read on the way, or why there are none.

    `ready`: both WebP files were written. `none`: the type has no preview (a DOCX, say).
    `failed`: `error` is a sentence for people (damaged, over 100 megapixels, over the
    time or memory limit). Unless `ready`, neither preview file exists.

    `width` and `height` are the image's pixel size with its EXIF orientation applied, or
    the size a PDF's first page or an SVG was rendered at for the large preview.
    `taken_at` is EXIF DateTimeOriginal in UTC; `perceptual_hash` the 64-bit pHash of a
    JPEG, PNG or GIF, as an unsigned integer.
    """

    status: RenditionStatus
    error: str | None
    width: int | None
    height: int | None
    taken_at: datetime | None
    perceptual_hash: int | None

    @classmethod
    def failed(cls, error: str) -> Rendition:
        return cls("failed", error, None, None, None, None)

    @classmethod
    def none(cls) -> Rendition:
        return cls("none", None, None, None, None, None)


@dataclass(frozen=True)
class Previews:
    """The two WebP files of a `ready` rendition, as the child encoded them."""

    small: bytes
    large: bytes
