"""Whether a file's bytes are text, and in which encoding: one decision for uploads and search.

Spreadsheet programs write CSV in UTF-8 (often with a byte-order mark), in UTF-16 with
a byte-order mark ("Unicode text" in Excel) or in the machine's single-byte code page,
which in practice is Windows-1252. The whole file is judged, never a sample, so text
that turns into binary after the first kilobytes is refused as well.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterator
from pathlib import Path

CHUNK_BYTES = 1024 * 1024
# Tab, line feed, form feed and carriage return belong in text; other C0 controls do not.
# Counted in UTF-8 bytes, where bytes.translate does it many times faster than a regex.
_CONTROL_BYTES = bytes([*range(0x00, 0x09), 0x0B, *range(0x0E, 0x20)])
# One stray control character (a DOS end-of-file mark, say) is tolerated; more than
# one in a hundred characters means the bytes are not meant to be read as text.
CONTROLS_PER_HUNDRED = 1
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


class NotText(ValueError):
    """The bytes are binary, or no supported encoding reads them."""


def _chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK_BYTES):
            yield chunk


def decoded_chunks(path: Path, encoding: str) -> Iterator[str]:
    """The file's text in pieces, decoded with `encoding` (a codec name `text_encoding` chose)."""
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    for chunk in _chunks(path):
        if text := decoder.decode(chunk):
            yield text
    if text := decoder.decode(b"", final=True):
        yield text


def _decodes(path: Path, encoding: str) -> bool:
    """Whether every byte decodes with `encoding`; raises `NotText` when the text is binary."""
    characters = controls = 0
    try:
        for text in decoded_chunks(path, encoding):
            characters += len(text)
            encoded = text.encode("utf-8", "surrogatepass")
            controls += len(encoded) - len(encoded.translate(None, _CONTROL_BYTES))
    except UnicodeDecodeError:
        return False
    if controls > 1 and controls * 100 > characters * CONTROLS_PER_HUNDRED:
        raise NotText("the file holds control characters that text does not, so it is binary")
    return True


def _starts_with_bom(path: Path) -> str | None:
    with path.open("rb") as handle:
        head = handle.read(4)
    return next((encoding for bom, encoding in _BOMS if head.startswith(bom)), None)


def _holds_nul(path: Path) -> bool:
    return any(b"\x00" in chunk for chunk in _chunks(path))


def text_encoding(path: Path) -> str:
    """The codec that reads the whole file at `path` as text; raises `NotText` for binary.

    A byte-order mark decides (UTF-8 or UTF-16); without one, the file is UTF-8 when
    every byte sequence is valid UTF-8, otherwise Windows-1252, and Latin-1 for the few
    bytes Windows-1252 leaves undefined. A NUL byte without a UTF-16 mark is binary.
    """
    encoding = _starts_with_bom(path)
    if encoding is None and _holds_nul(path):
        raise NotText("the file holds NUL bytes, so it is binary")
    candidates = [encoding] if encoding else ["utf-8", "cp1252", "latin-1"]
    for candidate in candidates:
        if _decodes(path, candidate):
            return candidate
    raise NotText("the file is not text in UTF-8, UTF-16 or a single-byte encoding")
