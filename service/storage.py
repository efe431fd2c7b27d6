"""Where file bytes live: the storage interface and its local filesystem implementation.

Uploads are written to a staging file first (hashed and counted as they arrive),
then promoted under a fresh storage key. Keys are generated here, never taken from
clients, so a client's file name can never become a path.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from service.errors import TooLarge

log = logging.getLogger(__name__)


@dataclass
class StagedFile:
    """An upload received in full: where it waits, its size, its sha256 and first bytes."""

    path: Path
    size: int
    sha256: str
    head: bytes


class StagingWriter:
    """Receives an upload chunk by chunk into a temporary file, refusing it past `limit` bytes."""

    HEAD_BYTES = 8192

    def __init__(self, directory: Path, *, limit: int) -> None:
        fd, name = tempfile.mkstemp(dir=directory, prefix="upload-", suffix=".part")
        self._file = os.fdopen(fd, "wb")
        self._path = Path(name)
        self._limit = limit
        self._size = 0
        self._hash = hashlib.sha256()
        self._head = bytearray()

    def write(self, chunk: bytes) -> None:
        self._size += len(chunk)
        if self._size > self._limit:
            self.discard()
            raise TooLarge(
                f"The file is larger than the maximum upload size of {self._limit} bytes."
            )
        if len(self._head) < self.HEAD_BYTES:
            self._head += chunk[: self.HEAD_BYTES - len(self._head)]
        self._hash.update(chunk)
        self._file.write(chunk)

    def finish(self) -> StagedFile:
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        return StagedFile(self._path, self._size, self._hash.hexdigest(), bytes(self._head))

    def discard(self) -> None:
        self._file.close()
        self._path.unlink(missing_ok=True)


class Storage(Protocol):
    """What the service needs from a place that keeps file bytes."""

    def stage(self, *, limit: int) -> StagingWriter: ...

    def promote(self, staged: StagedFile, *, extension: str) -> str:
        """Move a staged file into place; return its new storage key."""
        ...

    def path_of(self, key: str) -> Path | None:
        """The readable path of a stored file, or None when it is missing."""
        ...

    def delete(self, key: str) -> None: ...


class LocalStorage:
    """Files under one root directory, sharded by the first two hex digits of the key."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.staging_dir = root / ".staging"
        self.staging_dir.mkdir(parents=True, exist_ok=True)
        self._sweep_staging()

    def _sweep_staging(self) -> None:
        # Staging files only outlive a request when the process died mid-upload.
        for leftover in self.staging_dir.glob("upload-*.part"):
            leftover.unlink(missing_ok=True)

    def stage(self, *, limit: int) -> StagingWriter:
        return StagingWriter(self.staging_dir, limit=limit)

    def promote(self, staged: StagedFile, *, extension: str) -> str:
        name = uuid.uuid4().hex
        key = f"{name[:2]}/{name}{extension}"
        target = self.root / key
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staged.path, target)
        return key

    def _resolve(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root.resolve()):
            raise ValueError(f"storage key {key!r} points outside the storage root")
        return path

    def path_of(self, key: str) -> Path | None:
        path = self._resolve(key)
        return path if path.is_file() else None

    def delete(self, key: str) -> None:
        try:
            self._resolve(key).unlink(missing_ok=True)
        except OSError:
            # The record is already gone; an undeletable file is logged, not surfaced.
            log.exception("could not delete stored file %s", key)


def discard_quietly(staged: StagedFile) -> None:
    with contextlib.suppress(OSError):
        staged.path.unlink(missing_ok=True)
