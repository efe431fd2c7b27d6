"""Real documents with known words inside, and hostile ones, made in memory for the tests.

Each sample carries words found nowhere else in the suite, exported as constants, so a
search for one finds exactly the file that holds it.
"""

from __future__ import annotations

import codecs
import hashlib
import io
import struct
import zipfile
import zlib

import docx
from docx.document import Document as WordDocument
from openpyxl import Workbook

PDF_PAGE_WORDS = ("bevelcraft", "saddlestitch", "edgeslicker")
PDF_WORD = PDF_PAGE_WORDS[1]  # on the second page
DOCX_BODY_WORD = "skivingknife"
DOCX_TABLE_WORD = "burnisher"
DOCX_HEADER_WORD = "letterpressed"
DOCX_FOOTER_WORD = "colophonic"
DOCX_WORD = DOCX_TABLE_WORD
XLSX_FIRST_SHEET_WORD = "latigoleather"
XLSX_SECOND_SHEET = "Suppliers"
XLSX_WORD = "chrometan"  # on the second sheet
CSV_WORD = "édgekote"
CSV_WORDS = ("Café", "€", CSV_WORD)
SVG_TITLE_WORD = "cartouchemark"
SVG_WORD = "stitchgroover"  # in a <tspan> of a <text>
PDF_PASSWORD = "hunter2"


# PDF: hand-built, so the suite needs no PDF writer. One Helvetica text object per page.

# The padding string of the PDF standard security handler (ISO 32000-1, 7.6.3.3).
_PDF_PAD = bytes.fromhex("28BF4E5E4E758A4164004E56FFFA01082E2E00B6D0683E802F0CA9FE6453697A")


def _rc4(key: bytes, data: bytes) -> bytes:
    state = list(range(256))
    j = 0
    for i in range(256):
        j = (j + state[i] + key[i % len(key)]) % 256
        state[i], state[j] = state[j], state[i]
    out = bytearray()
    i = j = 0
    for byte in data:
        i = (i + 1) % 256
        j = (j + state[i]) % 256
        state[i], state[j] = state[j], state[i]
        out.append(byte ^ state[(state[i] + state[j]) % 256])
    return bytes(out)


def _pdf_string(text: str) -> str:
    return "(" + text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ")"


def _page_stream(lines: list[str]) -> bytes:
    shown = " ".join(f"{_pdf_string(line)} '" for line in lines)
    return f"BT /F1 12 Tf 72 760 Td 14 TL {shown} ET".encode("cp1252")


def _security(password: str, file_id: bytes) -> tuple[bytes, bytes]:
    """RC4 40-bit security (revision 2): the file key and the /Encrypt dictionary."""
    padded = (password.encode() + _PDF_PAD)[:32]
    permissions = -44
    owner = _rc4(hashlib.md5(padded).digest()[:5], padded)  # noqa: S324 - the PDF format's hash
    key = hashlib.md5(  # noqa: S324 - the PDF format's hash
        padded + owner + struct.pack("<i", permissions) + file_id
    ).digest()[:5]
    user = _rc4(key, _PDF_PAD)
    encrypt = (
        f"<< /Filter /Standard /V 1 /R 2 /O <{owner.hex()}> /U <{user.hex()}> /P {permissions} >>"
    ).encode()
    return key, encrypt


def _stream(data: bytes) -> bytes:
    return b"<< /Length " + str(len(data)).encode() + b" >>\nstream\n" + data + b"\nendstream"


def pdf_document(pages: list[list[str]], *, password: str | None = None) -> bytes:
    """A valid PDF with one page per entry, each showing its lines in Helvetica."""
    objects: dict[int, bytes] = {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        3: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    }
    contents: dict[int, bytes] = {}
    kids = []
    for index, lines in enumerate(pages):
        page, content = 4 + 2 * index, 5 + 2 * index
        kids.append(f"{page} 0 R")
        objects[page] = (
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            f"/Resources << /Font << /F1 3 0 R >> >> /Contents {content} 0 R >>"
        ).encode()
        contents[content] = _page_stream(lines)
    objects[2] = f"<< /Type /Pages /Kids [{' '.join(kids)}] /Count {len(pages)} >>".encode()
    file_id = hashlib.md5(repr(pages).encode()).digest()  # noqa: S324 - an id, not security
    trailer = f"/ID [<{file_id.hex()}> <{file_id.hex()}>]"
    key = None
    if password is not None:
        key, objects[4 + 2 * len(pages)] = _security(password, file_id)
        trailer += f" /Encrypt {4 + 2 * len(pages)} 0 R"
    for number, data in contents.items():
        if key is not None:
            object_key = hashlib.md5(  # noqa: S324 - the PDF format's hash
                key + struct.pack("<i", number)[:3] + b"\x00\x00"
            ).digest()[:10]
            data = _rc4(object_key, data)
        objects[number] = _stream(data)
    return _pdf_file(objects, trailer)


