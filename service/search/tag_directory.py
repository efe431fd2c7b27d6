"""Every tag's JSON, kept per process and revalidated by one number per request.

List pages carry tag details (name, colour, asset count) that change without the
assets that hold them changing, so the index stores only tag ids and pages take
the rest from here. Triggers bump `tag_revision` in the same transaction as any
change to a tag (migration 0004); while that number holds, the directory is right.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy import Engine, Row, select
from sqlmodel import col

from store.models import Tag

# The tag JSON's fields in its order (service.tags.schemas.TagPublic; a test holds the
# two together).
TAG_FIELDS = ("id", "name", "description", "color", "created_at", "updated_at", "asset_count")
_TAG_COLUMNS = tuple(col(getattr(Tag, name)) for name in TAG_FIELDS)


@dataclass(frozen=True)
class FacetTag:
    id: str
    name: str
    color: str | None


@dataclass(frozen=True)
class TagSnapshot:
    """The tags as of one revision: JSON bytes and facet details, by id as stored in items."""

    revision: int
    json: dict[bytes, bytes] = field(default_factory=dict)
    facet: dict[str, FacetTag] = field(default_factory=dict)


class TagDirectory:
    def __init__(self, db: Engine) -> None:
        self._db = db
        self._snapshot = TagSnapshot(revision=-1)
        self._lock = threading.Lock()

    def current(self) -> TagSnapshot:
        """The tags now: one small query when nothing changed, a reload when anything did."""
        # The driver's own connection from the pool: this runs on every list request,
        # and SQLAlchemy's statement machinery would cost more than the query.
        raw = self._db.raw_connection()
        try:
            cursor = raw.cursor()
            cursor.execute("SELECT revision FROM tag_revision")
            row: Any = cursor.fetchone()
            revision = int(row[0])
            cursor.close()
        finally:
            raw.close()  # back to the pool, which ends the transaction
        if revision == self._snapshot.revision:
            return self._snapshot
        with self._lock:
            if revision != self._snapshot.revision:
                # Read after the revision: the rows may be newer than it, never older, so
                # the snapshot is at least as fresh as its label.
                with self._db.connect() as connection:
                    rows = connection.execute(select(*_TAG_COLUMNS)).all()
                self._snapshot = _snapshot(revision, rows)
            return self._snapshot


def _snapshot(revision: int, rows: Sequence[Row[Any]]) -> TagSnapshot:
    snapshot = TagSnapshot(revision=revision)
    for row in rows:
        values = dict(zip(TAG_FIELDS, row, strict=True))
        tag_id = str(values["id"])
        snapshot.json[tag_id.encode()] = orjson.dumps(values, option=orjson.OPT_UTC_Z)
        snapshot.facet[tag_id] = FacetTag(id=tag_id, name=values["name"], color=values["color"])
    return snapshot
