"""The derived-data worker: extracts the text of each new or replaced file and renders its
previews, out of the request path, into the database (`store.content`,
`store.previews`) and storage, and queues the asset for the index.

It runs beside the indexer (the same process, its own thread). Extraction happens in the
isolated child process of `service.extraction.Extractor`, so a hostile file ends as
`failed` with a sentence while this thread goes on. Requests are leased, not locked:
several workers (or `media-assets extract` beside a running service) share the queue, a
killed worker's lease runs out, and a result for a file replaced meanwhile is dropped.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from sqlalchemy import Engine

from service.config import Settings
from service.extraction import EXTRACTOR_VERSION, RENDERER_VERSION, Extraction, Extractor
from service.storage import LocalStorage
from store import content as stored_content
from store import previews as stored_previews

log = logging.getLogger(__name__)

IDLE_POLL_SECONDS = 0.5
MAX_BACKOFF_SECONDS = 30.0
# Beyond the extraction's own time limit: how long a lease outlives a worker that died.
LEASE_MARGIN_SECONDS = 60.0
MISSING_FILE = "The file is missing from storage (see `media-assets check`)."
# The jobs a worker does.
TEXT = "text"
PREVIEWS = "previews"


class DerivedWorker:
    """Takes pending extractions one at a time and stores each result."""

    def __init__(
        self,
        db: Engine,
        files_dir: Path,
        *,
        timeout_s: float,
        memory_bytes: int,
        max_chars: int,
        jobs: frozenset[str] = frozenset({TEXT, PREVIEWS}),
    ) -> None:
        self._db = db
        # Text first: a file is searchable by its words before it shows a picture.
        self._jobs = [
            job
            for name, job in ((TEXT, self._extract_one), (PREVIEWS, self._render_one))
            if name in jobs
        ]
        self._storage = LocalStorage(files_dir)
        self._lease = timedelta(seconds=timeout_s + LEASE_MARGIN_SECONDS)
        self._extractor = Extractor(
            timeout_s=timeout_s, memory_bytes=memory_bytes, max_chars=max_chars
        )
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> bool:
        """Do one pending job (a text, else previews), if any; whether there was one."""
        return any(job() for job in self._jobs)

    def _extract_one(self) -> bool:
        lease = stored_content.QUEUE.lease_next(self._db, lease=self._lease)
        if lease is None:
            return False
        path = self._storage.path_of(lease.source)
        if path is None:
            result = Extraction.failed(MISSING_FILE)
        else:
            result = self._extractor.extract(path, lease.file_type)
        stored = stored_content.store_text(
            self._db,
            lease,
            status=result.status,
            text=result.text,
            truncated=result.truncated,
            error=result.error,
            extractor_version=EXTRACTOR_VERSION,
        )
        if not stored:
            log.info("asset %s got a new file during its extraction; dropped", lease.asset_id)
        return True

    def _render_one(self) -> bool:
        lease = stored_previews.QUEUE.lease_next(self._db, lease=self._lease)
        if lease is None:
            return False
        path = self._storage.path_of(lease.source)
        small, large = self._storage.new_key(".webp"), self._storage.new_key(".webp")
        if path is None:
            rendered = stored_previews.Rendered(status=stored_previews.FAILED, error=MISSING_FILE)
        else:
            rendition = self._extractor.render(
                path,
                lease.file_type,
                small=self._storage.root / small,
                large=self._storage.root / large,
            )
            ready = rendition.status == stored_previews.READY
            rendered = stored_previews.Rendered(
                status=rendition.status,
                small_key=small if ready else None,
                large_key=large if ready else None,
                width=rendition.width,
                height=rendition.height,
                taken_at=rendition.taken_at,
                perceptual_hash=rendition.perceptual_hash,
                error=rendition.error,
            )
        if not stored_previews.store_previews(self._db, lease, rendered, version=RENDERER_VERSION):
            log.info("asset %s got a new file during its rendering; dropped", lease.asset_id)
            for key in (small, large):
                self._storage.delete(key)
        return True

    def drain(self, *, on_each: Callable[[], None] = lambda: None) -> int:
        """Extract until nothing is pending; return how many were done."""
        done = 0
        while self.run_once():
            done += 1
            on_each()
        return done

    def _loop(self) -> None:
        backoff = 0.5
        while not self._stop.is_set():
            try:
                worked = self.run_once()
                backoff = 0.5
            except Exception as exc:  # the database may be away; retried with backoff
                log.warning("content extraction failed, retrying in %.1fs: %s", backoff, exc)
                self._stop.wait(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
                continue
            if not worked:
                self._wake.wait(IDLE_POLL_SECONDS)
                self._wake.clear()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="derived-data-worker", daemon=True)
        self._thread.start()

    def notify(self) -> None:
        """Look for pending extractions now rather than at the next idle poll."""
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        self._extractor.close()
        self._storage.close()


def derived_worker_for(
    settings: Settings, db: Engine, *, jobs: frozenset[str] = frozenset({TEXT, PREVIEWS})
) -> DerivedWorker:
    """The worker with the limits `settings` give (MEDIA_CONTENT_*)."""
    return DerivedWorker(
        db,
        settings.files_dir,
        timeout_s=settings.content_timeout_s,
        memory_bytes=settings.content_memory_mb * 1024 * 1024,
        max_chars=settings.content_max_chars,
        jobs=jobs,
    )
