"""The facts read from an image on the way to its previews: size as shown, when the photo
was taken (EXIF), and a perceptual hash for finding near-duplicates."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

import imagehash
from PIL import Image
from PIL.ExifTags import IFD, Base

# Orientations 5 to 8 turn the picture a quarter: its width is shown as the height.
QUARTER_TURNS = frozenset({5, 6, 7, 8})
_EXIF_TIME = re.compile(r"\s*(\d{4}):(\d{2}):(\d{2})[ T](\d{2}):(\d{2}):(\d{2})")
_EXIF_OFFSET = re.compile(r"\s*([+-])(\d{2}):(\d{2})\s*$")


def exif_of(image: Image.Image) -> Image.Exif:
    """The image's EXIF, or none when it is malformed: a photo with a damaged EXIF block
    still has pixels worth a preview."""
    try:
        exif = image.getexif()
        exif.get_ifd(IFD.Exif)  # read now, so a damaged sub-directory shows here
    except MemoryError:
        raise
    except Exception:  # whatever Pillow's TIFF reader makes of a damaged block
        return Image.Exif()
    return exif


def orientation(exif: Image.Exif) -> int:
    value = exif.get(Base.Orientation, 1)
    return value if isinstance(value, int) else 1


def shown_size(size: tuple[int, int], exif: Image.Exif) -> tuple[int, int]:
    """The pixel size once the EXIF orientation is applied."""
    width, height = size
    return (height, width) if orientation(exif) in QUARTER_TURNS else (width, height)


def _text(value: object) -> str | None:
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    return value.strip("\x00 ") if isinstance(value, str) else None


def _offset(value: object) -> timezone:
    """EXIF OffsetTimeOriginal (`+02:00`); a photo without one is read as UTC."""
    text = _text(value)
    match = _EXIF_OFFSET.match(text) if text else None
    if match is None:
        return UTC
    sign, hours, minutes = match.groups()
    delta = timedelta(hours=int(hours), minutes=int(minutes))
    if delta >= timedelta(hours=24):
        return UTC
    return timezone(-delta if sign == "-" else delta)


def taken_at(exif: Image.Exif) -> datetime | None:
    """EXIF DateTimeOriginal in UTC, or None when absent or not a real time.

    Cameras write `0000:00:00 00:00:00` or blanks when their clock was unset.
    """
    details = exif.get_ifd(IFD.Exif)
    # A few writers put it in the first IFD rather than the Exif one.
    text = _text(details.get(Base.DateTimeOriginal) or exif.get(Base.DateTimeOriginal))
    match = _EXIF_TIME.match(text) if text else None
    if match is None:
        return None
    year, month, day, hour, minute, second = (int(part) for part in match.groups())
    try:
        local = datetime(year, month, day, hour, minute, second)
    except ValueError:
        return None
    return local.replace(tzinfo=_offset(details.get(Base.OffsetTimeOriginal))).astimezone(UTC)


def perceptual_hash(image: Image.Image) -> int:
    """The 64-bit pHash (imagehash.phash) as an unsigned integer, bit 63 first."""
    return int(str(imagehash.phash(image)), 16)
