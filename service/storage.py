"""Where file bytes live: the storage interface and its local filesystem implementation.

Uploads are written to a staging file first (hashed and counted as they arrive; see
`service.staging`), then promoted under a fresh storage key. Keys are generated here,
never taken from clients, so a client's file name can never become a path.
"""

from __future__ import annotations

import logging
import os
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from service.errors import InsufficientStorage
from service.staging import (
    StagedFile,
    StagingArea,
    StagingWriter,
    disk_full_is_507,
    sweep_abandoned,
)

log = logging.getLogger(__name__)

STAGING_DIR_NAME = ".staging"


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
        staging_root = root / STAGING_DIR_NAME
        # Only the staging of processes that have ended: other workers may be receiving.
        for swept in sweep_abandoned(staging_root):
            log.info("removed the staging directory of an ended process: %s", swept)
        self._staging_root = staging_root
        self._staging: StagingArea | None = None
        self._claiming = threading.Lock()
        try:
            self._staging_area()
        except InsufficientStorage:
            # Start anyway on a full disk: reads and deletes still work, and /readyz says
            # why uploads fail. The directory is claimed by the first upload that fits.
            log.warning("no room for a staging directory in %s at start-up", staging_root)

    def _staging_area(self) -> StagingArea:
        with self._claiming:
            if self._staging is None:
                with disk_full_is_507():
                    self._staging = StagingArea(self._staging_root)
            return self._staging

    def close(self) -> None:
        if self._staging is not None:
            self._staging.close()

    def stage(self, *, limit: int) -> StagingWriter:
        return self._staging_area().writer(limit=limit)

    def promote(self, staged: StagedFile, *, extension: str) -> str:
        key = self.new_key(extension)  # a new shard directory needs space
        os.replace(staged.path, self.root / key)
        return key

    def new_key(self, extension: str) -> str:
        """A fresh storage key, its shard directory made, for a file written in place."""
        name = uuid.uuid4().hex
        key = f"{name[:2]}/{name}{extension}"
        with disk_full_is_507():
            (self.root / key).parent.mkdir(parents=True, exist_ok=True)
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
            # The record is already gone; an undeletable file is logged, not surfaced
            # (`media-assets check` lists it as a file without a row).
            log.exception("could not delete stored file %s", key)


def stored_files(root: Path) -> Iterator[tuple[str, Path]]:
    """Every stored file under `root` as (storage key, path), staging left out."""
    if not root.is_dir():
        return
    for shard in sorted(root.iterdir()):
        if shard.name == STAGING_DIR_NAME or not shard.is_dir():
            continue
        for path in sorted(shard.iterdir()):
            if path.is_file():
                yield f"{shard.name}/{path.name}", path
