"""The indexing loop: apply outbox rows to the engine in order, and let writers wait for it."""

from __future__ import annotations

import logging
import threading
import time

from sqlalchemy import Engine
from sqlmodel import Session

from indexer import outbox, replay
from indexer.documents import load_documents
from indexer.engines.base import SearchEngine
from store.outbox import any_pending_up_to, lag

log = logging.getLogger(__name__)

BATCH_SIZE = 500
# Writes from other processes are only seen in the table; this bounds their wait.
IDLE_POLL_SECONDS = 0.1
MAX_BACKOFF_SECONDS = 30.0
UPKEEP_INTERVAL_SECONDS = 600.0
# How often the loop settles rebuilds whose owner handed them over or died.
REBUILD_TIDY_SECONDS = 1.0


class IndexerWorker:
    """The one writer of the index: claims outbox rows, reloads each asset's current
    state, writes the documents, waits for the engine, and only then deletes the rows."""

    def __init__(self, db: Engine, engine: SearchEngine, *, batch_size: int = BATCH_SIZE) -> None:
        self._db = db
        self._engine = engine
        self._batch_size = batch_size
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._progress = threading.Condition()
        self._thread: threading.Thread | None = None
        self.last_error: str | None = None
        self._next_upkeep = 0.0
        self._next_tidy = 0.0
        self._outbox_lock: outbox.OutboxLock | None = None

    def run_once(self) -> int:
        """Apply one batch; return how many outbox rows it acknowledged."""
        with Session(self._db) as session:
            claimed = outbox.claim(session, limit=self._batch_size)
            if not claimed.row_ids:
                return 0
            documents = load_documents(session, claimed.asset_ids)
            if not outbox.holds_locks(session):
                session.rollback()  # SQLite: do not hold the database while the engine works
            upserts = [doc for doc in documents.values() if doc is not None]
            deletes = [str(asset_id) for asset_id, doc in documents.items() if doc is None]
            for rejected in self._engine.apply(upserts=upserts, deletes=deletes):
                log.error("search engine rejected the document of asset %s; skipped", rejected)
            outbox.acknowledge(session, claimed.row_ids)
        with self._progress:
            self._progress.notify_all()
        return len(claimed.row_ids)

    def drain(self, *, timeout: float = 120) -> None:
        """Apply every pending row now, including rows another indexer holds (waiting for
        it to finish them), so that a caller can read a converged index."""
        deadline = time.monotonic() + timeout
        while True:
            if self.run_once():
                continue
            with Session(self._db) as session:
                drained = lag(session).pending == 0
            # A rebuild handed over to the indexers may queue its replays now.
            if drained and not replay.tidy(self._db):
                return
            if time.monotonic() > deadline:
                raise TimeoutError("the outbox did not drain in time")
            time.sleep(0.02)

    def _upkeep_if_due(self) -> None:
        now = time.monotonic()
        if now < self._next_upkeep:
            return
        self._next_upkeep = now + UPKEEP_INTERVAL_SECONDS
        try:
            self._engine.upkeep()
        except Exception as exc:  # housekeeping failing must not stop indexing
            log.warning("search engine upkeep failed: %s", exc)

    def _tidy_rebuilds_if_due(self) -> None:
        now = time.monotonic()
        if now < self._next_tidy:
            return
        self._next_tidy = now + REBUILD_TIDY_SECONDS
        try:
            replay.tidy(self._db)
        except Exception as exc:  # retried on the next round; indexing goes on meanwhile
            log.warning("settling abandoned rebuilds failed: %s", exc)

    def _loop(self) -> None:
        backoff = 0.5
        while not self._stop.is_set():
            self._upkeep_if_due()
            self._tidy_rebuilds_if_due()
            try:
                applied = self.run_once()
                self.last_error = None
                backoff = 0.5
            except Exception as exc:  # the loop must outlive any failure; it retries
                self.last_error = f"{exc.__class__.__name__}: {exc}"
                log.warning("indexing failed, retrying in %.1fs: %s", backoff, self.last_error)
                self._stop.wait(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
                continue
            if not applied:
                # Other processes' writes only show up in the table: poll it now and then.
                self._wake.wait(IDLE_POLL_SECONDS)
                self._wake.clear()

    def start(self) -> None:
        """Claim the index (and on SQLite the outbox) for writing, then index in a thread.

        An index an older version wrote in another format is rebuilt first, here, before
        anything is served from it: searches answer 503 until the rebuild swaps in."""
        if self._engine.needs_rebuild():
            from indexer.maintenance import reindex

            log.warning("rebuilding the %s index from the database", self._engine.name)
            # No wait for the replay: this indexer has not started, and its loop finishes it.
            reindex(self._db, self._engine, show_progress=False, replay_wait_seconds=0)
        self._engine.open_for_writing()
        self._outbox_lock = outbox.OutboxLock.take(self._db)
        self._thread = threading.Thread(target=self._loop, name="indexer", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        if self._outbox_lock is not None:
            self._outbox_lock.release()

    def notify(self) -> None:
        self._wake.set()

    def wait_until_applied(self, up_to: int, *, timeout: float) -> bool:
        """Whether every outbox row up to `up_to` was applied within `timeout` seconds."""
        deadline = time.monotonic() + timeout
        self.notify()
        while True:
            with Session(self._db) as session:
                if not any_pending_up_to(session, up_to):
                    return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            with self._progress:
                self._progress.wait(min(remaining, 0.05))
