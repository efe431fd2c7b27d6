"""The index outbox: recording, inside the caller's transaction, which assets' search
documents went stale, knowing which rows a write recorded (what it waits for), and
measuring how far the indexer is behind."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, func, insert, inspect, literal, or_, select
from sqlmodel import Session, col

from store.models import IndexOutbox, MediaAssetTag, UTCDateTime, utc_now

# The rows a session recorded live in its `info` dict, so that the service functions
# need not hand them back: a request's session is its unit of work.
_WRITTEN = "store.outbox.written"
# A write waits on a few id ranges; past this many, on the one range that spans them.
MAX_RANGES = 16


@dataclass
class _Written:
    rows: list[IndexOutbox] = field(default_factory=list)
    ranges: list[tuple[int, int]] = field(default_factory=list)


def _written(session: Session) -> _Written:
    written: _Written = session.info.setdefault(_WRITTEN, _Written())
    return written


def record_assets(session: Session, asset_ids: Iterable[uuid.UUID]) -> None:
    now = utc_now()
    rows = [IndexOutbox(asset_id=asset_id, created_at=now) for asset_id in asset_ids]
    session.add_all(rows)
    _written(session).rows.extend(rows)


def record_tag_holders(session: Session, tag_id: uuid.UUID) -> None:
    """Every asset carrying the tag: one INSERT … SELECT, so 100,000 holders never become
    objects in Python. Call it before the links go when the tag is deleted."""
    record_selected(
        session,
        select(col(MediaAssetTag.media_asset_id)).where(col(MediaAssetTag.tag_id) == tag_id),
    )


def record_selected(session: Session, asset_ids: Select[Any]) -> None:
    """The assets a SELECT of one column names (a tag's holders, a bulk change's
    selection): one INSERT … SELECT, one statement however many they are.

    Only the lowest and highest new id are kept. Other transactions' rows may fall
    between them (PostgreSQL hands out ids to concurrent inserts interleaved), so the
    write may also wait for those; it never misses one of its own."""
    rows = asset_ids.add_columns(literal(utc_now(), type_=UTCDateTime()))
    # Core rows on the session's connection: the ORM's result machinery would cost more
    # than the insert for 100,000 ids.
    inserted = session.connection().execute(
        insert(IndexOutbox)
        .from_select([col(IndexOutbox.asset_id), col(IndexOutbox.created_at)], rows)
        .returning(col(IndexOutbox.id))
    )
    new_ids = [row_id for row_id in inserted.scalars() if row_id is not None]
    if new_ids:
        _written(session).ranges.append((min(new_ids), max(new_ids)))


@dataclass(frozen=True)
class OutboxRows:
    """Outbox rows named by inclusive id ranges."""

    ranges: tuple[tuple[int, int], ...]

    def condition(self) -> ColumnElement[bool]:
        row_id = col(IndexOutbox.id)
        return or_(*(row_id.between(low, high) for low, high in self.ranges))


def written_rows(session: Session) -> OutboxRows | None:
    """The outbox rows this session recorded and flushed (read it after the commit): what
    its write waits for. None when it recorded none.

    Objects of a rolled-back transaction lose their ids and are left out; a tag-holder
    range of one stays, and names no rows or (SQLite reuses rolled-back ids) later rows
    of other writes: the wait can only be longer for it, never cut short."""
    written = session.info.get(_WRITTEN)
    if written is None:
        return None
    identities = (inspect(row).identity for row in written.rows)
    ids = sorted(identity[0] for identity in identities if identity is not None)
    ranges = list(written.ranges)
    for row_id in ids:
        if ranges and ranges[-1][1] == row_id - 1:
            ranges[-1] = (ranges[-1][0], row_id)
        else:
            ranges.append((row_id, row_id))
    if not ranges:
        return None
    if len(ranges) > MAX_RANGES:
        ranges = [(min(low for low, _ in ranges), max(high for _, high in ranges))]
    return OutboxRows(ranges=tuple(ranges))


def any_pending(session: Session, rows: OutboxRows) -> bool:
    """Whether any of these rows is still in the outbox (the indexer deletes applied rows)."""
    query = select(col(IndexOutbox.id)).where(rows.condition()).limit(1)
    return session.execute(query).first() is not None


def pending_count(session: Session, rows: OutboxRows) -> int:
    """How many of these rows are still in the outbox."""
    query = select(func.count()).select_from(IndexOutbox).where(rows.condition())
    return int(session.execute(query).scalar_one())


def newest_row(session: Session) -> int | None:
    """The id of the newest row in the outbox (committed, as this session sees it)."""
    newest: int | None = session.execute(select(func.max(col(IndexOutbox.id)))).scalar_one()
    return newest


@dataclass(frozen=True)
class Lag:
    pending: int
    oldest: datetime | None


def lag(session: Session) -> Lag:
    pending, oldest = session.execute(
        select(func.count(), func.min(col(IndexOutbox.created_at)))
    ).one()
    return Lag(pending=int(pending), oldest=oldest)
