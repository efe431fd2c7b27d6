"""The one decision on whether bytes are text, and in which encoding (uploads and extraction)."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from service.text_encoding import CHUNK_BYTES, NotText, decoded_chunks, text_encoding


def written(tmp_path: Path, content: bytes) -> Path:
    path = tmp_path / "file.csv"
    path.write_bytes(content)
    return path


@pytest.mark.parametrize(
    ("content", "encoding", "text"),
    [
        ("Café;€\n".encode(), "utf-8", "Café;€\n"),
        (codecs.BOM_UTF8 + "Café\n".encode(), "utf-8-sig", "Café\n"),
        (codecs.BOM_UTF16_LE + "Café\n".encode("utf-16-le"), "utf-16", "Café\n"),
        (codecs.BOM_UTF16_BE + "Café\n".encode("utf-16-be"), "utf-16", "Café\n"),
        ("Café;€\n".encode("cp1252"), "cp1252", "Café;€\n"),
        # 0x81 is undefined in Windows-1252: Latin-1 reads every byte.
        (b"Caf\xe9 \x81\n", "latin-1", "Café \x81\n"),
        (b"", "utf-8", ""),
        # One stray control character (a DOS end-of-file mark) does not make a file binary.
        (b"sku,name\nW-1,wallet\n\x1a", "utf-8", "sku,name\nW-1,wallet\n\x1a"),
    ],
)
def test_text_is_recognised_and_decoded(
    tmp_path: Path, content: bytes, encoding: str, text: str
) -> None:
    path = written(tmp_path, content)
    assert text_encoding(path) == encoding
    assert "".join(decoded_chunks(path, encoding)) == text


def test_a_character_cut_between_two_chunks_is_still_utf8(tmp_path: Path) -> None:
    content = b"a" * (CHUNK_BYTES - 1) + "é".encode() + b"\n"
    assert text_encoding(written(tmp_path, content)) == "utf-8"


@pytest.mark.parametrize(
    "content",
    [
        b"sku,name\n" * 10_000 + b"\x00",  # a NUL far past any head that might be sampled
        "sku,name\n".encode("utf-16-le"),  # UTF-16 without its byte-order mark
        bytes(range(1, 32)) * 10,
        b"\x1b[31m" * 100 + b"red\n",
        codecs.BOM_UTF16_LE + b"\x00\xd8",  # a lone surrogate
    ],
)
def test_binary_is_not_text(tmp_path: Path, content: bytes) -> None:
    with pytest.raises(NotText):
        text_encoding(written(tmp_path, content))
