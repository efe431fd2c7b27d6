"""The indexer's state in the database: each indexer process registers, beats its heart,
reports how far it got and its last error, and removes its row when it stops cleanly; any
process reads them back to learn whether writes are being indexed."""

from __future__ import annotations

import os
import secrets
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import (
    ColumnElement,
    Engine,
    case,
    delete,
    func,
    insert,
    literal,
    select,
    type_coerce,
    update,
)
from sqlalchemy import DateTime as SADateTime
from sqlmodel import Session, col

from store.models import IndexerState, UTCDateTime, utc_now

HEARTBEAT_SECONDS = 1.0
# Several missed heartbeats, so that one slow write (SQLite's busy wait, a pause of the
# process) does not declare an indexer dead.
STALE_AFTER_SECONDS = 5.0
# Rows of indexers that died without stopping stay visible (with their last error) for
# this long, then the next indexer to start removes them; so that a crash loop does not
# pile them up, it keeps only the newest few.
FORGET_AFTER = timedelta(days=1)
KEEP_DEAD = 5


def new_indexer_id() -> str:
    """host:pid:random: unique even when a restarted process gets the same pid."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


def _now(session: Session, *, minus: timedelta = timedelta(0)) -> ColumnElement[datetime]:
    """The database's clock on PostgreSQL, so that processes on different hosts agree on a
    heartbeat's age; a SQLite database is a file on one host, whose clock they all share."""
    if session.get_bind().dialect.name == "postgresql":
        now = func.statement_timestamp(type_=SADateTime(timezone=True))
        return type_coerce(now - minus if minus else now, UTCDateTime())
    return literal(utc_now() - minus, UTCDateTime())


def register(db: Engine, indexer_id: str) -> None:
    """Add this indexer's row (healthy, nothing applied yet), forgetting long-dead ones."""
    with Session(db) as session:
        heartbeat = col(IndexerState.heartbeat_at)
        session.execute(delete(IndexerState).where(heartbeat < _now(session, minus=FORGET_AFTER)))
        stale = _now(session, minus=timedelta(seconds=STALE_AFTER_SECONDS))
        surplus = (
            select(col(IndexerState.indexer_id))
            .where(heartbeat < stale)
            .order_by(heartbeat.desc())
            .offset(KEEP_DEAD)
        )
        session.execute(delete(IndexerState).where(col(IndexerState.indexer_id).in_(surplus)))
        _insert(session, indexer_id, applied_up_to=None, last_error=None)
        session.commit()


def _insert(
    session: Session, indexer_id: str, *, applied_up_to: int | None, last_error: str | None
) -> None:
    now = _now(session)
    session.execute(
        insert(IndexerState).values(
            indexer_id=indexer_id,
            started_at=now,
            heartbeat_at=now,
            applied_up_to=applied_up_to,
            last_error=last_error,
            last_error_at=None if last_error is None else now,
        )
    )


def report(
    db: Engine, indexer_id: str, *, applied_up_to: int | None, last_error: str | None
) -> None:
    """A heartbeat carrying the indexer's progress and its error (None when healthy).

    `last_error_at` says since when this same error has been reported."""
    with Session(db) as session:
        now = _now(session)
        error_since: ColumnElement[datetime] | None = None
        if last_error is not None:
            unchanged = col(IndexerState.last_error) == last_error
            error_since = case((unchanged, col(IndexerState.last_error_at)), else_=now)
        updated = session.execute(
            update(IndexerState)
            .where(col(IndexerState.indexer_id) == indexer_id)
            .values(
                heartbeat_at=now,
                applied_up_to=applied_up_to,
                last_error=last_error,
                last_error_at=error_since,
            )
        )
        if updated.rowcount == 0:  # type: ignore[attr-defined]
            # Forgotten after a very long pause (say SIGSTOP): announce ourselves again.
            _insert(session, indexer_id, applied_up_to=applied_up_to, last_error=last_error)
        session.commit()


def unregister(db: Engine, indexer_id: str) -> None:
    with Session(db) as session:
        session.execute(delete(IndexerState).where(col(IndexerState.indexer_id) == indexer_id))
        session.commit()


@dataclass(frozen=True)
class IndexerStatus:
    indexer_id: str
    alive: bool
    started_at: datetime
    heartbeat_age_seconds: float
    applied_up_to: int | None
    last_error: str | None
    last_error_at: datetime | None

    def as_json(self) -> dict[str, object]:
        return {
            "id": self.indexer_id,
            "alive": self.alive,
            "started_at": self.started_at.isoformat(),
            "heartbeat_age_seconds": round(self.heartbeat_age_seconds, 3),
            "applied_up_to": self.applied_up_to,
            "last_error": self.last_error,
            "last_error_at": self.last_error_at.isoformat() if self.last_error_at else None,
        }


@dataclass(frozen=True)
class IndexerReport:
    """Every registered indexer, the live ones first (freshest heartbeat first)."""

    indexers: list[IndexerStatus]

    @property
    def alive(self) -> list[IndexerStatus]:
        return [indexer for indexer in self.indexers if indexer.alive]

    @property
    def working(self) -> bool:
        """Whether some live indexer reports no error: then writes get indexed."""
        return any(indexer.last_error is None for indexer in self.alive)

    @property
    def last_error(self) -> str | None:
        """The most recent error of a live indexer, if any reports one."""
        failing = [indexer for indexer in self.alive if indexer.last_error is not None]
        if not failing:
            return None
        newest = max(failing, key=lambda indexer: indexer.last_error_at or indexer.started_at)
        return newest.last_error

    @property
    def problem(self) -> str | None:
        """Why nothing gets indexed, as a sentence; None while some indexer works."""
        if self.working:
            return None
        if not self.alive:
            return (
                f"no indexer has reported in the last {STALE_AFTER_SECONDS:g} s: "
                "start `media-assets indexer` (or serve with MEDIA_RUN_INDEXER=true)"
            )
        return f"the indexer is failing: {self.last_error}"


def read(session: Session) -> IndexerReport:
    rows = session.execute(
        select(IndexerState, _now(session)).order_by(
            col(IndexerState.heartbeat_at).desc(), col(IndexerState.indexer_id)
        )
    ).all()
    indexers = []
    for state, now in rows:
        age = max((now - state.heartbeat_at).total_seconds(), 0.0)
        indexers.append(
            IndexerStatus(
                indexer_id=state.indexer_id,
                alive=age <= STALE_AFTER_SECONDS,
                started_at=state.started_at,
                heartbeat_age_seconds=age,
                applied_up_to=state.applied_up_to,
                last_error=state.last_error,
                last_error_at=state.last_error_at,
            )
        )
    return IndexerReport(indexers=indexers)
