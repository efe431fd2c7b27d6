"""Real files for the benchmark, made here: documents of each extractable type, as the
test suite makes them (`tests.content_samples`) and larger ones as a workshop keeps them
(a 20-page PDF, a 300-paragraph DOCX, a 5,000-row XLSX, a 1 MB CSV, an SVG with 2,000
text elements), written with the libraries the extractors read them with and filled
with the synthetic library's sentences; pictures of each type with a preview, as the
suite makes them (`tests.image_samples`) and as a workshop's cameras and screens make
them; and, for uploads, a PDF and a PNG of any size and a camera's photo.
"""

from __future__ import annotations

import io
import math
import random
import textwrap
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from xml.sax.saxutils import escape

import docx
import numpy
from openpyxl import Workbook
from PIL import Image, ImageDraw

from bench.content_text import TextMaker
from tests import content_samples, image_samples

PDF_PAGES = 20
PDF_LINES = 50
DOCX_PARAGRAPHS = 300
XLSX_ROWS = 5_000
CSV_BYTES = 1_000_000
SVG_TEXTS = 2_000


@dataclass(frozen=True)
class Sample:
    label: str
    file_type: str
    data: bytes


class Sentences:
    """The library's kind of sentences, from a small seeded pool."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self._pool = TextMaker.for_library(random.Random(seed), documents=0).pool

    def one(self) -> str:
        return self.rng.choice(self._pool)

    def some(self, count: int) -> str:
        return " ".join(self.one() for _ in range(count))

    def lines(self, count: int, width: int = 80) -> list[str]:
        """`count` lines of prose, as a page of a manual wraps it."""
        found: list[str] = []
        while len(found) < count:
            found += textwrap.wrap(self.some(10), width)
        return found[:count]


def _pdf(words: Sentences) -> bytes:
    return content_samples.pdf_document([words.lines(PDF_LINES) for _ in range(PDF_PAGES)])


def _docx(words: Sentences) -> bytes:
    document = docx.Document()
    document.sections[0].header.paragraphs[0].text = "Workshop manual, revision 4"
    document.add_heading("Making the bifold wallet", level=1)
    for number in range(DOCX_PARAGRAPHS):
        if number % 50 == 0:
            document.add_heading(words.one(), level=2)
        document.add_paragraph(words.some(words.rng.randint(2, 5)))
    table = document.add_table(rows=30, cols=4)
    for row in table.rows:
        for cell in row.cells:
            cell.text = words.one()[:40]
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _xlsx(words: Sentences) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Orders")
    sheet.append(["sku", "item", "leather", "colour", "quantity", "price", "supplier", "note"])
    rng = words.rng
    for number in range(XLSX_ROWS):
        first, *rest = words.one().rstrip(".").split()
        sheet.append(
            [
                f"HS-{number:05d}",
                " ".join(rest[:3]),
                first,
                rest[-1] if rest else first,
                rng.randint(1, 500),
                round(rng.uniform(2, 400), 2),
                rest[0] if rest else first,
                words.one() if rng.random() < 0.3 else None,
            ]
        )
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _csv(words: Sentences) -> bytes:
    lines = ["sku,item,quantity,price,note"]
    size = len(lines[0])
    rng = words.rng
    while size < CSV_BYTES:
        note = words.one().replace('"', "")
        line = f"HS-{len(lines):06d},{note.split()[0]},{rng.randint(1, 500)},"
        line += f'{rng.uniform(2, 400):.2f},"{note}"'
        lines.append(line)
        size += len(line) + 2
    return ("\r\n".join(lines) + "\r\n").encode()


def _svg(words: Sentences) -> bytes:
    texts = "".join(
        f'<text x="{10 + (n % 10) * 120}" y="{20 + (n // 10) * 14}">'
        f"{escape(words.one()[:60])}</text>"
        for n in range(SVG_TEXTS)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3.org/2000/svg" '
        'width="1300" height="2900"><title>Cutting layout</title>'
        f"<desc>{escape(words.one())}</desc>{texts}</svg>"
    ).encode()


def samples(seed: int = 3) -> list[Sample]:
    """The files measured: per type, the suite's sample, then the larger one."""
    words = Sentences(seed)
    made: list[tuple[str, str, Callable[[], bytes]]] = [
        ("sample PDF, 3 pages", ".pdf", content_samples.pdf),
        (f"PDF, {PDF_PAGES} pages", ".pdf", lambda: _pdf(words)),
        ("sample DOCX, a table, header, footer", ".docx", content_samples.docx_document),
        (f"DOCX, {DOCX_PARAGRAPHS} paragraphs and a table", ".docx", lambda: _docx(words)),
        ("sample XLSX, 2 sheets", ".xlsx", content_samples.xlsx_workbook),
        (f"XLSX, {XLSX_ROWS:,} rows", ".xlsx", lambda: _xlsx(words)),
        ("sample CSV, Windows-1252", ".csv", content_samples.windows_1252_csv),
        (f"CSV, {CSV_BYTES / 1e6:g} MB", ".csv", lambda: _csv(words)),
        ("sample SVG", ".svg", content_samples.svg_drawing),
        (f"SVG, {SVG_TEXTS:,} text elements", ".svg", lambda: _svg(words)),
    ]
    return [Sample(label, file_type, make()) for label, file_type, make in made]


