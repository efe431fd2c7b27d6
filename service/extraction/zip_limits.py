"""Refusing Office files whose parts would decompress past what extraction should read.

DOCX and XLSX are ZIP archives of XML. Python's `zipfile` never produces more bytes than
a member's declared size (it stops there and fails the checksum), so the declared sizes
bound what the parsers can be fed: a ZIP bomb is refused from the archive's directory,
before a byte is inflated, rather than left to run into the memory or time limit
(where, given a generous limit, it would only cost minutes and end as text).
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from service.extraction.result import Unreadable

KB = 1024
MB = 1024 * KB
# Real spreadsheets and documents deflate 5 to 20 times (a sheet of 300,000 identical
# rows: 17, the cell references differ); a bomb of repeated bytes, about 1,000.
BOMB_RATIO = 100
# Below this, a part fits in memory whatever its ratio.
SMALL_PART_BYTES = 16 * MB


def _size(count: int) -> str:
    return f"{count // MB:,} MB" if count >= MB else f"{count // KB:,} KB"


def check_inflated_size(path: Path, *, limit_bytes: int, kind: str) -> None:
    """Raise `Unreadable` when the archive is not a ZIP, looks like a ZIP bomb, or would
    inflate to more than `limit_bytes` in all."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise Unreadable(f"The {kind} file is damaged: it is not a readable ZIP archive.") from exc
    for member in members:
        if member.file_size > SMALL_PART_BYTES and member.file_size > BOMB_RATIO * max(
            member.compress_size, 1
        ):
            raise Unreadable(
                f"The {kind} file looks like a ZIP bomb: its part {member.filename} would "
                f"decompress from {_size(member.compress_size)} to {_size(member.file_size)}."
            )
    inflated = sum(member.file_size for member in members)
    if inflated > limit_bytes:
        raise Unreadable(
            f"The {kind} file would decompress to {_size(inflated)}, more than the "
            f"{_size(limit_bytes)} extraction may use."
        )
