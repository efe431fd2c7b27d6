"""What the parent and child say to each other, and how it travels.

Messages go in frames: a 4-byte big-endian length, then that much JSON. Lengths make a
frame's end unambiguous whatever the text holds, and let the parent read with a
deadline instead of blocking on a line. The child says "ready" once, then answers each
request (a path, its type and the character budget) with one extraction.
"""

from __future__ import annotations

import json
import os
import select
import struct
import time
from pathlib import Path
from typing import BinaryIO

from service.extraction.result import STATUSES, Extraction

HEADER = struct.Struct(">I")
# A frame holds at most the text kept for one file plus JSON's escaping of it.
LARGEST_FRAME = 1 << 31


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
    return {"path": str(path), "file_type": file_type, "max_chars": max_chars}


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
