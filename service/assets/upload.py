"""Reading a multipart upload as it streams in, straight into a staging file.

Starlette's form parser would spool the whole file before the route runs; this
reads the body chunk by chunk, hashes and counts the file part as it arrives, and
stops with 413 the moment it passes the size limit, so an oversized upload is
never held in memory or kept on disk.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from anyio import to_thread
from fastapi import Request
from fastapi.exceptions import RequestValidationError
from python_multipart.exceptions import FormParserError, MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from service.assets.schemas import MAX_TAG_IDS
from service.errors import InsufficientStorage, TooLarge
from service.links.schemas import LINK_TEXT_STAND_IN, MAX_LINKS
from service.staging import StagedFile, StagingWriter
from service.storage import Storage
from service.text_rules import WHITESPACE, char_class

FILE_FIELD = "file"
TAG_IDS_FIELD = "tag_ids"
LINKS_FIELD = "links"
# Everything but the file is small: tag ids and links (1,000 of each at most, a link up to
# about 450 bytes). Bound it so fields cannot eat memory.
MAX_FIELD_BYTES = 512 * 1024
# Multipart framing around the file: boundaries, part headers and the other fields.
ENVELOPE_ALLOWANCE = 1024 * 1024
# The file, up to 1,000 tag ids and up to 1,000 links sent as repeated fields, with room
# to spare: a body of millions of empty parts costs CPU and memory however few bytes
# each one has.
MAX_PARTS = 2100
MAX_HEADER_BYTES = 16 * 1024  # the headers of one part

_SPACE = char_class(WHITESPACE)
_UUID = "-".join(f"[0-9a-fA-F]{{{size}}}" for size in (8, 4, 4, 4, 12))
# What `_split_tag_ids` reads from one field: ids separated by commas, each maybe padded;
# empty pieces are skipped.
TAG_IDS_FIELD_PATTERN = f"^{_SPACE}*(?:{_UUID}{_SPACE}*)?(?:,{_SPACE}*(?:{_UUID}{_SPACE}*)?)*$"

# A `filename*=` parameter in a Content-Disposition header (RFC 6266's extended name).
_EXTENDED_FILENAME = re.compile(rb";\s*filename\*\s*=", re.IGNORECASE)

_FILE_SCHEMA = {"type": "string", "format": "binary"}
_TAG_IDS_SCHEMA = {
    "type": "array",
    "description": "Tag ids: repeated fields, or comma-separated.",
    "maxItems": MAX_TAG_IDS,
    "items": {"type": "string", "pattern": TAG_IDS_FIELD_PATTERN},
}


def _multipart(properties: dict[str, Any]) -> dict[str, Any]:
    """The schema FastAPI cannot infer for a hand-parsed body, so /docs and clients see
    it. Other form fields are ignored."""
    schema = {"type": "object", "required": [FILE_FIELD], "properties": properties}
    return {
        "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": schema}}}
    }


_LINKS_SCHEMA = {
    "type": "array",
    "description": "Links, one `entity_type:entity_id` per field (the id may hold `:`).",
    "maxItems": MAX_LINKS,
    # Each app states its own link types in place of the stand-in (state_link_types).
    "items": {"type": "string", "pattern": LINK_TEXT_STAND_IN},
}

UPLOAD_OPENAPI = _multipart(
    {FILE_FIELD: _FILE_SCHEMA, TAG_IDS_FIELD: _TAG_IDS_SCHEMA, LINKS_FIELD: _LINKS_SCHEMA}
)
# A replaced file keeps the asset's tags and links: those are ignored fields there.
REPLACE_OPENAPI = _multipart({FILE_FIELD: _FILE_SCHEMA})


@dataclass
class ReceivedUpload:
    """The file of an upload, staged on disk, with the name the client gave it."""

    staged: StagedFile
    client_file_name: str
    tag_ids: list[str] = field(default_factory=list)
    # `type:id` each, as sent (the service parses them).
    links: list[str] = field(default_factory=list)


def body_error(
    field_name: str, message: str, *, kind: str = "value_error"
) -> RequestValidationError:
    """A 422 in FastAPI's standard list shape, for a body that FastAPI did not parse."""
    return RequestValidationError(
        [{"type": kind, "loc": ("body", field_name), "msg": message, "input": None}]
    )


