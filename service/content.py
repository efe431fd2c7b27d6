"""What a file really is: its type from the bytes where the format has a signature.

Signatures are recognised by the `filetype` library; formats without one (CSV, SVG)
are checked for being what their extension claims, so an HTML page named `.jpg`
or `.csv` is refused wherever in the file the page starts, a CSV must be text in an
encoding `text_encoding` reads (the whole file is judged), and an SVG that could run
script (`svg_safety`) is refused. The client's declared content type is never trusted.
"""

from __future__ import annotations

import mimetypes
import re
import zipfile
from pathlib import Path

import filetype

from service.errors import Unsupported
from service.svg_safety import active_content
from service.text_encoding import NotText, decoded_chunks, text_encoding

OOXML_TYPES = {
    ".docx": (
        "word/document.xml",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
    ".xlsx": (
        "xl/workbook.xml",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ),
}
# Extensions that name the same format as another one `filetype` knows.
ALIASES = {".jpeg": ".jpg", ".jpe": ".jpg", ".tif": ".tiff"}
# Legacy Office files share one container (OLE2 compound file); filetype names
# the container by the application it guesses, which is not reliable for .doc.
OLE2_EXTENSIONS = {".doc", ".xls", ".ppt"}
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
HTML_START = re.compile(rb"^\s*(<!doctype\s+html|<html|<head|<body|<script)", re.IGNORECASE)
# An HTML page anywhere in a text file: after a byte-order mark, a comment or any lines.
# Searched in decoded text, so a UTF-16 file cannot hide a page between NUL bytes.
HTML_ANYWHERE = re.compile(r"<!doctype\s+html|<(html|head|body|script|iframe)[\s>/]", re.IGNORECASE)
SCAN_OVERLAP = 64  # longer than any marker, so none is cut between two chunks
SVG_ROOT = re.compile(rb"<svg[\s>]", re.IGNORECASE)
MARKUP_TEXT_TYPES = {".html", ".htm", ".xml", ".svg"}
PLAIN_TEXT_TYPES = {".csv", ".txt"}


def content_type_for_extension(extension: str) -> str:
    """The media type an extension implies when there are no bytes to look at."""
    if extension in OOXML_TYPES:
        return OOXML_TYPES[extension][1]
    guessed, _ = mimetypes.guess_type(f"file{extension}", strict=False)
    return guessed or "application/octet-stream"


def check_allowed(extension: str, allowed: frozenset[str]) -> None:
    if extension not in allowed:
        listed = ", ".join(sorted(allowed))
        shown = extension or "no extension"
        raise Unsupported(f"File type {shown} is not allowed; allowed types are: {listed}.")


def _signature_extension(extension: str) -> str | None:
    """The extension `filetype` would report for this format, if it has a signature."""
    canonical = ALIASES.get(extension, extension)
    known = {matcher.extension for matcher in filetype.types}
    return canonical if canonical.lstrip(".") in known else None


def _looks_like_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the end of the sample is still text.
        return exc.start >= len(head) - 3
    return True


def _holds_html(path: Path, encoding: str) -> bool:
    tail = ""
    for text in decoded_chunks(path, encoding):
        if HTML_ANYWHERE.search(tail + text):
            return True
        tail = text[-SCAN_OVERLAP:]
    return False


def _check_plain_text(extension: str, path: Path) -> None:
    """A CSV or text file must be text from its first byte to its last, and no HTML page."""
    try:
        encoding = text_encoding(path)
    except NotText as exc:
        raise _contradiction(extension) from exc
    if _holds_html(path, encoding):
        raise _contradiction(extension)


def _contradiction(extension: str) -> Unsupported:
    return Unsupported(f"The file's content does not match its {extension} extension.")


def detect_content_type(*, extension: str, head: bytes, path: Path) -> str:
    """The media type of the file at `path` (first bytes in `head`), or 415 on a mismatch."""
    if extension in OOXML_TYPES:
        part, media_type = OOXML_TYPES[extension]
        try:
            with zipfile.ZipFile(path) as archive:
                names = set(archive.namelist())
        except Exception as exc:  # any container zipfile cannot read is not a real .docx/.xlsx
            raise _contradiction(extension) from exc
        if part not in names:
            raise _contradiction(extension)
        return media_type

    guessed = filetype.guess(head)
    if extension in OLE2_EXTENSIONS:
        if not head.startswith(OLE2_MAGIC):
            raise _contradiction(extension)
        return content_type_for_extension(extension)

    expected = _signature_extension(extension)
    if expected is not None:
        if guessed is None or f".{guessed.extension}" != expected:
            raise _contradiction(extension)
        return str(guessed.mime)

    # No signature for this format: bytes that have another format's signature,
    # or markup where the format is not markup, contradict the extension.
    if guessed is not None:
        raise _contradiction(extension)
    if extension == ".svg":
        if not _looks_like_text(head) or not SVG_ROOT.search(head):
            raise _contradiction(extension)
        problem = active_content(path)
        if problem is not None:
            raise Unsupported(f"The SVG file is refused: {problem}.")
        return content_type_for_extension(extension)
    if extension in PLAIN_TEXT_TYPES:
        _check_plain_text(extension, path)
        return content_type_for_extension(extension)
    if extension not in MARKUP_TEXT_TYPES and _looks_like_text(head) and HTML_START.match(head):
        raise _contradiction(extension)
    return content_type_for_extension(extension)
