"""Where uploads wait while they stream in: one staging directory per process.

Each process writes its uploads into a directory of its own under `files/.staging`,
holding an exclusive `flock` on the directory's lock file for as long as it lives.
The kernel drops that lock when the process ends, however it ends (kill -9 included),
so a directory whose lock can be taken belongs to no live process and may be swept,
while another worker's uploads, still streaming, are never touched.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from service.errors import InsufficientStorage, TooLarge

LOCK_NAME = ".lock"
# A directory is built under this prefix and renamed into place once its lock is held,
# so a sweeper never sees a directory whose lock is not taken yet.
_UNCLAIMED_PREFIX = ".new-"
DISK_FULL = (
    "The server's disk is full, so the upload could not be stored; nothing was kept. "
    "Try again once space has been freed."
)


def is_disk_full(exc: OSError) -> bool:
    return exc.errno in (errno.ENOSPC, errno.EDQUOT)


@contextlib.contextmanager
def disk_full_is_507() -> Iterator[None]:
    """Turn a write that meets a full disk (or quota) into a 507 with a sentence."""
    try:
        yield
    except OSError as exc:
        if is_disk_full(exc):
            raise InsufficientStorage(DISK_FULL) from exc
        raise


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
        with disk_full_is_507():
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
        try:
            with disk_full_is_507():
                self._file.write(chunk)
        except BaseException:
            self.discard()
            raise

    def finish(self) -> StagedFile:
        try:
            with disk_full_is_507():
                self._file.flush()
                os.fsync(self._file.fileno())
                self._file.close()
        except BaseException:
            self.discard()
            raise
        return StagedFile(self._path, self._size, self._hash.hexdigest(), bytes(self._head))

    def discard(self) -> None:
        # Closing flushes what is buffered, which fails again on a full disk; the file
        # goes either way.
        with contextlib.suppress(OSError):
            self._file.close()
        self._path.unlink(missing_ok=True)


def discard_quietly(staged: StagedFile) -> None:
    with contextlib.suppress(OSError):
        staged.path.unlink(missing_ok=True)


class StagingArea:
    """This process's staging directory, claimed by a lock it holds until `close`."""

    def __init__(self, staging_root: Path) -> None:
        staging_root.mkdir(parents=True, exist_ok=True)
        building = Path(tempfile.mkdtemp(dir=staging_root, prefix=_UNCLAIMED_PREFIX))
        self._lock_fd = os.open(building / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        self.directory = staging_root / f"{os.getpid()}-{building.name[len(_UNCLAIMED_PREFIX) :]}"
        building.rename(self.directory)

    def writer(self, *, limit: int) -> StagingWriter:
        return StagingWriter(self.directory, limit=limit)

    def close(self) -> None:
        """Remove the directory (only aborted uploads are left in it) and drop the lock."""
        shutil.rmtree(self.directory, ignore_errors=True)
        os.close(self._lock_fd)


def _owner_is_gone(directory: Path) -> bool:
    """Whether no live process holds the directory's lock (taking it for a moment)."""
    try:
        fd = os.open(directory / LOCK_NAME, os.O_RDWR)
    except FileNotFoundError:
        # Claimed directories always have a lock: this one is being swept, or was half
        # swept by a process that died; either way nobody writes into it.
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)  # also drops the lock if it was taken
    return True


def abandoned_directories(staging_root: Path) -> list[Path]:
    """Staging directories whose process has ended: what is in them will never finish."""
    if not staging_root.is_dir():
        return []
    return sorted(
        entry
        for entry in staging_root.iterdir()
        if entry.is_dir() and not entry.name.startswith(_UNCLAIMED_PREFIX) and _owner_is_gone(entry)
    )


def sweep_abandoned(staging_root: Path) -> list[Path]:
    """Remove the staging directories of processes that have ended; return them."""
    swept = abandoned_directories(staging_root)
    for directory in swept:
        shutil.rmtree(directory, ignore_errors=True)
    return swept


def unclaimed_leftovers(staging_root: Path, *, modified_before: float) -> list[Path]:
    """Staging entries no process can own, last changed before `modified_before` (a Unix
    time): upload files left in the one shared directory earlier versions wrote into, and
    directories of a process that died while claiming one (a live claim takes moments)."""
    if not staging_root.is_dir():
        return []
    leftovers = []
    for entry in staging_root.iterdir():
        claimed = entry.is_dir() and not entry.name.startswith(_UNCLAIMED_PREFIX)
        with contextlib.suppress(FileNotFoundError):
            if not claimed and entry.lstat().st_mtime < modified_before:
                leftovers.append(entry)
    return sorted(leftovers)