class _UploadCollector:
    """The parser's callbacks: the file part goes to staging, small fields to memory."""

    def __init__(self, storage: Storage, limit: int) -> None:
        self._storage = storage
        self._limit = limit
        self._header_name = b""
        self._header_value = b""
        self._disposition = b""
        self._part_name: str | None = None
        self._part_buffer: bytearray | None = None
        self._field_bytes = 0
        self._parts = 0
        self._header_bytes = 0
        self.writer: StagingWriter | None = None
        self.file_name: str | None = None
        self.file_done = False
        self.fields: dict[str, list[str]] = {}

    def callbacks(self) -> dict[str, Any]:
        return {
            "on_part_begin": self._part_begin,
            "on_header_field": self._header_field,
            "on_header_value": self._header_value_data,
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_part_data": self._part_data,
            "on_part_end": self._part_end,
        }

    def _part_begin(self) -> None:
        self._parts += 1
        if self._parts > MAX_PARTS:
            raise body_error("multipart", f"An upload has at most {MAX_PARTS} parts.")
        self._header_bytes = 0
        self._disposition = b""
        self._part_name = None
        self._part_buffer = None

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._count_header(end - start)
        self._header_name += data[start:end]

    def _header_value_data(self, data: bytes, start: int, end: int) -> None:
        self._count_header(end - start)
        self._header_value += data[start:end]

    def _count_header(self, size: int) -> None:
        self._header_bytes += size
        if self._header_bytes > MAX_HEADER_BYTES:
            raise body_error("multipart", "The headers of a multipart part are too large.")

    def _header_end(self) -> None:
        if self._header_name.lower() == b"content-disposition":
            self._disposition = self._header_value
        self._header_name = b""
        self._header_value = b""

    def _headers_finished(self) -> None:
        _, options = parse_options_header(self._disposition)
        name = options.get(b"name")
        if name is None:
            raise body_error("multipart", "Every multipart part needs a Content-Disposition name.")
        self._part_name = name.decode("utf-8", "replace")
        only_extended = b"filename" not in options and _EXTENDED_FILENAME.search(self._disposition)
        if self._part_name == FILE_FIELD and only_extended:
            # RFC 7578 (4.2) leaves `filename*` out of multipart/form-data, and the part
            # would otherwise read as a form field and the file as missing.
            raise body_error(
                FILE_FIELD,
                "The file part names its file only by filename*, which "
                'multipart/form-data does not use: send the name as filename="…" in UTF-8.',
            )
        if self._part_name == FILE_FIELD and b"filename" in options:
            if self.writer is not None:
                raise body_error(FILE_FIELD, "Send exactly one file per upload.")
            try:
                self.file_name = options[b"filename"].decode("utf-8")
            except UnicodeDecodeError as exc:
                raise body_error(
                    FILE_FIELD,
                    "The file's name is not UTF-8 text (byte "
                    f"0x{options[b'filename'][exc.start]:02x} at {exc.start}): send the name "
                    "in UTF-8, as browsers do.",
                ) from exc
            self.writer = self._storage.stage(limit=self._limit)
        else:
            self._part_buffer = bytearray()

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        chunk = data[start:end]
        if self._part_buffer is None:
            assert self.writer is not None
            self.writer.write(chunk)
            return
        self._field_bytes += len(chunk)
        if self._field_bytes > MAX_FIELD_BYTES:
            raise body_error("multipart", "The form fields besides the file are too large.")
        self._part_buffer += chunk

    def _part_end(self) -> None:
        if self._part_buffer is None:
            self.file_done = True
            return
        assert self._part_name is not None
        value = bytes(self._part_buffer).decode("utf-8", "replace")
        self.fields.setdefault(self._part_name, []).append(value)


def _split_tag_ids(values: list[str]) -> list[str]:
    # Repeated fields are the contract; a comma-separated single field is accepted too.
    return [piece.strip() for value in values for piece in value.split(",") if piece.strip()]


async def receive_upload(request: Request, storage: Storage, *, limit: int) -> ReceivedUpload:
    """Parse a multipart/form-data body with one `file` part and optional `tag_ids` and
    `links` fields."""
    content_type, params = parse_options_header(request.headers.get("content-type"))
    boundary = params.get(b"boundary")
    if content_type != b"multipart/form-data" or not boundary:
        raise body_error(FILE_FIELD, "The upload must be a multipart/form-data body with a file.")
    declared_length = request.headers.get("content-length", "")
    if declared_length.isdigit() and int(declared_length) > limit + ENVELOPE_ALLOWANCE:
        raise TooLarge(f"The file is larger than the maximum upload size of {limit} bytes.")

    collector = _UploadCollector(storage, limit)
    try:
        parser = MultipartParser(boundary, collector.callbacks())  # type: ignore[arg-type]
    except FormParserError as exc:
        raise body_error("multipart", f"The multipart boundary is not usable: {exc}.") from exc
    received = 0
    chunks = request.stream()
    try:
        async for chunk in chunks:
            # Counted as it arrives: a chunked body declares no length to check up front.
            received += len(chunk)
            if received > limit + ENVELOPE_ALLOWANCE:
                raise TooLarge(f"The file is larger than the maximum upload size of {limit} bytes.")
            if chunk:
                # Hashing and disk writes stay off the event loop.
                await to_thread.run_sync(parser.write, chunk)
        parser.finalize()
    except MultipartParseError as exc:
        _discard(collector)
        raise body_error("multipart", f"The multipart body is malformed: {exc}.") from exc
    except InsufficientStorage:
        _discard(collector)
        await _drain(chunks, received=received, limit=limit + ENVELOPE_ALLOWANCE)
        raise
    except BaseException:
        _discard(collector)
        raise

    if collector.writer is None or not collector.file_done:
        _discard(collector)
        raise body_error(FILE_FIELD, "Field required", kind="missing")
    fields = collector.fields.get(TAG_IDS_FIELD, [])
    tag_ids = _split_tag_ids(fields)
    # The cap of the JSON routes, on the fields (what the schema can state) and the ids.
    if max(len(fields), len(tag_ids)) > MAX_TAG_IDS:
        _discard(collector)
        raise body_error(TAG_IDS_FIELD, f"An upload names at most {MAX_TAG_IDS} tag ids.")
    links = collector.fields.get(LINKS_FIELD, [])
    if len(links) > MAX_LINKS:
        _discard(collector)
        raise body_error(LINKS_FIELD, f"An upload names at most {MAX_LINKS} links.")
    return ReceivedUpload(
        staged=collector.writer.finish(),
        client_file_name=collector.file_name or "",
        tag_ids=tag_ids,
        links=links,
    )


async def _drain(chunks: AsyncIterator[bytes], *, received: int, limit: int) -> None:
    """Read the rest of a body this upload will not keep, up to the size limit.

    A server that answers while the client is still sending, then closes, makes the
    client's next write meet a reset instead of the answer: a full disk should read as a
    507, not a dropped connection. Past the limit the client gets the reset after all.
    """
    async for chunk in chunks:
        received += len(chunk)
        if received > limit:
            return


def _discard(collector: _UploadCollector) -> None:
    if collector.writer is not None:
        with contextlib.suppress(OSError):
            collector.writer.discard()
