"""Recording, inside the caller's transaction, which assets' search documents went stale."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import func, insert, literal, select
from sqlmodel import Session, col

from service.models import IndexOutbox, MediaAssetTag, UTCDateTime, utc_now


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
