"""Malformed request bodies that once got a 5xx (issue 11, items 9 and 10), for any client:
test_edge_inputs sends them to an app of its own, test_schemathesis to the app it fuzzes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

JSON = "application/json"


@dataclass(frozen=True)
class RawBody:
    """A request whose body no JSON encoder would write, and the 422 it must get."""

    method: str
    path: str
    body: bytes
    content_type: str = JSON


def undecodable_bodies(tag_id: str, asset_id: str) -> list[RawBody]:
    """Lone surrogates (in every text field that is stored), NaN and infinities, and bytes
    that are not UTF-8: each is a 422 with FastAPI's list of errors."""
    return [
        RawBody("POST", "/api/tags", b'{"name": "x\\ud800"}'),
        RawBody("PUT", f"/api/tags/{tag_id}", b'{"description": "x\\udfff"}'),
        RawBody("POST", "/api/media-assets", b'{"file_name": "x\\ud800.pdf"}'),
        RawBody("POST", "/api/media-assets", b'{"file_name": "a.pdf", "uploaded_by": "\\udc00"}'),
        RawBody("PUT", f"/api/media-assets/{asset_id}", b'{"file_name": "\\ud800.pdf"}'),
        RawBody("POST", "/api/tags", b'{"name": NaN}'),
        RawBody("POST", "/api/tags", b'{"name": "a", "color": Infinity}'),
        RawBody("POST", "/api/tags", b"\xff", "application/octet-stream"),
        RawBody("POST", "/api/tags", b"\xff\xfe"),
    ]


# Past python-multipart's limit of 256 characters.
LONG_BOUNDARY = "b" * 300


def long_boundary_upload() -> RawBody:
    return RawBody(
        "POST",
        "/api/media-assets/upload",
        f"--{LONG_BOUNDARY}\r\n".encode(),
        f"multipart/form-data; boundary={LONG_BOUNDARY}",
    )


EMPTY_FIELDS_CONTENT_TYPE = "multipart/form-data; boundary=x"


def many_empty_fields(count: int = 20_000) -> Iterator[bytes]:
    """A multipart upload, meant to be sent chunked, whose file comes after `count` empty
    form fields: cheap in bytes, dear in parser callbacks."""
    part = b'--x\r\nContent-Disposition: form-data; name="f"\r\n\r\n\r\n'
    for _ in range(count // 10):
        yield part * 10
    yield b'--x\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n\r\n'
    yield b"a,b\r\n1,2\r\n--x--\r\n"


def bare_tag_id_array(tag_id: str, count: int) -> bytes:
    """The add- and remove-tags body as a bare JSON array of `count` ids."""
    return json.dumps([tag_id] * count).encode()
