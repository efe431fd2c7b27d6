"""Upkeep of the index: rebuild it from the database with a swap, and check it for drift.

Neither writes a document the live indexer could be writing at the same time:
drift is repaired by queueing outbox rows, so the one indexer applies the latest
state, and a write that lands during a rebuild is caught by the check after the swap.
"""

from __future__ import annotations

import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

from sqlalchemy import Engine, func, select
from sqlmodel import Session

from indexer.documents import DocumentLoader, SearchDocument
from indexer.engines.base import SearchEngine
from store.models import MediaAsset
from store.outbox import record_assets

BATCH_SIZE = 2000


@dataclass
class Drift:
    missing: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)
    orphans: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.missing) + len(self.stale) + len(self.orphans)


def _document_batches(db: Engine, *, show_progress: bool) -> Iterator[list[SearchDocument]]:
    """Every asset's document, in id order, a batch at a time."""
    with Session(db) as session:
        total = session.execute(select(func.count()).select_from(MediaAsset)).scalar_one()
        loader = DocumentLoader(session)
        done = 0
        last: uuid.UUID | None = None
        while True:
            documents, last = loader.after(last, BATCH_SIZE)
            if not documents:
                break
            # Each batch is its own short read: a rebuild must not hold one snapshot
            # (or SQLite's WAL) open for its whole run.
            session.rollback()
            yield documents
            done += len(documents)
            if show_progress:
                _progress(done, total)
    if show_progress:
        print(file=sys.stderr)


def _progress(done: int, total: int) -> None:
    width = 40
    filled = width * done // max(total, 1)
    bar = "#" * filled + "-" * (width - filled)
    print(f"\rreindex [{bar}] {done}/{total}", end="", file=sys.stderr, flush=True)


def find_drift(db: Engine, engine: SearchEngine) -> Drift:
    """Compare every document the database would build with what the index holds."""
    indexed = engine.fingerprints()
    drift = Drift()
    seen: set[str] = set()
    for batch in _document_batches(db, show_progress=False):
        for doc in batch:
            seen.add(doc.id)
            if doc.id not in indexed:
                drift.missing.append(doc.id)
            elif indexed[doc.id] != doc.fingerprint():
                drift.stale.append(doc.id)
    drift.orphans = [key for key in indexed if key not in seen]
    return drift


def queue_repair(db: Engine, drift: Drift) -> None:
    """Queue every drifted asset for the indexer (an orphan's reload becomes a delete)."""
    with Session(db) as session:
        ids = [uuid.UUID(key) for key in (*drift.missing, *drift.stale, *drift.orphans)]
        record_assets(session, ids)
        session.commit()


def reindex(db: Engine, engine: SearchEngine, *, show_progress: bool = True) -> Drift:
    """Rebuild the whole index into a fresh one, swap it in, then queue what moved meanwhile."""
    engine.rebuild(_document_batches(db, show_progress=show_progress))
    drift = find_drift(db, engine)
    queue_repair(db, drift)
    return drift
