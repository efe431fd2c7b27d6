"""Read-your-writes: a write answers once the indexer has applied it, or says it is pending."""

from __future__ import annotations

from fastapi import Request, Response
from sqlmodel import Session

from store.outbox import pending_up_to

PENDING_HEADER = "X-Index-Status"


def await_index(request: Request, response: Response, session: Session) -> None:
    """Wait up to MEDIA_INDEX_WAIT_MS for this write's outbox rows; mark the answer pending
    when they are not applied by then, or at once when the indexer is failing."""
    up_to = pending_up_to(session)
    session.rollback()
    if up_to is None:
        return
    worker = request.app.state.indexer
    timeout = request.app.state.settings.index_wait_ms / 1000
    if worker.last_error is not None or not worker.wait_until_applied(up_to, timeout=timeout):
        response.headers[PENDING_HEADER] = "pending"
