"""Claiming, coalescing and acknowledging outbox rows: the indexer's side of the outbox."""

from __future__ import annotations

import fcntl
import uuid
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from sqlalchemy import Engine, Row, delete, exists, insert, select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from indexer import replay
from indexer.query import EngineUnavailable
from store.models import IndexOutbox, IndexRebuild, IndexReplay


@dataclass(frozen=True)
class Claim:
    """A batch of outbox rows in id order, reduced to the distinct assets they name."""

    row_ids: list[int]
    asset_ids: list[uuid.UUID]


def holds_locks(session: Session) -> bool:
    """Whether claims lock their rows until acknowledged (PostgreSQL), so several
    indexers can share the outbox; SQLite has one writer at a time anyway."""
    return session.get_bind().dialect.name == "postgresql"


def claim(session: Session, *, limit: int) -> Claim:
    """The oldest rows, in id order. On PostgreSQL the rows stay locked until the claim's
    transaction ends, and another indexer skips them and every later row of their assets,
    so no asset's documents are ever written out of order."""
    row_id, asset_id = col(IndexOutbox.id), col(IndexOutbox.asset_id)
    query = select(row_id, asset_id).order_by(row_id).limit(limit)
    if not holds_locks(session):
        rows = session.execute(query).all()
        return _claim_of(rows)
    earlier = aliased(IndexOutbox)
    first_of_their_asset = ~exists().where(
        col(earlier.asset_id) == asset_id, col(earlier.id) < row_id
    )
    heads = session.execute(
        query.where(first_of_their_asset).with_for_update(skip_locked=True)
    ).all()
    if not heads:
        return Claim(row_ids=[], asset_ids=[])
    # The later rows of the same assets come along: one reload serves them all.
    rows = session.execute(
        select(row_id, asset_id)
        .where(asset_id.in_({asset for _, asset in heads}))
        .order_by(row_id)
        .with_for_update(skip_locked=True)
    ).all()
    return _claim_of(rows)


def _claim_of(rows: Sequence[Row[int, uuid.UUID]]) -> Claim:
    # Many rows for one asset become one reload: the latest state wins anyway.
    asset_ids = list(dict.fromkeys(asset_id for _, asset_id in rows))
    return Claim(row_ids=[row_id for row_id, _ in rows], asset_ids=asset_ids)


def acknowledge(
    session: Session,
    row_ids: list[int],
    *,
    swaps_ahead: Collection[int] = (),
    apply_again: Callable[[], None] | None = None,
) -> None:
    """Delete applied rows. While any rebuild is registered, the same transaction first
    records their assets for it to replay (`indexer.replay` says why that is enough).

    `swaps_ahead` are the rebuilds that had not swapped when the batch was claimed; if
    one of them swapped meanwhile, the batch may have gone into the old index, and
    `apply_again` writes it into the new one before the rows are deleted (which is when
    their writers are answered).

    On PostgreSQL the rebuild rows are read FOR KEY SHARE: a rebuild that is swapping
    holds its row FOR UPDATE, so this waits until the swap is recorded; a rebuild that is
    finishing deletes its row, so it waits for this transaction to commit and then sees
    what it recorded, and this one, if it comes second, sees no rebuild and records
    nothing; no replay row is left behind."""
    if not row_ids:
        return
    applied = col(IndexOutbox.id).in_(row_ids)
    session.execute(select(col(IndexRebuild.id)).with_for_update(read=True, key_share=True)).all()
    # The check again inside the INSERT: SQLite's driver runs the SELECT above outside any
    # transaction, and only this one statement is atomic there. Being a write, it also
    # takes SQLite's write lock, so a swap window cannot be open from here on.
    rebuilding = select(col(IndexRebuild.id)).exists()
    session.execute(
        insert(IndexReplay).from_select(
            [col(IndexReplay.asset_id)],
            select(col(IndexOutbox.asset_id)).where(applied, rebuilding).distinct(),
        )
    )
    if swaps_ahead and apply_again is not None and replay.swapped_since(session, swaps_ahead):
        apply_again()
    session.execute(delete(IndexOutbox).where(applied))
    session.commit()


class OutboxLock:
    """On SQLite only one indexer may claim the outbox: claims there cannot lock rows, and
    two indexers could write an asset's documents out of order. A file lock beside the
    database file enforces it; PostgreSQL needs none (its claims lock rows)."""

    def __init__(self, handle: IO[bytes]) -> None:
        self._handle = handle

    @classmethod
    def take(cls, db: Engine) -> OutboxLock | None:
        if db.dialect.name != "sqlite" or not db.url.database or db.url.database == ":memory:":
            return None
        path = Path(db.url.database).with_suffix(".indexer.lock")
        handle = path.open("wb")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            handle.close()
            raise EngineUnavailable(
                f"Another indexer already works on {db.url.database}: on SQLite only one "
                "process may index. Stop it, or run this one with MEDIA_RUN_INDEXER=false."
            ) from exc
        return cls(handle)

    def release(self) -> None:
        fcntl.flock(self._handle, fcntl.LOCK_UN)
        self._handle.close()
