"""Images made in the test run, for previews, image facts and duplicates.

Each maker returns the file's bytes. The photo is a drawing scaled up to 6000x4000 and
stored as a camera would store a portrait shot: landscape pixels with EXIF orientation
6 ("turn a quarter clockwise to show"), so it shows 4000 wide and 6000 high. Its
top-left corner, as stored, is red: shown, the red corner is the top-right one.
"""

from __future__ import annotations

import io
import struct
import zlib
from datetime import UTC, datetime, timedelta, timezone
from functools import cache

from PIL import Image, ImageDraw, ImageOps
from PIL.ExifTags import IFD, Base

from tests import content_samples

PHOTO_SIZE = (6000, 4000)
PHOTO_SHOWN_SIZE = (4000, 6000)
# As the camera wrote it, two hours east of UTC.
PHOTO_TAKEN_LOCAL = "2024:05:17 14:30:05"
PHOTO_OFFSET = "+02:00"
PHOTO_TAKEN_AT = datetime(2024, 5, 17, 14, 30, 5, tzinfo=timezone(timedelta(hours=2))).astimezone(
    UTC
)
CORNER_COLOUR = (220, 20, 20)
GIF_FIRST_FRAME = (30, 60, 200)
GIF_SECOND_FRAME = (230, 200, 20)
SVG_COLOUR = (20, 160, 60)
BOMB_SIDE = 20_000


def _encoded(image: Image.Image, format: str, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, format=format, **options)
    return out.getvalue()


def drawing(size: tuple[int, int] = (600, 400)) -> Image.Image:
    """A leather-workshop still life in flat shapes: enough structure for a perceptual hash."""
    image = Image.new("RGB", size, (235, 225, 205))
    draw = ImageDraw.Draw(image)
    width, height = size
    draw.rectangle((0, 0, width // 6, height // 4), fill=CORNER_COLOUR)
    draw.ellipse((width // 3, height // 4, width * 5 // 6, height * 7 // 8), fill=(120, 70, 30))
    draw.rectangle((width // 10, height // 2, width // 4, height - 10), fill=(40, 40, 40))
    draw.line(
        (0, height - 1, width - 1, height // 3), fill=(90, 140, 190), width=max(1, width // 60)
    )
    return image


def _other_drawing(size: tuple[int, int] = (600, 400)) -> Image.Image:
    """An unrelated picture: stripes and a disc, arranged nothing like `_drawing`."""
    image = Image.new("RGB", size, (20, 30, 60))
    draw = ImageDraw.Draw(image)
    width, height = size
    for left in range(0, width, width // 8):
        draw.rectangle((left, 0, left + width // 16, height), fill=(200, 210, 220))
    draw.ellipse((width // 20, height // 2, width // 3, height - 5), fill=(250, 120, 0))
    return image


def camera_jpeg(photo: Image.Image, *, quality: int = 88) -> bytes:
    """`photo` as a camera stores a portrait shot: EXIF orientation 6, DateTimeOriginal
    and its UTC offset."""
    exif = Image.Exif()
    exif[Base.Orientation] = 6
    details = exif.get_ifd(IFD.Exif)
    details[Base.DateTimeOriginal] = PHOTO_TAKEN_LOCAL
    details[Base.OffsetTimeOriginal] = PHOTO_OFFSET
    return _encoded(photo, "JPEG", quality=quality, exif=exif)


@cache
def exif_jpeg() -> bytes:
    """The 6000x4000 photo with EXIF orientation 6, DateTimeOriginal and its UTC offset."""
    return camera_jpeg(drawing().resize(PHOTO_SIZE, Image.Resampling.BICUBIC))


def resized_copy(original: bytes, factor: float = 0.5) -> bytes:
    """The JPEG as an editor exports it smaller: turned upright, scaled, re-encoded, no EXIF."""
    with Image.open(io.BytesIO(original)) as opened:
        upright = ImageOps.exif_transpose(opened)
    size = (round(upright.width * factor), round(upright.height * factor))
    return _encoded(upright.resize(size, Image.Resampling.LANCZOS), "JPEG", quality=75)


def unrelated_jpeg() -> bytes:
    return _encoded(_other_drawing((1200, 800)), "JPEG", quality=85)


def png() -> bytes:
    """A 900x600 drawing with a transparent band along the bottom."""
    image = drawing((900, 600)).convert("RGBA")
    ImageDraw.Draw(image).rectangle((0, 540, 899, 599), fill=(0, 0, 0, 0))
    return _encoded(image, "PNG")


def gif() -> bytes:
    """Two frames of 400x300: the first all GIF_FIRST_FRAME, the second GIF_SECOND_FRAME."""
    first = Image.new("RGB", (400, 300), GIF_FIRST_FRAME)
    second = Image.new("RGB", (400, 300), GIF_SECOND_FRAME)
    return _encoded(first, "GIF", save_all=True, append_images=[second], duration=200, loop=0)


def svg_with_script(*, url: str, local_image: str) -> bytes:
    """A 400x200 green drawing whose script would fetch `url`, with two images it must not
    load: one from `url` (the network) and one from the path `local_image` (this disk)."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"
     width="400" height="200" onload="fetch('{url}?onload')">
  <script type="application/ecmascript">fetch("{url}?script");</script>
  <rect width="400" height="200" fill="rgb{SVG_COLOUR}"/>
  <image href="{url}" x="0" y="0" width="200" height="200"/>
  <image xlink:href="{local_image}" x="200" y="0" width="200" height="200"/>
</svg>
""".encode()


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))


@cache
def png_bomb(side: int = BOMB_SIDE) -> bytes:
    """A real, decodable side x side black PNG of a few hundred KB: one bit per pixel,
    every row the same, so it compresses a thousandfold; 400 megapixels at 20,000."""
    row = b"\x00" + bytes((side + 7) // 8)  # filter byte, then the row's bits
    packer = zlib.compressobj(9)
    data = b"".join(packer.compress(row) for _ in range(side)) + packer.flush()
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)  # 1-bit greyscale
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", data)
        + _png_chunk(b"IEND", b"")
    )


def damaged_jpeg() -> bytes:
    """A JPEG cut off after its first few kilobytes, as an interrupted copy leaves it."""
    whole = _encoded(drawing(), "JPEG", quality=90)
    return whole[: len(whole) // 3]


def damaged_png() -> bytes:
    """The PNG cut off inside its image data."""
    whole = png()
    return whole[: len(whole) // 2]


def pdf() -> bytes:
    """Three US-letter pages of text (`content_samples.pdf`)."""
    return content_samples.pdf()


@cache
def heavy_png(side: int = 9_500) -> bytes:
    """A real 90-megapixel palette PNG, under the megapixel limit: decoded and made RGB it
    needs about 360 MB, more than a small memory limit allows."""
    row = b"\x00" + bytes(side)  # filter byte, then palette index 0 for each pixel
    packer = zlib.compressobj(9)
    data = b"".join(packer.compress(row) for _ in range(side)) + packer.flush()
    header = struct.pack(">IIBBBBB", side, side, 8, 3, 0, 0, 0)  # 8-bit palette
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"PLTE", bytes(CORNER_COLOUR))
        + _png_chunk(b"IDAT", data)
        + _png_chunk(b"IEND", b"")
    )
