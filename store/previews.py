"""Previews and image facts of asset files: requesting them inside a write, storing a
worker's result (`store.derived` queues both), and reading what the asset JSON, the
preview route and the duplicate search use."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, delete, select
from sqlmodel import Session, col

from store.derived import PENDING, DerivedQueue, Lease
from store.models import AssetPreview, utc_now

READY = "ready"
NONE = "none"
FAILED = "failed"
# Width and height within this share of each other make a square.
SQUARE_TOLERANCE = 0.05

QUEUE = DerivedQueue(
    AssetPreview, version="renderer_version", file_columns=("small_key", "large_key")
)


def orientation_of(width: int, height: int) -> str:
    """`square` within 5%, else `landscape` or `portrait`."""
    if abs(width - height) <= SQUARE_TOLERANCE * max(width, height):
        return "square"
    return "landscape" if width > height else "portrait"


def to_signed(value: int) -> int:
    """A 64-bit unsigned hash as the signed integer a BIGINT column holds."""
    return value - (1 << 64) if value >= 1 << 63 else value


def to_unsigned(value: int) -> int:
    return value + (1 << 64) if value < 0 else value


def request_previews(
    session: Session, asset_id: uuid.UUID, *, source: str, renderable: bool
) -> list[str]:
    """Inside the write that stores a new file: its previews are to be made (pending), or
    its type has none. Returns the storage keys of the older file's previews, for the
    caller to remove once the write is committed."""
    older = QUEUE.request(session, asset_id, source=source, status=PENDING if renderable else NONE)
    if older is None:
        return []
    return [key for key in (older.small_key, older.large_key) if key]


def forget_previews(session: Session, asset_id: uuid.UUID) -> list[str]:
    """Inside the write that deletes an asset: drop its previews' row, returning the
    storage keys to remove once the delete is committed."""
    preview = AssetPreview
    gone = session.execute(
        delete(preview)
        .where(col(preview.asset_id) == asset_id)
        .returning(col(preview.small_key), col(preview.large_key))
    ).first()
    return [key for key in gone or () if key]


@dataclass(frozen=True)
class Rendered:
    """A worker's result for one file."""

    status: str
    small_key: str | None = None
    large_key: str | None = None
    width: int | None = None
    height: int | None = None
    taken_at: datetime | None = None
    perceptual_hash: int | None = None
    error: str | None = None


def store_previews(db: Engine, lease: Lease, rendered: Rendered, *, version: int) -> bool:
    """Keep a rendering's result (see `DerivedQueue.store`)."""
    facts = rendered.width is not None and rendered.height is not None
    values = {
        "status": rendered.status,
        "small_key": rendered.small_key,
        "large_key": rendered.large_key,
        "width": rendered.width,
        "height": rendered.height,
        "orientation": (
            orientation_of(rendered.width, rendered.height)  # type: ignore[arg-type]
            if facts
            else None
        ),
        "taken_at": rendered.taken_at,
        "perceptual_hash": (
            None if rendered.perceptual_hash is None else to_signed(rendered.perceptual_hash)
        ),
        "error": rendered.error,
        "rendered_at": utc_now(),
    }
    return QUEUE.store(db, lease, values, version=version)


@dataclass(frozen=True)
class PreviewSummary:
    """What the asset JSON shows: `preview` and `image`."""

    status: str
    width: int | None
    height: int | None
    orientation: str | None
    taken_at: datetime | None

    def summary(self) -> dict[str, Any]:
        return {"status": self.status}

    def image(self) -> dict[str, Any] | None:
        if self.width is None or self.height is None:
            return None
        return {
            "width": self.width,
            "height": self.height,
            "orientation": self.orientation,
            "taken_at": self.taken_at,
        }


# An asset without a file has no preview, and no row.
NO_FILE = PreviewSummary(status=NONE, width=None, height=None, orientation=None, taken_at=None)


def summaries(session: Session, asset_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, PreviewSummary]:
    if not asset_ids:
        return {}
    preview = AssetPreview
    rows = session.connection().execute(
        select(
            col(preview.asset_id),
            col(preview.status),
            col(preview.width),
            col(preview.height),
            col(preview.orientation),
            col(preview.taken_at),
        ).where(col(preview.asset_id).in_(asset_ids))
    )
    return {row[0]: PreviewSummary(*row[1:]) for row in rows}


def preview_row(session: Session, asset_id: uuid.UUID) -> AssetPreview | None:
    return session.get(AssetPreview, asset_id)
