"""Read-your-writes: a write answers once the indexer has applied its own outbox rows, or
says it is pending: at once when no indexer works, else after MEDIA_INDEX_WAIT_MS (for a
bulk change, once that long passes without progress). A bulk change by query also
waits here, before it asks the index, for the index to hold every earlier write."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from fastapi import Request, Response
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import Engine
from sqlmodel import Session

from store import indexer_state
from store.outbox import OutboxRows, any_pending, newest_row, pending_count, written_rows

if TYPE_CHECKING:
    from indexer.worker import IndexerWorker

PENDING_HEADER = "X-Index-Status"
# The first look comes soon (an idle indexer in this process applies a row in a few ms),
# then less often; another process's indexer polls the outbox every 100 ms anyway.
FIRST_POLL_SECONDS = 0.005
MAX_POLL_SECONDS = 0.05
# How often a waiting write checks that the indexer still works, and gives up if not.
HEALTH_CHECK_SECONDS = 0.5


async def await_index(
    request: Request, response: Response, session: Session, *, while_progressing: bool = False
) -> None:
    """Wait, without holding a thread, until the indexer has applied the outbox rows this
    request's session recorded; mark the answer pending when they are not applied within
    MEDIA_INDEX_WAIT_MS, or at once when no indexer is alive and free of errors.

    `while_progressing` (a bulk change, whose rows take the indexer longer than that):
    the wait goes on as long as the indexer applies more of them every MEDIA_INDEX_WAIT_MS."""
    rows = written_rows(session)
    await run_in_threadpool(session.rollback)  # hold no snapshot or connection meanwhile
    if rows is None:
        return
    if not await _applied(request, rows, while_progressing=while_progressing):
        response.headers[PENDING_HEADER] = "pending"


async def await_caught_up(request: Request) -> bool:
    """Whether the index holds every write committed before this call: waits, as a bulk
    change's write does, for the outbox rows there are now. False when the indexer does
    not work, or stops making progress on them."""
    db: Engine = request.app.state.engine
    head = await run_in_threadpool(_newest_row, db)
    if head is None:
        return True
    return await _applied(request, OutboxRows(ranges=((0, head),)), while_progressing=True)


async def _applied(request: Request, rows: OutboxRows, *, while_progressing: bool) -> bool:
    state = request.app.state
    db: Engine = state.engine
    wait = state.settings.index_wait_ms / 1000
    if not await run_in_threadpool(_pending, db, rows):
        return True
    if not await run_in_threadpool(_indexer_works, db):
        return False
    poll = _Poll(db, rows, wait=wait, while_progressing=while_progressing)
    worker: IndexerWorker = state.indexer
    if not worker.running:
        return await poll.run()
    woken = asyncio.Event()
    loop = asyncio.get_running_loop()
    unsubscribe = worker.on_progress(_waker(loop, woken))
    try:
        worker.notify()
        return await poll.run(woken)
    finally:
        unsubscribe()


class _Poll:
    """Looks at the outbox table (the only sign of another process's indexer) until the
    rows are applied or the deadline passes, sleeping or waiting to be woken by this
    process's indexer between looks."""

    def __init__(
        self, db: Engine, rows: OutboxRows, *, wait: float, while_progressing: bool
    ) -> None:
        self.db = db
        self.rows = rows
        self.wait = wait
        self.while_progressing = while_progressing
        self.deadline = time.monotonic() + wait
        self.remaining: int | None = None

    async def run(self, woken: asyncio.Event | None = None) -> bool:
        delay = FIRST_POLL_SECONDS
        next_health_check = time.monotonic() + HEALTH_CHECK_SECONDS
        while True:
            remaining = self.deadline - time.monotonic()
            if remaining <= 0:
                return False
            if woken is None:
                await asyncio.sleep(min(delay, remaining))
            else:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(woken.wait(), timeout=min(delay, remaining))
                woken.clear()
            if not await run_in_threadpool(_pending, self.db, self.rows):
                return True
            if time.monotonic() >= next_health_check:
                # The indexer may have started failing (or died) since the write began.
                if not await run_in_threadpool(_indexer_works, self.db):
                    return False
                if self.while_progressing:
                    await self._extend_if_progressing()
                next_health_check = time.monotonic() + HEALTH_CHECK_SECONDS
            delay = min(delay * 2, MAX_POLL_SECONDS)

    async def _extend_if_progressing(self) -> None:
        """A full wait more from now whenever fewer rows are left than at the last look."""
        left = await run_in_threadpool(_pending_count, self.db, self.rows)
        if self.remaining is not None and left < self.remaining:
            self.deadline = max(self.deadline, time.monotonic() + self.wait)
        self.remaining = left


def _waker(loop: asyncio.AbstractEventLoop, woken: asyncio.Event) -> Callable[[], None]:
    def wake() -> None:  # called on the indexer's thread
        with contextlib.suppress(RuntimeError):  # a closed loop: nobody waits any more
            loop.call_soon_threadsafe(woken.set)

    return wake


def _pending(db: Engine, rows: OutboxRows) -> bool:
    with Session(db) as session:
        return any_pending(session, rows)


def _pending_count(db: Engine, rows: OutboxRows) -> int:
    with Session(db) as session:
        return pending_count(session, rows)


def _newest_row(db: Engine) -> int | None:
    with Session(db) as session:
        return newest_row(session)


def _indexer_works(db: Engine) -> bool:
    with Session(db) as session:
        return indexer_state.read(session).working