def _photo(size: tuple[int, int], *, seed: int) -> bytes:
    """A JPEG as a camera writes one: the suite's still life at `size`, with sensor-like
    noise so it weighs what a photo of that size does (a 24 MP one about 9 MB), EXIF
    orientation 6 and the time it was taken."""
    pixels = numpy.asarray(image_samples.drawing(size), dtype=numpy.int16)
    grain = numpy.random.default_rng(seed).normal(0, 14, pixels.shape).astype(numpy.int16)
    textured = Image.fromarray(numpy.clip(pixels + grain, 0, 255).astype(numpy.uint8))
    return image_samples.camera_jpeg(textured, quality=90)


def photo(megapixels: int = 24) -> bytes:
    """A camera's photo of 24 (6000x4000) or 12 (4032x3024) megapixels."""
    sizes = {24: (6000, 4000), 12: (4032, 3024)}
    return _photo(sizes[megapixels], seed=megapixels)


def _screenshot() -> bytes:
    """A 2560x1440 PNG screenshot: flat panels and a line of text every 20 pixels."""
    image = image_samples.drawing((2560, 1440))
    words = Sentences(11)
    draw = ImageDraw.Draw(image)
    for top in range(10, 1440, 20):
        draw.text((20, top), words.some(3)[:300], fill=(30, 30, 30))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def preview_samples(seed: int = 3) -> list[Sample]:
    """The files whose previews are measured: per type, the suite's sample, then one as a
    workshop makes it."""
    words = Sentences(seed)
    made: list[tuple[str, str, Callable[[], bytes]]] = [
        ("sample JPEG, 24 MP drawing, EXIF orientation 6", ".jpg", image_samples.exif_jpeg),
        ("camera JPEG, 24 MP (6000x4000)", ".jpg", lambda: photo(24)),
        ("phone JPEG, 12 MP (4032x3024)", ".jpg", lambda: photo(12)),
        ("sample PNG, 900x600 with transparency", ".png", image_samples.png),
        ("screenshot PNG, 2560x1440", ".png", _screenshot),
        ("sample GIF, 400x300, 2 frames", ".gif", image_samples.gif),
        ("sample SVG", ".svg", content_samples.svg_drawing),
        (f"SVG, {SVG_TEXTS:,} text elements", ".svg", lambda: _svg(words)),
        ("sample PDF, 3 pages (first page drawn)", ".pdf", content_samples.pdf),
        (f"PDF, {PDF_PAGES} pages (first page drawn)", ".pdf", lambda: _pdf(words)),
    ]
    return [Sample(label, file_type, make()) for label, file_type, make in made]


# -- files to upload -----------------------------------------------------------------

# Sixteen letters on the first page of the upload PDF, replaced by a word of the same
# length for each upload (the offsets of its cross-reference table stay right).
PDF_MARK = b"benchuploadwords"
PDF_TEMPLATE_PAGES = 40


def upload_pdf(size_bytes: int, *, seed: int = 5) -> tuple[bytes, int]:
    """A real PDF of about `size_bytes`: pages of prose, as many as it takes (40 distinct
    pages, repeated), with PDF_MARK on its first page alone; and its number of pages."""
    words = Sentences(seed)
    distinct = [words.lines(PDF_LINES) for _ in range(PDF_TEMPLATE_PAGES)]
    first = [f"Manual {PDF_MARK.decode()}", *distinct[0][1:]]
    per_page = len(content_samples.pdf_document(distinct)) / PDF_TEMPLATE_PAGES
    pages = max(1, math.ceil(size_bytes / per_page))
    data = content_samples.pdf_document(
        [first] + [distinct[n % PDF_TEMPLATE_PAGES] for n in range(1, pages)]
    )
    assert data.count(PDF_MARK) == 1
    return data, pages


def upload_png(size_bytes: int, *, seed: int = 5) -> bytes:
    """A real PNG of about `size_bytes`: RGB noise, which no compression shrinks."""
    width = 2000
    row = 1 + 3 * width  # each row starts with its filter byte
    height = max(1, size_bytes // row)
    pixels = random.Random(seed).randbytes(row * height)
    rows = b"".join(b"\x00" + pixels[n * row + 1 : (n + 1) * row] for n in range(height))

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            len(body).to_bytes(4, "big") + kind + body + zlib.crc32(kind + body).to_bytes(4, "big")
        )

    header = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([8, 2, 0, 0, 0])
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 0))
        + chunk(b"IEND", b"")
    )
