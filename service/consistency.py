"""Read-your-writes: a write answers once the indexer has applied its own outbox rows, or
says it is pending: at once when no indexer works, else after MEDIA_INDEX_WAIT_MS."""

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
from store.outbox import OutboxRows, any_pending, written_rows

if TYPE_CHECKING:
    from indexer.worker import IndexerWorker

PENDING_HEADER = "X-Index-Status"
# The first look comes soon (an idle indexer in this process applies a row in a few ms),
# then less often; another process's indexer polls the outbox every 100 ms anyway.
FIRST_POLL_SECONDS = 0.005
MAX_POLL_SECONDS = 0.05
# How often a waiting write checks that the indexer still works, and gives up if not.
HEALTH_CHECK_SECONDS = 0.5


async def await_index(request: Request, response: Response, session: Session) -> None:
    """Wait, without holding a thread, until the indexer has applied the outbox rows this
    request's session recorded; mark the answer pending when they are not applied within
    MEDIA_INDEX_WAIT_MS, or at once when no indexer is alive and free of errors."""
    rows = written_rows(session)
    await run_in_threadpool(session.rollback)  # hold no snapshot or connection meanwhile
    if rows is None:
        return
    state = request.app.state
    db: Engine = state.engine
    deadline = time.monotonic() + state.settings.index_wait_ms / 1000
    if not await run_in_threadpool(_pending, db, rows):
        return
    if not await run_in_threadpool(_indexer_works, db):
        response.headers[PENDING_HEADER] = "pending"
        return
    worker: IndexerWorker = state.indexer
    if not worker.running:
        applied = await _poll(db, rows, deadline=deadline)
    else:
        woken = asyncio.Event()
        loop = asyncio.get_running_loop()
        unsubscribe = worker.on_progress(_waker(loop, woken))
        try:
            worker.notify()
            applied = await _poll(db, rows, deadline=deadline, woken=woken)
        finally:
            unsubscribe()
    if not applied:
        response.headers[PENDING_HEADER] = "pending"


async def _poll(
    db: Engine, rows: OutboxRows, *, deadline: float, woken: asyncio.Event | None = None
) -> bool:
    """Whether the rows were applied before the deadline, looking at the outbox table (the
    only sign of another process's indexer) and, between looks, sleeping or waiting to be
    woken by this process's indexer."""
    delay = FIRST_POLL_SECONDS
    next_health_check = time.monotonic() + HEALTH_CHECK_SECONDS
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        if woken is None:
            await asyncio.sleep(min(delay, remaining))
        else:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(woken.wait(), timeout=min(delay, remaining))
            woken.clear()
        if not await run_in_threadpool(_pending, db, rows):
            return True
        if time.monotonic() >= next_health_check:
            # The indexer may have started failing (or died) since the write began.
            if not await run_in_threadpool(_indexer_works, db):
                return False
            next_health_check = time.monotonic() + HEALTH_CHECK_SECONDS
        delay = min(delay * 2, MAX_POLL_SECONDS)


def _waker(loop: asyncio.AbstractEventLoop, woken: asyncio.Event) -> Callable[[], None]:
    def wake() -> None:  # called on the indexer's thread
        with contextlib.suppress(RuntimeError):  # a closed loop: nobody waits any more
            loop.call_soon_threadsafe(woken.set)

    return wake


def _pending(db: Engine, rows: OutboxRows) -> bool:
    with Session(db) as session:
        return any_pending(session, rows)


def _indexer_works(db: Engine) -> bool:
    with Session(db) as session:
        return indexer_state.read(session).working
