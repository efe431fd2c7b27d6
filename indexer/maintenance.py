"""Upkeep of the index: rebuild it from the database with a swap, and check it for drift.

Neither writes into the live index beside the indexer: drift is repaired by queueing
outbox rows, so the one indexer applies the latest state, and the writes that land
during a rebuild are written into the new index just before its swap, while the
indexer's acknowledgements wait (`indexer.replay` says how, and why none is lost).
`check` stays a separate full comparison, for anyone who wants proof.
"""

from __future__ import annotations

import gc
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy import Engine, func, select
from sqlmodel import Session

from indexer import replay
from indexer.documents import DocumentLoader, SearchDocument
from indexer.engines.base import SearchEngine
from indexer.progress import ProgressBar
from store.models import MediaAsset
from store.outbox import record_assets

BATCH_SIZE = 2000
# How long the replay waits for the indexer to apply the rows pending at the swap while
# none of them goes; past that it is left to the indexer (see `indexer.replay`).
REPLAY_WAIT_SECONDS = 10.0
REPLAY_POLL_SECONDS = 0.05


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
        if not show_progress:
            yield from DocumentLoader(session).batches(BATCH_SIZE)
            return
        total = session.execute(select(func.count()).select_from(MediaAsset)).scalar_one()
        with ProgressBar("reindex", total) as bar:
            for documents in DocumentLoader(session).batches(BATCH_SIZE):
                yield documents
                bar.advance(len(documents))


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """A rebuild allocates dozens of short-lived objects an asset, which reference counting
    frees; the cyclic collector's passes over every long-lived object of the process came
    to about a tenth of a rebuild's Python time in profiles."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


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


@dataclass(frozen=True)
class Reindexed:
    """What a reindex did after its swap."""

    # Assets written during the rebuild and queued again for the new index; None when
    # the indexer was not applying the rows pending at the swap and will queue them.
    replayed: int | None
    # Outbox rows still pending at the swap when the replay was left to the indexer.
    waiting_for: int = 0


def _then(
    batches: Iterator[list[SearchDocument]], done: Callable[[], None]
) -> Iterator[list[SearchDocument]]:
    yield from batches
    done()


def reindex(
    db: Engine,
    engine: SearchEngine,
    *,
    show_progress: bool = True,
    replay_wait_seconds: float = REPLAY_WAIT_SECONDS,
) -> Reindexed:
    """Rebuild the whole index into a fresh one and swap it in with the assets the indexer
    applied to the old index meanwhile (no second pass over the library), then queue
    those again as a safety net (`indexer.replay`)."""
    rebuild_id = replay.begin(db)
    try:
        with replay.Heartbeat(db, rebuild_id):
            batches = _document_batches(db, show_progress=show_progress)
            with _cyclic_gc_paused():
                engine.rebuild(
                    _then(batches, lambda: replay.mark_built(db, rebuild_id)),
                    lambda: replay.swap_window(db, rebuild_id),
                )
            return _replay(db, rebuild_id, wait=replay_wait_seconds)
    except BaseException:
        replay.abandon(db, rebuild_id)
        raise


def _replay(db: Engine, rebuild_id: int, *, wait: float) -> Reindexed:
    """Finish the replay once the rows pending at the swap are applied, waiting while
    they keep going; otherwise hand it to the indexer."""
    last_seen: int | None = None
    last_change = time.monotonic()
    try:
        while True:
            waiting_for = replay.pending(db, rebuild_id)
            replayed = replay.finish(db, rebuild_id) if waiting_for == 0 else None
            if replayed is not None:
                return Reindexed(replayed=replayed)
            if waiting_for != last_seen:
                last_seen, last_change = waiting_for, time.monotonic()
            elif time.monotonic() - last_change >= wait:
                replay.hand_over(db, rebuild_id)
                return Reindexed(replayed=None, waiting_for=waiting_for)
            time.sleep(REPLAY_POLL_SECONDS)
    except replay.RebuildLost:
        return Reindexed(replayed=None)  # settled by an indexer meanwhile
