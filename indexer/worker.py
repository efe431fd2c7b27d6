"""The indexing loop: apply outbox rows to the engine in order, and report its state (a
heartbeat, how far it got, its last error) in the database for every process to read."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable

from sqlalchemy import Engine, func, select
from sqlmodel import Session

from indexer import outbox, replay
from indexer.documents import SearchDocument, load_documents
from indexer.engines.base import SearchEngine
from indexer.query import EngineUnavailable
from store import indexer_state
from store.models import MediaAsset
from store.outbox import lag

log = logging.getLogger(__name__)

BATCH_SIZE = 500
# Writes from other processes are only seen in the table; this bounds their wait.
IDLE_POLL_SECONDS = 0.1
MAX_BACKOFF_SECONDS = 30.0
UPKEEP_INTERVAL_SECONDS = 600.0
# How often the loop settles rebuilds whose owner handed them over or died.
REBUILD_TIDY_SECONDS = 1.0
# How often the loop asks the engine whether its index must be rebuilt (damaged, gone).
REBUILD_CHECK_SECONDS = 2.0
REBUILDING = "the index is being rebuilt from the database"


class IndexerWorker:
    """The one writer of the index: claims outbox rows, reloads each asset's current
    state, writes the documents, waits for the engine, and only then deletes the rows."""

    def __init__(self, db: Engine, engine: SearchEngine, *, batch_size: int = BATCH_SIZE) -> None:
        self._db = db
        self._engine = engine
        self._batch_size = batch_size
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._heartbeat: threading.Thread | None = None
        self._next_upkeep = 0.0
        self._next_tidy = 0.0
        self._next_rebuild_check = 0.0
        self._outbox_lock: outbox.OutboxLock | None = None
        self.indexer_id = indexer_state.new_indexer_id()
        # Copies of what the database row says; the row is what other processes read.
        self.last_error: str | None = None
        self.applied_up_to: int | None = None
        self._registered = False
        self._report_lock = threading.Lock()
        self._listeners: set[Callable[[], None]] = set()
        self._listeners_lock = threading.Lock()

    def run_once(self) -> int:
        """Apply one batch; return how many outbox rows it acknowledged. A failure is
        recorded as the last error (and raised); a success clears it."""
        try:
            applied = self._apply_batch()
        except Exception as exc:
            self._set_error(f"{exc.__class__.__name__}: {exc}")
            raise
        self._set_error(None)
        return applied

    def _apply_batch(self) -> int:
        with Session(self._db) as session:
            claimed = outbox.claim(session, limit=self._batch_size)
            if not claimed.row_ids:
                return 0
            swaps_ahead = replay.unswapped(session)
            documents = load_documents(session, claimed.asset_ids)
            if not outbox.holds_locks(session):
                session.rollback()  # SQLite: do not hold the database while the engine works
            self._write(documents)
            outbox.acknowledge(
                session,
                claimed.row_ids,
                swaps_ahead=swaps_ahead,
                apply_again=lambda: self._write(load_documents(session, claimed.asset_ids)),
            )
        self.applied_up_to = max(self.applied_up_to or 0, *claimed.row_ids)
        with self._listeners_lock:
            listeners = list(self._listeners)
        for listener in listeners:
            listener()
        return len(claimed.row_ids)

    def _write(self, documents: dict[uuid.UUID, SearchDocument | None]) -> None:
        upserts = [doc for doc in documents.values() if doc is not None]
        deletes = [str(asset_id) for asset_id, doc in documents.items() if doc is None]
        for rejected in self._engine.apply(upserts=upserts, deletes=deletes):
            log.error("search engine rejected the document of asset %s; skipped", rejected)

    def _set_error(self, error: str | None) -> None:
        if error != self.last_error:
            self.last_error = error
            self._report()  # at once: writers decide by it whether to wait

    def _report(self) -> None:
        """Write the heartbeat with the current progress and error. The lock orders the
        loop's and the heartbeat thread's writes, so the last one written is the newest."""
        with self._report_lock:
            if not self._registered:
                return
            try:
                indexer_state.report(
                    self._db,
                    self.indexer_id,
                    applied_up_to=self.applied_up_to,
                    last_error=self.last_error,
                )
            except Exception as exc:  # the database may be down; the next beat retries
                log.warning("could not record the indexer's state: %s", exc)

    def _beat(self) -> None:
        # Its own thread: it beats while the loop idles, backs off or waits for the engine.
        while not self._stop.wait(indexer_state.HEARTBEAT_SECONDS):
            self._report()

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

    def _rebuild_if_needed(self) -> None:
        now = time.monotonic()
        if now < self._next_rebuild_check:
            return
        self._next_rebuild_check = now + REBUILD_CHECK_SECONDS
        try:
            stale = self._engine.needs_rebuild()
        except EngineUnavailable:
            return  # a server that is down: nothing to rebuild into yet
        if stale:
            self._rebuild()

    def _rebuild(self) -> None:
        """Rebuild the index from the database, saying so meanwhile: `/readyz` is not ready
        and writes answer pending until the first batch after it succeeds."""
        from indexer.maintenance import reindex

        log.warning("rebuilding the %s index from the database", self._engine.name)
        self._set_error(REBUILDING)
        try:
            # No wait for the replay: this loop applies the rows it waits for.
            reindex(self._db, self._engine, show_progress=False, replay_wait_seconds=0)
        except Exception as exc:
            self._set_error(f"{REBUILDING}, and it failed: {exc.__class__.__name__}: {exc}")
            raise
        log.warning("the %s index was rebuilt from the database", self._engine.name)

    def _loop(self, *, rebuild_first: bool) -> None:
        backoff = 0.5
        ready = not rebuild_first
        while not self._stop.is_set():
            try:
                if not ready:
                    # The index had to be rebuilt before this indexer could write it.
                    self._rebuild()
                    self._claim_for_writing()
                    ready = True
                self._upkeep_if_due()
                self._tidy_rebuilds_if_due()
                self._rebuild_if_needed()
                applied = self.run_once()
                backoff = 0.5
            except Exception:  # the loop must outlive any failure; it retries
                log.warning("indexing failed, retrying in %.1fs: %s", backoff, self.last_error)
                self._stop.wait(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
                self._next_rebuild_check = 0.0  # a failure may mean a damaged index
                continue
            if not applied:
                # Other processes' writes only show up in the table: poll it now and then.
                self._wake.wait(IDLE_POLL_SECONDS)
                self._wake.clear()

    def _claim_for_writing(self) -> None:
        self._engine.open_for_writing()
        if self._outbox_lock is None:
            self._outbox_lock = outbox.OutboxLock.take(self._db)

    def _needs_rebuild_at_start(self) -> bool:
        """An index that cannot be served (another format, damaged, missing), or one whose
        documents do not add up to the database's assets: a data dir restored without its
        index, say, which would otherwise be served as if complete."""
        try:
            if self._engine.needs_rebuild():
                return True
            indexed = self._engine.document_count()
        except EngineUnavailable as exc:
            # A server that is down now is checked again by the loop.
            log.warning("could not check the %s index: %s", self._engine.name, exc)
            return False
        with Session(self._db) as session:
            others = [
                indexer
                for indexer in indexer_state.read(session).alive
                if indexer.indexer_id != self.indexer_id
            ]
            assets = session.execute(select(func.count()).select_from(MediaAsset)).scalar_one()
            pending = lag(session).pending
        if others:
            # A live indexer is applying writes meanwhile, so the two counts are read at
            # different moments of its work; the index is in its hands anyway.
            return False
        if abs(assets - indexed) > pending:
            log.warning(
                "the %s index holds %d documents for %d assets (%d writes pending)",
                self._engine.name,
                indexed,
                assets,
                pending,
            )
            return True
        return False

    def start(self) -> None:
        """Register in the database and start beating, claim the index (and on SQLite the
        outbox) for writing, then index in a thread.

        An index that must be rebuilt first (see `_needs_rebuild_at_start`) is rebuilt in
        that thread, so the service starts at once: searches answer 503 and `/readyz`
        says the index is being rebuilt until the new one swaps in."""
        indexer_state.register(self._db, self.indexer_id)
        self._registered = True
        self._heartbeat = threading.Thread(target=self._beat, name="indexer-heartbeat", daemon=True)
        self._heartbeat.start()
        try:
            rebuild_first = self._needs_rebuild_at_start()
            if rebuild_first:
                self._set_error(REBUILDING)
            else:
                self._claim_for_writing()
        except BaseException:
            self.stop()  # a refused second indexer leaves no row behind
            raise
        self._thread = threading.Thread(
            target=self._loop, kwargs={"rebuild_first": rebuild_first}, name="indexer", daemon=True
        )
        self._thread.start()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def stop(self) -> None:
        """Stop indexing and beating; the row goes, so nobody waits for this indexer."""
        self._stop.set()
        self._wake.set()
        for thread in (self._thread, self._heartbeat):
            if thread is not None:
                thread.join(timeout=30)
        with self._report_lock:  # no beat still under way may write the row back
            if self._registered:
                self._registered = False
                try:
                    indexer_state.unregister(self._db, self.indexer_id)
                except Exception as exc:  # a stale row is harmless: readers see it go quiet
                    log.warning("could not remove the indexer's state: %s", exc)
        if self._outbox_lock is not None:
            self._outbox_lock.release()
            self._outbox_lock = None

    def notify(self) -> None:
        """Look at the outbox now rather than at the next idle poll."""
        self._wake.set()

    def on_progress(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call `listener` (on the indexer's thread) after each acknowledged batch, so a
        writer in this process need not poll; returns the function that unsubscribes."""
        with self._listeners_lock:
            self._listeners.add(listener)

        def unsubscribe() -> None:
            with self._listeners_lock:
                self._listeners.discard(listener)

        return unsubscribe
