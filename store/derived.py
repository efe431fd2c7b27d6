"""Data derived from each asset's file by a worker (its text, its previews): one table per
kind, one row per asset with a file, and the same queue over each.

A write that stores a new file asks for the derived data in its own transaction (a
`pending` row, or the status that says the type has none). A worker leases the newest
pending row (a lease, not a lock: it outlives no worker that dies, and several workers
or a command beside the service share the queue), works on the file without holding
anything in the database, and stores its result with the asset's outbox row in one
commit, but only if the row still names the file it worked on: a result for a file
replaced meanwhile is dropped, and the new file's request waits its turn.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Engine,
    Row,
    Table,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlmodel import Session, SQLModel, col

from store.models import AssetContent, AssetPreview, MediaAsset, utc_now
from store.outbox import record_assets

PENDING = "pending"


@dataclass(frozen=True)
class Lease:
    """A pending request a worker took: the file it is about and its type."""

    asset_id: uuid.UUID
    source: str
    file_type: str


class DerivedQueue:
    """The queue over one table of derived data (`AssetContent`, `AssetPreview`)."""

    def __init__(
        self,
        model: type[AssetContent] | type[AssetPreview],
        *,
        version: str,
        defaults: Mapping[str, Any] | None = None,
        file_columns: Sequence[str] = (),
    ) -> None:
        self.table: Table = SQLModel.metadata.tables[str(model.__tablename__)]
        # The column that records which version of the worker's code made a result.
        self._version = self.table.c[version]
        # Values of the table's NOT NULL columns for a request that has no result yet.
        self._defaults = dict(defaults or {})
        # The columns that name stored files made for a row (a text names none).
        self._file_columns = [self.table.c[name] for name in file_columns]

    def request(
        self, session: Session, asset_id: uuid.UUID, *, source: str, status: str
    ) -> Row[Any] | None:
        """Inside the write that stores a new file: ask for its derived data (`pending`),
        or record that its type has none. Whatever was derived from an older file goes:
        its stored files (the `file_columns`) are returned, for the caller to remove once
        the write is committed."""
        table = self.table
        gone = delete(table).where(table.c.asset_id == asset_id)
        older = None
        if self._file_columns:
            older = session.execute(gone.returning(*self._file_columns)).first()
        else:
            session.execute(gone)
        session.execute(
            insert(table).values(
                asset_id=asset_id,
                source=source,
                status=status,
                requested_at=utc_now(),
                **self._defaults,
            )
        )
        return older

    def request_again(
        self, db: Engine, *, statuses: Sequence[str], older_than_version: int | None = None
    ) -> int:
        """Mark rows with these statuses pending again, and with `older_than_version` also
        every row made by an older version (not those whose type has nothing); how many."""
        table = self.table
        condition: ColumnElement[bool] = table.c.status.in_(statuses)
        if older_than_version is not None:
            older = or_(self._version.is_(None), self._version < older_than_version)
            condition = or_(condition, older & table.c.status.in_([*statuses, PENDING]))
        with db.begin() as connection:
            changed = connection.execute(
                update(table)
                .where(condition)
                .values(status=PENDING, requested_at=utc_now(), leased_until=None)
            )
        return int(changed.rowcount)

    def pending_count(self, db: Engine) -> int:
        with db.connect() as connection:
            found: int = connection.execute(
                select(func.count()).select_from(self.table).where(self.table.c.status == PENDING)
            ).scalar_one()
        return found

    def lease_next(self, db: Engine, *, lease: timedelta) -> Lease | None:
        """Take the newest pending request nobody holds, for `lease`; None when there is
        none. A worker that dies leaves its lease to run out, and the row is taken again."""
        table = self.table
        now = utc_now()
        free = or_(table.c.leased_until.is_(None), table.c.leased_until < now)
        candidate = (
            select(table.c.asset_id)
            .where(table.c.status == PENDING, free)
            .order_by(table.c.requested_at.desc())
            .limit(1)
        )
        with db.begin() as connection:
            if connection.dialect.name == "postgresql":
                candidate = candidate.with_for_update(skip_locked=True)
            taken = connection.execute(
                update(table)
                .where(
                    table.c.asset_id == candidate.scalar_subquery(),
                    table.c.status == PENDING,
                    free,
                )
                .values(leased_until=now + lease)
                .returning(table.c.asset_id, table.c.source)
            ).first()
            if taken is None:
                return None
            file_type = connection.execute(
                select(col(MediaAsset.file_type)).where(col(MediaAsset.id) == taken[0])
            ).scalar_one()
        return Lease(asset_id=taken[0], source=taken[1], file_type=file_type)

    def store(self, db: Engine, lease: Lease, values: Mapping[str, Any], *, version: int) -> bool:
        """Keep a result and queue the asset for the index, in one commit; False (nothing
        stored) when the asset's file was replaced or deleted meanwhile."""
        table = self.table
        with Session(db) as session:
            stored = session.execute(
                update(table)
                .where(table.c.asset_id == lease.asset_id, table.c.source == lease.source)
                .values(**values, leased_until=None, **{self._version.name: version})
            )
            if stored.rowcount != 1:  # type: ignore[attr-defined]
                return False
            record_assets(session, [lease.asset_id])
            session.commit()
        return True