def _pdf_file(objects: dict[int, bytes], trailer: str) -> bytes:
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    for number in sorted(objects):
        offsets[number] = len(out)
        out += f"{number} 0 obj\n".encode() + objects[number] + b"\nendobj\n"
    xref = len(out)
    size = max(objects) + 1
    out += f"xref\n0 {size}\n0000000000 65535 f \n".encode()
    for number in range(1, size):
        out += f"{offsets[number]:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {size} /Root 1 0 R {trailer} >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def pdf() -> bytes:
    """Three pages; PDF_PAGE_WORDS[n] is on page n + 1."""
    return pdf_document(
        [
            [f"Page one: the {PDF_PAGE_WORDS[0]} pattern", "Cut two pieces (left and right)."],
            [f"Page two: {PDF_PAGE_WORDS[1]} along the edge,", "four millimetres apart."],
            [f"Page three: finish with the {PDF_PAGE_WORDS[2]}."],
        ]
    )


def encrypted_pdf() -> bytes:
    """A PDF that opens only with PDF_PASSWORD."""
    return pdf_document([[f"Secret: {PDF_WORD}"]], password=PDF_PASSWORD)


def truncated_pdf() -> bytes:
    """The sample PDF cut off halfway, as an interrupted download leaves it."""
    whole = pdf()
    return whole[: len(whole) // 2]


def long_pdf(pages: int = 2000) -> bytes:
    """Thousands of pages full of text: seconds of work, far past a time limit of 0.2 s."""
    line = "line {} of page {} with a good many words of filler text to read"
    return pdf_document([[line.format(row, page) for row in range(50)] for page in range(pages)])


# Office files, written by the libraries the extractors read them with.


def _saved(document: WordDocument | Workbook) -> bytes:
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def docx_document() -> bytes:
    """A body paragraph, a table of two rows and two columns and a header and footer."""
    document = docx.Document()
    section = document.sections[0]
    section.header.paragraphs[0].text = f"Workshop {DOCX_HEADER_WORD} notes"
    section.footer.paragraphs[0].text = f"Page footer {DOCX_FOOTER_WORD}"
    document.add_paragraph(f"Thin the edges with a {DOCX_BODY_WORD} before gluing.")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text = "Tool"
    table.cell(0, 1).text = "Use"
    table.cell(1, 0).text = DOCX_TABLE_WORD.capitalize()
    table.cell(1, 1).text = "Polish the edge"
    return _saved(document)


def xlsx_workbook() -> bytes:
    """Two sheets: a price list, then XLSX_SECOND_SHEET holding XLSX_WORD."""
    workbook = Workbook()
    prices = workbook.active
    assert prices is not None
    prices.title = "Price list"
    prices.append(["sku", "name", "price"])
    prices.append(["W-1", f"Bifold wallet in {XLSX_FIRST_SHEET_WORD}", 49.0])
    suppliers = workbook.create_sheet(XLSX_SECOND_SHEET)
    suppliers.append(["supplier", "leather"])
    suppliers.append(["Horween", XLSX_WORD])
    return _saved(workbook)


# Text files.

_CSV_TEXT = f"sku;name;price\r\nW-1;Café wallet;49,00 €\r\nW-2;{CSV_WORD} edge paint;12,50 €\r\n"


def windows_1252_csv() -> bytes:
    """A CSV as Excel on a Western European Windows saves it: Windows-1252, semicolons."""
    return _CSV_TEXT.encode("cp1252")


def utf16_csv() -> bytes:
    """Excel's "Unicode text": UTF-16 little-endian with a byte-order mark, tab-separated."""
    return codecs.BOM_UTF16_LE + _CSV_TEXT.replace(";", "\t").encode("utf-16-le")


def utf8_bom_csv() -> bytes:
    """Excel's "CSV UTF-8": UTF-8 with a byte-order mark."""
    return codecs.BOM_UTF8 + _CSV_TEXT.encode("utf-8")


def binary_csv() -> bytes:
    """Plain CSV lines for 64 KiB, then binary: judged by its head alone it would pass."""
    lines = b"sku,name,price\n" + b"W-1,Bifold wallet,49.00\n" * 3000
    return lines + bytes(range(256)) * 16


def html_in_utf16_csv() -> bytes:
    """An HTML page in UTF-16, where a byte-wise search sees NULs between its letters."""
    page = "sku,name\r\nW-1,wallet\r\n<html><body><script>alert(1)</script></body></html>"
    return codecs.BOM_UTF16_LE + page.encode("utf-16-le")


def svg_drawing() -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<svg xmlns="http://www.w3.org/2000/svg" width="200" height="100">'
        f"<title>Maker's {SVG_TITLE_WORD}</title>"
        "<desc>Stamp for the inside of a wallet</desc>"
        '<rect width="200" height="100" fill="none" stroke="black"/>'
        '<text x="10" y="50">Groove with a <tspan font-weight="bold">'
        f"{SVG_WORD}</tspan> first</text>"
        "</svg>"
    ).encode()


