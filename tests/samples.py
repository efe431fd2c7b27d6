"""Small real files of each allowed type, made in memory for upload tests."""

from __future__ import annotations

import io
import struct
import uuid
import zipfile
import zlib
from collections.abc import Sequence
from datetime import UTC, datetime

from indexer.documents import SearchDocument
from indexer.query import list_item
from store.links import link_key


def png(width: int = 2, height: int = 2) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    rows = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def jpeg() -> bytes:
    # SOI, a JFIF APP0 segment, EOI: enough for signature detection.
    app0 = b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    return b"\xff\xd8\xff\xe0" + struct.pack(">H", len(app0) + 2) + app0 + b"\xff\xd9"


def gif() -> bytes:
    return b"GIF89a\x01\x00\x01\x00\x00\x00\x00;"


def pdf() -> bytes:
    return b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _zip(parts: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def docx() -> bytes:
    return _zip(
        {
            "[Content_Types].xml": b"<Types/>",
            "_rels/.rels": b"<Relationships/>",
            "word/document.xml": b"<w:document/>",
        }
    )


def xlsx() -> bytes:
    return _zip(
        {
            "[Content_Types].xml": b"<Types/>",
            "_rels/.rels": b"<Relationships/>",
            "xl/workbook.xml": b"<workbook/>",
        }
    )


def plain_zip() -> bytes:
    return _zip({"notes.txt": b"just a zip"})


def doc() -> bytes:
    # The OLE2 compound file header that every legacy Office file starts with.
    return b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 1024


def csv() -> bytes:
    # No word the search tests look for: once its text is extracted, a search for a name
    # word must not find it by its content.
    return b"sku,name,price\nK-1,Key fob,12.00\n"


def svg() -> bytes:
    return b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"/>'


def html() -> bytes:
    return b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"


def search_document(
    doc_id: str | None = None,
    *,
    uploaded_by: str = "alice",
    file_type: str = ".pdf",
    links: Sequence[tuple[str, str]] = (),
) -> SearchDocument:
    """A search document as the indexer would build it, for tests of the engines alone."""
    doc_id = doc_id or str(uuid.uuid4())
    links = sorted(set(links))
    moment = datetime(1970, 1, 1, 0, 0, 0, 1, tzinfo=UTC)
    fields: dict[str, object] = {
        "id": doc_id,
        "file_name": "rivet.pdf",
        "file_type": file_type,
        "content_type": "application/pdf",
        "storage_location": None,
        "file_size_bytes": 1,
        "checksum_sha256": None,
        "uploaded_at": moment,
        "uploaded_by": uploaded_by,
        "created_at": moment,
        "updated_at": moment,
        "content": {"status": "empty", "characters": 0, "error": None},
        "preview": {"status": "none"},
        "image": None,
        "links": [{"entity_type": kind, "entity_id": key} for kind, key in links],
    }
    return SearchDocument(
        id=doc_id,
        file_name="rivet.pdf",
        file_type=file_type,
        content_type="application/pdf",
        uploaded_by=uploaded_by,
        file_size_bytes=1,
        uploaded_at=1,
        created_at=1,
        updated_at=1,
        tag_ids=[],
        tag_names=[],
        content="",
        orientation=None,
        links=[link_key(link) for link in links],
        entity_types=sorted({kind for kind, _ in links}),
        item=list_item(fields, []),
    )
