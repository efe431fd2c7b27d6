"""Serving a stored file: streamed from disk, with ranges, ETag and a safe disposition."""

from __future__ import annotations

import unicodedata
from pathlib import Path
from urllib.parse import quote

from fastapi import Request, Response
from fastapi.responses import FileResponse, JSONResponse
from starlette.responses import MalformedRangeHeader, RangeNotSatisfiable

from store.models import MediaAsset


def content_disposition(file_name: str) -> str:
    """`attachment` with an ASCII `filename` and, for any other name, RFC 5987 `filename*`."""
    ascii_name = unicodedata.normalize("NFKD", file_name).encode("ascii", "ignore").decode("ascii")
    # NFKD can also produce path separators (a fullwidth slash becomes "/").
    unsafe = '"\\/'
    ascii_name = "".join(ch if ch.isprintable() and ch not in unsafe else "_" for ch in ascii_name)
    suffix = Path(file_name).suffix if Path(file_name).suffix.isascii() else ""
    stem = ascii_name.removesuffix(suffix) if suffix else ascii_name
    if not stem.strip(" ._"):
        # Nothing of the name survived (an emoji-only name): keep just its extension.
        ascii_name = f"download{suffix}"
    header = f'attachment; filename="{ascii_name}"'
    if ascii_name != file_name:
        header += f"; filename*=UTF-8''{quote(file_name, safe='')}"
    return header


def etag_matches(if_none_match: str, etag: str) -> bool:
    if if_none_match.strip() == "*":
        return True
    candidates = (tag.strip().removeprefix("W/") for tag in if_none_match.split(","))
    return etag in candidates


def _drop_header(request: Request, name: bytes) -> None:
    # FileResponse reads the request headers from the ASGI scope when it runs.
    request.scope["headers"] = [(k, v) for k, v in request.scope["headers"] if k.lower() != name]


def file_response(request: Request, asset: MediaAsset, path: Path) -> Response:
    etag = f'"{asset.checksum_sha256}"'
    headers = {
        # Exactly as stored: Starlette would otherwise claim utf-8 for any text/* file.
        "Content-Type": asset.content_type,
        "ETag": etag,
        "Content-Disposition": content_disposition(asset.file_name),
        "X-Content-Type-Options": "nosniff",
        # Opened in a browser tab, a file runs in no origin and with no script.
        "Content-Security-Policy": "sandbox",
        "Cache-Control": "private, no-cache",
    }
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None and etag_matches(if_none_match, etag):
        return Response(status_code=304, headers={k: headers[k] for k in ("ETag", "Cache-Control")})
    size = path.stat().st_size
    range_header = request.headers.get("range")
    if range_header is not None:
        try:
            FileResponse._parse_range_header(range_header, size)
        except MalformedRangeHeader:
            # RFC 9110: a Range header the server cannot parse is ignored (a 200 follows).
            _drop_header(request, b"range")
        except RangeNotSatisfiable:
            return JSONResponse(
                {"detail": f"The requested range is outside the file's {size} bytes."},
                status_code=416,
                headers={"Content-Range": f"bytes */{size}", "ETag": etag},
            )
    return FileResponse(path, media_type=asset.content_type, headers=headers)
