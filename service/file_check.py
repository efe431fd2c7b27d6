"""The file half of `media-assets check`: the files under the storage root against the
rows that name them.

A process killed between promoting a new file and committing its row, or between
committing a delete or replace and unlinking the old file, leaves a file no row names.
`--repair` removes those once they are older than a grace period: a younger one may
belong to a write still under way in a live process. Staging directories of ended
processes go at once (their lock says nobody owns them). Rows whose file is missing are
only reported: no repair can bring their bytes back.
"""

from __future__ import annotations

import shutil
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine, select
from sqlmodel import Session, col

from service.staging import abandoned_directories, unclaimed_leftovers
from service.storage import STAGING_DIR_NAME, stored_files
from store.models import AssetPreview, MediaAsset

_BATCH = 500


@dataclass
class FileDrift:
    # Storage keys no row names, older than the grace period.
    orphan_files: list[str] = field(default_factory=list)
    # Files no row names yet, younger than the grace period: possibly a write under way.
    recent_unnamed: list[str] = field(default_factory=list)
    # (asset id, storage key) of rows whose file is missing.
    rows_without_files: list[tuple[uuid.UUID, str]] = field(default_factory=list)
    # Staging directories of ended processes, and older leftovers no process owns.
    abandoned_staging: list[Path] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.orphan_files) + len(self.rows_without_files) + len(self.abandoned_staging)


def _batches(items: list[str]) -> Iterator[list[str]]:
    for start in range(0, len(items), _BATCH):
        yield items[start : start + _BATCH]


# Every column that names a stored file: the asset's own, and its two previews.
_KEY_COLUMNS = (
    col(MediaAsset.storage_location),
    col(AssetPreview.small_key),
    col(AssetPreview.large_key),
)


def _named_keys(session: Session, keys: Iterable[str]) -> set[str]:
    """Which of `keys` some row names now."""
    named: set[str] = set()
    for batch in _batches(list(keys)):
        for stored in _KEY_COLUMNS:
            found = session.execute(select(stored).where(stored.in_(batch))).scalars()
            named.update(key for key in found if key is not None)
    return named


def _missing(root: Path, key: str) -> bool:
    return not (root / key).is_file()


def find_file_drift(db: Engine, root: Path, *, grace_seconds: float) -> FileDrift:
    """Compare the files under `root` with the rows; nothing is changed."""
    cutoff = time.time() - grace_seconds
    drift = FileDrift()
    staging_root = root / STAGING_DIR_NAME
    drift.abandoned_staging = [
        *abandoned_directories(staging_root),
        *unclaimed_leftovers(staging_root, modified_before=cutoff),
    ]
    # Files are listed before rows are read: a file whose row commits meanwhile is then
    # seen as named, never as an orphan.
    files = dict(stored_files(root))
    with Session(db) as session:
        named = _named_keys(session, files)
        for key in sorted(files.keys() - named):
            try:
                # ctime moves when the file is renamed into place (promoted).
                changed = files[key].stat().st_ctime
            except FileNotFoundError:  # deleted with its row meanwhile
                continue
            (drift.orphan_files if changed < cutoff else drift.recent_unnamed).append(key)
        rows = session.execute(
            select(col(MediaAsset.id), col(MediaAsset.storage_location)).where(
                col(MediaAsset.storage_location).is_not(None)
            )
        ).all()
        suspects = {
            row.id: row.storage_location for row in rows if _missing(root, row.storage_location)
        }
        if suspects:
            # Read again: a replace or delete that committed since names another file now.
            again = session.execute(
                select(col(MediaAsset.id), col(MediaAsset.storage_location)).where(
                    col(MediaAsset.id).in_(list(suspects))
                )
            ).all()
            drift.rows_without_files = sorted(
                (row.id, row.storage_location)
                for row in again
                if row.storage_location == suspects[row.id] and _missing(root, row.storage_location)
            )
    return drift


def repair_file_drift(db: Engine, root: Path, drift: FileDrift) -> int:
    """Remove the orphan files (unless a row has come to name one) and abandoned staging;
    return how many entries were removed."""
    removed = 0
    with Session(db) as session:
        named = _named_keys(session, drift.orphan_files)
    for key in drift.orphan_files:
        if key not in named:
            (root / key).unlink(missing_ok=True)
            removed += 1
    for entry in drift.abandoned_staging:
        if entry.is_dir():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
        removed += 1
    return removed
