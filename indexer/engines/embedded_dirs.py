"""The embedded index on disk: its directories, the pointer to the one in use, and a note
of damage that every process on the machine can read.

Each index lives in its own directory under `<data>/index/`; the file `CURRENT` names
the one in use. A rebuild writes a `building-` directory, renames it `index-` and
replaces `CURRENT` atomically; open engines notice and reopen. An API process that
finds the index unreadable writes `DAMAGED` naming that directory, so the indexer (in
whatever process) rebuilds it from the database; a swap to a new directory ends it.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import shutil
import time
import uuid
from pathlib import Path
from typing import IO

log = logging.getLogger(__name__)

POINTER = "CURRENT"
DAMAGE_NOTE = "DAMAGED"
# A build holds an exclusive lock on this file in its directory until it ends; the lock
# goes with the process, so a build whose lock can be taken was abandoned (even kill -9).
BUILD_LOCK = ".building.lock"
# A directory so young may still be taking its lock.
BUILD_LOCK_GRACE_SECONDS = 60


class IndexMissing(Exception):
    """There is no index to open: `CURRENT` (or the whole index directory) is gone."""


class IndexDirectories:
    def __init__(self, root: Path) -> None:
        self.root = root

    @property
    def pointer(self) -> Path:
        return self.root / POINTER

    def current(self) -> Path:
        """The directory in use; IndexMissing when nothing names one."""
        try:
            name = self.pointer.read_text().strip()
        except FileNotFoundError as exc:
            raise IndexMissing(f"{self.pointer} is missing") from exc
        if not name:
            raise IndexMissing(f"{self.pointer} is empty")
        return self.root / name

    def stamp(self) -> tuple[int, int] | None:
        """Every swap replaces CURRENT by a new file: a new inode, whatever the clock says.
        None when it is missing."""
        try:
            status = self.pointer.stat()
        except FileNotFoundError:
            return None
        return status.st_ino, status.st_mtime_ns

    def is_new(self) -> bool:
        """Nothing was ever indexed here: no pointer and no index directory."""
        if not self.root.exists():
            return True
        return not self.pointer.exists() and not any(self.root.glob("index-*"))

    def create_first(self) -> None:
        """The first index of a new data dir. Several processes may start at once: a hard
        link creates CURRENT only if it does not exist yet, so exactly one of them wins."""
        self.root.mkdir(parents=True, exist_ok=True)
        directory = self.new_dir()
        staging = self.root / f"{POINTER}.{uuid.uuid4().hex}"
        staging.write_text(directory.name)
        try:
            os.link(staging, self.pointer)
        except FileExistsError:
            directory.rmdir()
        finally:
            staging.unlink()

    def new_dir(self) -> Path:
        directory = self.root / f"index-{uuid.uuid4().hex[:12]}"
        directory.mkdir(parents=True)
        return directory

    def building_dir(self) -> tuple[Path, IO[bytes]]:
        """A directory for a rebuild, with its lock held (close the file to release it)."""
        self.root.mkdir(parents=True, exist_ok=True)
        building = self.root / f"building-{uuid.uuid4().hex[:12]}"
        building.mkdir()
        lock = (building / BUILD_LOCK).open("wb")
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return building, lock

    def swap_in(self, building: Path) -> None:
        """Rename a finished `building-` directory to `index-` and point CURRENT at it,
        atomically."""
        directory = self.root / building.name.replace("building-", "index-", 1)
        os.rename(building, directory)
        staging = self.root / f"{POINTER}.{uuid.uuid4().hex}"
        staging.write_text(directory.name)
        os.replace(staging, self.pointer)

    def remove_stale(self) -> None:
        """Remove every index directory but the one in use, and abandoned builds."""
        try:
            current = self.current().name
        except IndexMissing:
            return
        for directory in self.root.glob("index-*"):
            if directory.name != current:
                shutil.rmtree(directory, ignore_errors=True)
        self.remove_abandoned_builds()

    def remove_abandoned_builds(self) -> None:
        """Remove the `building-` directories of rebuilds that ended without a swap."""
        for directory in self.root.glob("building-*"):
            if _abandoned(directory):
                shutil.rmtree(directory, ignore_errors=True)

    # -- damage ---------------------------------------------------------------

    def note_damage(self, directory: Path, reason: str) -> None:
        note = self.root / DAMAGE_NOTE
        if self.damage() is not None:
            return
        log.error("the embedded index in %s cannot be read: %s", directory, reason)
        staging = self.root / f"{DAMAGE_NOTE}.{uuid.uuid4().hex}"
        try:
            staging.write_text(f"{directory.name}\n{reason}")
            os.replace(staging, note)
        except OSError as exc:  # a full disk: the indexer still sees the failing reads
            log.warning("could not note the damage: %s", exc)

    def damage(self) -> str | None:
        """Why the directory in use cannot be read, if a process noted it."""
        try:
            name, _, reason = (self.root / DAMAGE_NOTE).read_text().partition("\n")
            current = self.current().name
        except (FileNotFoundError, IndexMissing):
            return None
        return reason if name == current else None


def _abandoned(building: Path) -> bool:
    try:
        lock = (building / BUILD_LOCK).open("rb")
    except FileNotFoundError:
        with contextlib.suppress(FileNotFoundError):
            return time.time() - building.stat().st_mtime > BUILD_LOCK_GRACE_SECONDS
        return False
    with lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False  # a live build holds it
        return True
