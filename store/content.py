"""The extracted text of asset files: requesting an extraction inside a write, leasing
the next request to a worker, storing its result (and queueing the asset for the index
in the same transaction), and reading what the asset JSON and `/content` show."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Engine, delete, func, insert, or_, select, update
from sqlmodel import Session, col

from store.models import AssetContent, MediaAsset, utc_now
from store.outbox import record_assets

PENDING = "pending"
EXTRACTED = "extracted"
EMPTY = "empty"
UNSUPPORTED = "unsupported"
FAILED = "failed"


@dataclass(frozen=True)
class ContentSummary:
    """What the asset JSON shows of an asset's text."""

    status: str
    characters: int
    error: str | None


# An asset without a file has no text, and no row.
NO_FILE = ContentSummary(status=EMPTY, characters=0, error=None)


@dataclass(frozen=True)
class Lease:
    """A pending extraction a worker took: the file it is about and its type."""

    asset_id: uuid.UUID
    source: str
    file_type: str


def request_extraction(
    session: Session, asset_id: uuid.UUID, *, source: str, extractable: bool
) -> None:
    """Inside the write that stores a new file: its text is to be extracted (pending), or
    its type has none (unsupported). Whatever was extracted from an older file goes."""
    session.execute(delete(AssetContent).where(col(AssetContent.asset_id) == asset_id))
    session.execute(
        insert(AssetContent).values(
            asset_id=asset_id,
            status=PENDING if extractable else UNSUPPORTED,
            source=source,
            characters=0,
            truncated=False,
            requested_at=utc_now(),
        )
    )


def request_again(
    db: Engine, *, statuses: Sequence[str], older_than_version: int | None = None
) -> int:
    """Mark rows pending again (for `extract --failed`, `--all`); return how many."""
    condition: ColumnElement[bool] = col(AssetContent.status).in_(statuses)
    if older_than_version is not None:
        condition = or_(
            condition,
            col(AssetContent.extractor_version).is_(None),
            col(AssetContent.extractor_version) < older_than_version,
        ) & (col(AssetContent.status) != UNSUPPORTED)
    with db.begin() as connection:
        changed = connection.execute(
            update(AssetContent)
            .where(condition)
            .values(status=PENDING, requested_at=utc_now(), leased_until=None)
        )
    return int(changed.rowcount)


def pending_count(db: Engine) -> int:
    with db.connect() as connection:
        found: int = connection.execute(
            select(func.count()).where(col(AssetContent.status) == PENDING)
        ).scalar_one()
    return found


def lease_next(db: Engine, *, lease: timedelta) -> Lease | None:
    """Take the newest pending request nobody holds, for `lease`; None when there is none.
    A worker that dies leaves its lease to run out, and the row is taken again."""
    now = utc_now()
    free = or_(col(AssetContent.leased_until).is_(None), col(AssetContent.leased_until) < now)
    candidate = (
        select(col(AssetContent.asset_id))
        .where(col(AssetContent.status) == PENDING, free)
        .order_by(col(AssetContent.requested_at).desc())
        .limit(1)
    )
    with db.begin() as connection:
        if connection.dialect.name == "postgresql":
            candidate = candidate.with_for_update(skip_locked=True)
        taken = connection.execute(
            update(AssetContent)
            .where(
                col(AssetContent.asset_id) == candidate.scalar_subquery(),
                col(AssetContent.status) == PENDING,
                free,
            )
            .values(leased_until=now + lease)
            .returning(col(AssetContent.asset_id), col(AssetContent.source))
        ).first()
        if taken is None:
            return None
        file_type = connection.execute(
            select(col(MediaAsset.file_type)).where(col(MediaAsset.id) == taken[0])
        ).scalar_one()
    return Lease(asset_id=taken[0], source=taken[1], file_type=file_type)


def store_result(
    db: Engine,
    lease: Lease,
    *,
    status: str,
    text: str,
    truncated: bool,
    error: str | None,
    extractor_version: int,
) -> bool:
    """Keep an extraction's result and queue the asset for the index, in one commit;
    False (nothing stored) when the asset's file was replaced or deleted meanwhile."""
    with Session(db) as session:
        stored = session.execute(
            update(AssetContent)
            .where(
                col(AssetContent.asset_id) == lease.asset_id,
                col(AssetContent.source) == lease.source,
            )
            .values(
                status=status,
                text=text or None,
                characters=len(text),
                truncated=truncated,
                error=error,
                extractor_version=extractor_version,
                extracted_at=utc_now(),
                leased_until=None,
            )
        )
        if stored.rowcount != 1:  # type: ignore[attr-defined]
            return False
        record_assets(session, [lease.asset_id])
        session.commit()
    return True


def summaries(session: Session, asset_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, ContentSummary]:
    """The content summary of each asset that has a row (the others have no file)."""
    if not asset_ids:
        return {}
    rows = session.connection().execute(
        select(
            col(AssetContent.asset_id),
            col(AssetContent.status),
            col(AssetContent.characters),
            col(AssetContent.error),
        ).where(col(AssetContent.asset_id).in_(asset_ids))
    )
    return {
        asset_id: ContentSummary(status=status, characters=characters, error=error)
        for asset_id, status, characters, error in rows
    }


@dataclass(frozen=True)
class ContentText:
    """What `GET /api/media-assets/{id}/content` shows."""

    status: str
    text: str
    characters: int
    truncated: bool
    extracted_at: datetime | None
    error: str | None


def read_text(session: Session, asset_id: uuid.UUID) -> ContentText:
    row = session.get(AssetContent, asset_id)
    if row is None:
        return ContentText(EMPTY, "", 0, False, None, None)
    return ContentText(
        status=row.status,
        text=row.text or "",
        characters=row.characters,
        truncated=row.truncated,
        extracted_at=row.extracted_at,
        error=row.error,
    )


def content_texts(session: Session, asset_ids: Sequence[uuid.UUID]) -> dict[str, str]:
    """The extracted text of each of these assets that has some, by id as text."""
    if not asset_ids:
        return {}
    rows = session.connection().execute(
        select(col(AssetContent.asset_id), col(AssetContent.text)).where(
            col(AssetContent.asset_id).in_(asset_ids), col(AssetContent.text).is_not(None)
        )
    )
    return {str(asset_id): text or "" for asset_id, text in rows}
