"""The index outbox: recording, inside the caller's transaction, which assets' search
documents went stale, and measuring how far the indexer is behind."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, insert, literal, select
from sqlmodel import Session, col

from store.models import IndexOutbox, MediaAssetTag, UTCDateTime, utc_now


def record_assets(session: Session, asset_ids: Iterable[uuid.UUID]) -> None:
    now = utc_now()
    session.add_all(IndexOutbox(asset_id=asset_id, created_at=now) for asset_id in asset_ids)


def record_tag_holders(session: Session, tag_id: uuid.UUID) -> None:
    """Every asset carrying the tag: one INSERT … SELECT, so 100,000 holders never pass
    through Python. Call it before the links go when the tag is deleted."""
    holders = select(
        col(MediaAssetTag.media_asset_id), literal(utc_now(), type_=UTCDateTime())
    ).where(col(MediaAssetTag.tag_id) == tag_id)
    session.execute(
        insert(IndexOutbox).from_select(
            [col(IndexOutbox.asset_id), col(IndexOutbox.created_at)], holders
        )
    )


def pending_up_to(session: Session) -> int | None:
    """The newest outbox id now: once no row up to it remains, this moment's writes are indexed."""
    return session.execute(select(func.max(col(IndexOutbox.id)))).scalar_one_or_none()


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
