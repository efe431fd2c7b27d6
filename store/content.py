"""The extracted text of asset files: requesting an extraction inside a write, storing a
worker's result (`store.derived` queues both), and reading what the asset JSON and
`/content` show."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, select
from sqlmodel import Session, col

from store.derived import PENDING, DerivedQueue, Lease
from store.models import AssetContent, utc_now

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


QUEUE = DerivedQueue(
    AssetContent, version="extractor_version", defaults={"characters": 0, "truncated": False}
)


def request_extraction(
    session: Session, asset_id: uuid.UUID, *, source: str, extractable: bool
) -> None:
    """Inside the write that stores a new file: its text is to be extracted (pending), or
    its type has none (unsupported). Whatever was extracted from an older file goes."""
    QUEUE.request(session, asset_id, source=source, status=PENDING if extractable else UNSUPPORTED)


def store_text(
    db: Engine,
    lease: Lease,
    *,
    status: str,
    text: str,
    truncated: bool,
    error: str | None,
    extractor_version: int,
) -> bool:
    """Keep an extraction's result (see `DerivedQueue.store`)."""
    values = {
        "status": status,
        "text": text or None,
        "characters": len(text),
        "truncated": truncated,
        "error": error,
        "extracted_at": utc_now(),
    }
    return QUEUE.store(db, lease, values, version=extractor_version)


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
