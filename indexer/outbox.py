"""Claiming, coalescing and acknowledging outbox rows, and measuring the indexer's lag."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlmodel import Session, col

from service.models import IndexOutbox


@dataclass(frozen=True)
class Claim:
    """A batch of outbox rows in id order, reduced to the distinct assets they name."""

    row_ids: list[int]
    asset_ids: list[uuid.UUID]


def claim(session: Session, *, limit: int) -> Claim:
    rows = session.execute(
        select(col(IndexOutbox.id), col(IndexOutbox.asset_id))
        .order_by(col(IndexOutbox.id))
        .limit(limit)
    ).all()
    # Many rows for one asset become one reload: the latest state wins anyway.
    asset_ids = list(dict.fromkeys(asset_id for _, asset_id in rows))
    return Claim(row_ids=[row_id for row_id, _ in rows], asset_ids=asset_ids)


def acknowledge(session: Session, row_ids: list[int]) -> None:
    if row_ids:
        session.execute(delete(IndexOutbox).where(col(IndexOutbox.id).in_(row_ids)))
        session.commit()


def any_pending_up_to(session: Session, up_to: int) -> bool:
    query = select(col(IndexOutbox.id)).where(col(IndexOutbox.id) <= up_to).limit(1)
    return session.execute(query).first() is not None


@dataclass(frozen=True)
class Lag:
    pending: int
    oldest: datetime | None


def lag(session: Session) -> Lag:
    pending, oldest = session.execute(
        select(func.count(), func.min(col(IndexOutbox.created_at)))
    ).one()
    return Lag(pending=int(pending), oldest=oldest)
