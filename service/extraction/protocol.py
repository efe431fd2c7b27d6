"""What the parent and child say to each other, and how it travels.

Messages go in frames: a 4-byte big-endian length, then that much JSON. Lengths make a
frame's end unambiguous whatever the text holds, and let the parent read with a
deadline instead of blocking on a line. The child says "ready" once, then answers each
request with one result. A request is of a kind: `extract` (a path, its type and the
character budget) is answered with the text, `render` (a path and its type) with the
image's facts and both previews, base64 in the JSON.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import select
import struct
import time
from datetime import datetime
from pathlib import Path
from typing import BinaryIO, TypeVar

from service.extraction.rendition import RENDITION_STATUSES, Previews, Rendition
from service.extraction.result import STATUSES, Extraction

HEADER = struct.Struct(">I")
# A frame holds at most the text kept for one file plus JSON's escaping of it.
LARGEST_FRAME = 1 << 31
EXTRACT, RENDER = "extract", "render"
T = TypeVar("T")


class ChildGone(Exception):
    """The other end closed the pipe: the child exited or was killed."""


class TimedOut(Exception):
    """No whole frame arrived before the deadline."""


def encode(message: dict[str, object]) -> bytes:
    body = json.dumps(message, ensure_ascii=False).encode("utf-8")
    return HEADER.pack(len(body)) + body


def write_frame(stream: BinaryIO, message: dict[str, object]) -> None:
    stream.write(encode(message))
    stream.flush()


def read_frame_blocking(stream: BinaryIO) -> dict[str, object] | None:
    """The next frame from `stream`, or None at a clean end of input (the child's side)."""
    header = stream.read(HEADER.size)
    if not header:
        return None
    if len(header) < HEADER.size:
        raise ChildGone("the input ended inside a frame header")
    (length,) = HEADER.unpack(header)
    body = stream.read(length)
    if len(body) < length:
        raise ChildGone("the input ended inside a frame")
    return _decode(body)


def _read_exactly(fd: int, count: int, deadline: float) -> bytes:
    buffer = bytearray()
    while len(buffer) < count:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimedOut
        # poll, not select: a busy server's descriptors can be numbered past select's 1024.
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        if not poller.poll(max(1, round(remaining * 1000))):
            raise TimedOut
        chunk = os.read(fd, min(count - len(buffer), 1 << 20))
        if not chunk:
            raise ChildGone("the child closed its output")
        buffer += chunk
    return bytes(buffer)


def read_frame(fd: int, deadline: float) -> dict[str, object]:
    """The next frame from the pipe `fd`, waiting no later than `deadline` (monotonic)."""
    (length,) = HEADER.unpack(_read_exactly(fd, HEADER.size, deadline))
    if length > LARGEST_FRAME:
        raise ChildGone(f"the child sent a frame of {length} bytes")
    return _decode(_read_exactly(fd, length, deadline))


def _decode(body: bytes) -> dict[str, object]:
    try:
        message = json.loads(body)
    except ValueError as exc:
        raise ChildGone("a frame did not hold JSON") from exc
    if not isinstance(message, dict):
        raise ChildGone("a frame did not hold a JSON object")
    return message


def request(path: Path, *, file_type: str, max_chars: int) -> dict[str, object]:
    return {"kind": EXTRACT, "path": str(path), "file_type": file_type, "max_chars": max_chars}


def render_request(path: Path, *, file_type: str) -> dict[str, object]:
    return {"kind": RENDER, "path": str(path), "file_type": file_type}


def kind_of(message: dict[str, object]) -> str:
    return str(message.get("kind", EXTRACT))


def parse_request(message: dict[str, object]) -> tuple[Path, str, int]:
    """The path, file type and character budget of a request."""
    path, file_type, max_chars = message["path"], message["file_type"], message["max_chars"]
    if not (isinstance(path, str) and isinstance(file_type, str) and isinstance(max_chars, int)):
        raise ValueError(f"not a request: {message!r}")
    return Path(path), file_type, max_chars


def answer(result: Extraction, *, leaving: bool = False) -> dict[str, object]:
    """The child's answer; `leaving` says it exits after this one and wants no more."""
    return {
        "status": result.status,
        "text": result.text,
        "truncated": result.truncated,
        "error": result.error,
        "leaving": leaving,
    }


def parse_answer(message: dict[str, object]) -> Extraction:
    """The child's answer as an `Extraction`; one that makes no sense is a failure."""
    status = STATUSES.get(str(message.get("status")))
    text, error = message.get("text"), message.get("error")
    truncated = message.get("truncated")
    if (
        status is None
        or not isinstance(text, str)
        or not isinstance(truncated, bool)
        or not (error is None or isinstance(error, str))
    ):
        return Extraction.failed("The extraction process gave an answer that makes no sense.")
    return Extraction(status=status, text=text, truncated=truncated, error=error)


def parse_render_request(message: dict[str, object]) -> tuple[Path, str]:
    """The path and file type of a render request."""
    path, file_type = message["path"], message["file_type"]
    if not (isinstance(path, str) and isinstance(file_type, str)):
        raise ValueError(f"not a render request: {message!r}")
    return Path(path), file_type


def render_answer(
    result: Rendition, previews: Previews | None, *, leaving: bool = False
) -> dict[str, object]:
    """The child's answer to a render request; `leaving` as in `answer`."""
    return {
        "status": result.status,
        "error": result.error,
        "width": result.width,
        "height": result.height,
        "taken_at": None if result.taken_at is None else result.taken_at.isoformat(),
        "perceptual_hash": result.perceptual_hash,
        "small": None if previews is None else base64.b64encode(previews.small).decode(),
        "large": None if previews is None else base64.b64encode(previews.large).decode(),
        "leaving": leaving,
    }


class _Nonsense(Exception):
    """A field of the child's answer is missing or of the wrong type."""


def _optional(message: dict[str, object], name: str, kind: type[T]) -> T | None:
    value = message.get(name)
    if value is None:
        return None
    # JSON's true and false are never a field's value here, though bool is an int.
    if not isinstance(value, kind) or isinstance(value, bool):
        raise _Nonsense(name)
    return value


def _decoded(message: dict[str, object]) -> tuple[Rendition, Previews | None]:
    status = RENDITION_STATUSES.get(str(message.get("status")))
    if status is None:
        raise _Nonsense("status")
    taken = _optional(message, "taken_at", str)
    taken_at = None if taken is None else datetime.fromisoformat(taken)
    if taken_at is not None and taken_at.tzinfo is None:
        raise _Nonsense("taken_at")
    small, large = _optional(message, "small", str), _optional(message, "large", str)
    previews = None
    if small is not None and large is not None:
        previews = Previews(
            base64.b64decode(small, validate=True), base64.b64decode(large, validate=True)
        )
    if (status == "ready") != (previews is not None):
        raise _Nonsense("small")
    rendition = Rendition(
        status,
        _optional(message, "error", str),
        _optional(message, "width", int),
        _optional(message, "height", int),
        taken_at,
        _optional(message, "perceptual_hash", int),
    )
    return rendition, previews


def parse_render_answer(message: dict[str, object]) -> tuple[Rendition, Previews | None]:
    """The child's answer as a `Rendition` and, when ready, its previews; one that makes no
    sense is a failure."""
    try:
        return _decoded(message)
    except (_Nonsense, ValueError, binascii.Error):
        failed = Rendition.failed("The preview process gave an answer that makes no sense.")
        return failed, None