# Hostile files.


def zip_bomb_xlsx(inflated_mb: int = 400) -> bytes:
    """A workbook of a few hundred KB whose one sheet inflates to `inflated_mb` MB.

    The sheet is one inline-string cell of repeated letters: a reader that believed it
    would hold the whole string in memory.
    """
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", _BOMB_CONTENT_TYPES)
        archive.writestr("_rels/.rels", _BOMB_ROOT_RELS)
        archive.writestr("xl/workbook.xml", _BOMB_WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", _BOMB_WORKBOOK_RELS)
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(
                b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                b'<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>'
            )
            block = b"A" * (1024 * 1024)
            for _ in range(inflated_mb):
                sheet.write(block)
            sheet.write(b"</t></is></c></row></sheetData></worksheet>")
    return buffer.getvalue()


_SPREADSHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml"
_BOMB_CONTENT_TYPES = (
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
    'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
    f'<Override PartName="/xl/workbook.xml" ContentType="{_SPREADSHEET}.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    f'ContentType="{_SPREADSHEET}.worksheet+xml"/></Types>'
)
_BOMB_ROOT_RELS = (
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
_BOMB_WORKBOOK = (
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_BOMB_WORKBOOK_RELS = (
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'
)


def billion_laughs_svg() -> bytes:
    """Ten levels of entities, each ten of the one below: 10⁹ "lol"s if expanded."""
    entities = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{level} "{f"&lol{level - 1};" * 10}">' for level in range(1, 10)
    ]
    return (
        '<?xml version="1.0"?>\n<!DOCTYPE svg [' + "".join(entities) + "]>\n"
        '<svg xmlns="http://www.w3.org/2000/svg"><text>&lol9;</text></svg>'
    ).encode()


def crowded_docx(paragraphs: int = 5_000_000) -> bytes:
    """The sample document with millions of short numbered paragraphs added to its body.

    Its XML inflates to about 180 MB at an ordinary ratio (15 to 1, no ZIP bomb), under a
    256 MB limit, but the parsed tree needs several times that: the parser runs out.
    """
    with zipfile.ZipFile(io.BytesIO(docx_document())) as source:
        parts = {item.filename: source.read(item) for item in source.infolist()}
    head, tail = parts.pop("word/document.xml").split(b"<w:body>", 1)
    # Longer than Deflate's 32 KB window, so repeating it does not compress like a bomb.
    block = b"".join(b"<w:p><w:r><w:t>%d</w:t></w:r></w:p>" % n for n in range(10_000))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
        with archive.open("word/document.xml", "w", force_zip64=True) as body:
            body.write(head + b"<w:body>")
            for _ in range(paragraphs // 10_000):
                body.write(block)
            body.write(tail)
    return buffer.getvalue()


def inflating_pdf(inflated_mb: int = 300) -> bytes:
    """One page whose content stream is a few hundred KB of Flate that inflates to
    `inflated_mb` MB: PDFium must hold it all to read the page, so it fails under a
    memory limit below that (and extracts, slowly, under a larger one)."""
    compressor = zlib.compressobj(9)
    chunks = [compressor.compress(b"BT /F1 12 Tf (x) Tj ET\n")]
    block = b" " * (1024 * 1024)
    chunks += [compressor.compress(block) for _ in range(inflated_mb)]
    chunks.append(compressor.flush())
    data = b"".join(chunks)
    objects = {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        2: b"<< /Type /Pages /Kids [4 0 R] /Count 1 >>",
        3: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        4: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        b"/Resources << /Font << /F1 3 0 R >> >> /Contents 5 0 R >>",
        5: b"<< /Length "
        + str(len(data)).encode()
        + b" /Filter /FlateDecode >>\nstream\n"
        + data
        + b"\nendstream",
    }
    return _pdf_file(objects, "")
