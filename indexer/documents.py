"""The one search-document shape, built from the canonical rows; every engine maps to it."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, String, cast, func, select, true, type_coerce
from sqlmodel import Session, col

from indexer.query import list_item, to_micros
from store.content import EMPTY
from store.links import link_key, links_by_asset
from store.models import AssetContent, AssetPreview, MediaAsset, MediaAssetTag, Tag
from store.previews import NONE as NO_PREVIEW


@dataclass(frozen=True)
class SearchDocument:
    """What the index holds of one asset: the fields it searches, filters and sorts on,
    and `item`, the stored list item a page is served from (`indexer.query.list_item`)."""

    id: str
    file_name: str
    file_type: str
    content_type: str
    uploaded_by: str
    file_size_bytes: int
    uploaded_at: int
    created_at: int
    updated_at: int
    tag_ids: list[str]  # in tag-name order, as the asset JSON lists its tags
    tag_names: list[str]
    # The text extracted from the file ("" when there is none, or none yet).
    content: str
    # landscape, portrait or square, once the file has a preview; else None.
    orientation: str | None
    # Its links as `type:id`, in the asset JSON's order, and their distinct types, sorted.
    links: list[str]
    entity_types: list[str]
    item: bytes

    def to_dict(self) -> dict[str, object]:
        # Spelled out rather than dataclasses.asdict, which deep-copies: the Meilisearch
        # engine builds every document it writes from this.
        return {
            "id": self.id,
            "file_name": self.file_name,
            "file_type": self.file_type,
            "content_type": self.content_type,
            "uploaded_by": self.uploaded_by,
            "file_size_bytes": self.file_size_bytes,
            "uploaded_at": self.uploaded_at,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "tag_ids": self.tag_ids,
            "tag_names": self.tag_names,
            "content": self.content,
            "orientation": self.orientation,
            "links": self.links,
            "entity_types": self.entity_types,
            "item": self.item.decode(),
        }

    def fingerprint(self) -> str:
        """A digest of every field: drift checks compare it, so any difference shows."""
        return self.fingerprint_bytes().hex()

    def fingerprint_bytes(self) -> bytes:
        """The fingerprint's 16 bytes, as the embedded index stores them."""
        # The item holds every public field (times to the microsecond, the links, the tag
        # ids in order), and the link fields are made from the same links; the tag names,
        # which the item leaves to the reader, are searched on.
        hashed = hashlib.sha256(self.item)
        hashed.update("\x00".join(self.tag_names).encode("utf-8", "surrogatepass"))
        hashed.update(b"\x01")
        hashed.update(self.content.encode("utf-8", "surrogatepass"))
        return hashed.digest()[:16]


# The asset JSON's columns, in its order (the API's MediaAssetPublic): the stored list
# item is these, then `content`, `preview`, `image` and `links` from their tables, and a
# test holds the two shapes together.
ITEM_FIELDS = (
    "id",
    "file_name",
    "file_type",
    "content_type",
    "storage_location",
    "file_size_bytes",
    "checksum_sha256",
    "uploaded_at",
    "uploaded_by",
    "created_at",
    "updated_at",
)
_ITEM_COLUMNS = tuple(col(getattr(MediaAsset, name)) for name in ITEM_FIELDS)
# An asset without a row: no file, so no text and no preview.
_NO_CONTENT = (None, 0, None, None)
_NO_PREVIEW = (None, None, None, None, None)
# The item's `preview` and `image` (after `content`).
_PREVIEW_COLUMNS = (
    col(AssetPreview.status),
    col(AssetPreview.width),
    col(AssetPreview.height),
    col(AssetPreview.orientation),
    col(AssetPreview.taken_at),
)
# The item's `content` summary (placed after ITEM_FIELDS, before the tags), then the text.
_CONTENT_COLUMNS = (
    col(AssetContent.status),
    col(AssetContent.characters),
    col(AssetContent.error),
    col(AssetContent.text),
)
_TIME_FIELDS = frozenset({"uploaded_at", "created_at", "updated_at"})


class _DecodedRows:
    """Asset rows as SQLAlchemy decodes them (UUIDs, datetimes in UTC): any database."""

    columns: tuple[Any, ...] = _ITEM_COLUMNS

    @staticmethod
    def asset_id(value: Any) -> str:
        return str(value)

    @staticmethod
    def moment(value: Any) -> datetime:
        found: datetime = value
        return found


class _SQLiteRows:
    """Asset rows as SQLite stores them (32 hex digits, ISO text in UTC), decoded here:
    SQLAlchemy's per-value processing took a third of a rebuild's reading time."""

    columns: tuple[Any, ...] = tuple(
        type_coerce(column, String()) if name == "id" or name in _TIME_FIELDS else column
        for name, column in zip(ITEM_FIELDS, _ITEM_COLUMNS, strict=True)
    )

    @staticmethod
    def asset_id(value: str) -> str:
        if len(value) != 32:
            return str(uuid.UUID(value))
        value = value.lower()
        return f"{value[:8]}-{value[8:12]}-{value[12:16]}-{value[16:20]}-{value[20:]}"

    @staticmethod
    def moment(value: str) -> datetime:
        # Naive, which `to_micros` and `list_item` read as UTC: attaching the zone to
        # three datetimes an asset costs more than the rest of the decoding.
        found = datetime.fromisoformat(value)
        if found.tzinfo is None:
            return found
        return found.astimezone(UTC).replace(tzinfo=None)


@dataclass(frozen=True)
class _TagEntry:
    id: str
    name: str
    # The asset JSON lists tags by case-folded name, ties by id.
    order: tuple[str, str]


def _tag_order(tag: _TagEntry) -> tuple[str, str]:
    return tag.order


class DocumentLoader:
    """Builds search documents with one query per batch of assets, off plain rows.

    The tag ids of each asset come back aggregated in its row, as text, and the tags
    themselves from a cache filled on first sight: a full rebuild reads 1M assets and
    millions of links, and building ORM objects for them would cost more than the index.
    """

    def __init__(self, session: Session) -> None:
        self.session = session
        self._tags: dict[str, _TagEntry] = {}
        sqlite = session.get_bind().dialect.name == "sqlite"
        self._rows: type[_DecodedRows | _SQLiteRows] = _SQLiteRows if sqlite else _DecodedRows

    def _asset_rows(self, condition: ColumnElement[bool], limit: int | None) -> list[Sequence[Any]]:
        asset_id = col(MediaAsset.id)
        tag_keys = func.aggregate_strings(cast(col(MediaAssetTag.tag_id), String), ",")
        query = (
            select(*self._rows.columns, tag_keys)
            .outerjoin(MediaAssetTag, col(MediaAssetTag.media_asset_id) == asset_id)
            .where(condition)
            .group_by(asset_id)
            .order_by(asset_id)
            .limit(limit)
        )
        # Core rows on the session's connection: the ORM's result machinery would cost
        # more than the query.
        return list(self.session.connection().execute(query).all())

    def _derived(
        self, asset_ids: list[uuid.UUID], asset_id: Any, columns: Sequence[Any]
    ) -> dict[str, Sequence[Any]]:
        """Columns of a derived table (`asset_id` its key) for each of these assets that
        has a row, by id. A query of its own: grouped with the tags, the texts made SQLite
        sort every byte of them (a rebuild with text went from 22,000 to 3,000 assets a
        second)."""
        if not asset_ids:
            return {}
        rows = self.session.connection().execute(
            select(asset_id, *columns).where(asset_id.in_(asset_ids))
        )
        return {str(row[0]): row[1:] for row in rows}

    def _learn_tags(self, keys: set[str]) -> None:
        unknown = [key for key in keys if key not in self._tags]
        if not unknown:
            return
        tag_id = col(Tag.id)
        rows = self.session.connection().execute(
            select(cast(tag_id, String), tag_id, col(Tag.name), col(Tag.name_key)).where(
                tag_id.in_([uuid.UUID(key) for key in unknown])
            )
        )
        for key, found_id, name, name_key in rows:
            text_id = str(found_id)
            self._tags[key] = _TagEntry(id=text_id, name=name, order=(name_key, text_id))

    def _documents(self, rows: Sequence[Sequence[Any]]) -> list[SearchDocument]:
        # Spelled out for speed, since a rebuild runs it a million times: no per-row dict
        # from zip, tuples unpacked in place, the tags sorted only when there are two.
        split = [row[-1].split(",") if row[-1] else () for row in rows]
        self._learn_tags({key for keys in split for key in keys})
        tags = self._tags
        text_id, moment = self._rows.asset_id, self._rows.moment
        asset_ids = [uuid.UUID(text_id(row[0])) for row in rows]
        contents = self._derived(asset_ids, col(AssetContent.asset_id), _CONTENT_COLUMNS)
        previews = self._derived(asset_ids, col(AssetPreview.asset_id), _PREVIEW_COLUMNS)
        # Only the assets that have links (most have none), by id as text.
        linked = {str(key): found for key, found in links_by_asset(self.session, asset_ids).items()}
        documents = []
        for row, keys in zip(rows, split, strict=True):
            (
                asset_id,
                file_name,
                file_type,
                content_type,
                storage_location,
                file_size_bytes,
                checksum_sha256,
                uploaded_at,
                uploaded_by,
                created_at,
                updated_at,
                _,
            ) = row
            # A tag deleted between the two queries is simply not on the asset any more.
            entries = [tags[key] for key in keys if key in tags]
            if len(entries) > 1:
                entries.sort(key=_tag_order)
            tag_ids = [tag.id for tag in entries]
            asset_id = text_id(asset_id)
            content_status, content_characters, content_error, content_text = contents.get(
                asset_id, _NO_CONTENT
            )
            preview_status, width, height, orientation, taken_at = previews.get(
                asset_id, _NO_PREVIEW
            )
            uploaded_at, created_at, updated_at = (
                moment(uploaded_at),
                moment(created_at),
                moment(updated_at),
            )
            links = linked.get(asset_id, ())
            fields = {  # in ITEM_FIELDS order
                "id": asset_id,
                "file_name": file_name,
                "file_type": file_type,
                "content_type": content_type,
                "storage_location": storage_location,
                "file_size_bytes": file_size_bytes,
                "checksum_sha256": checksum_sha256,
                "uploaded_at": uploaded_at,
                "uploaded_by": uploaded_by,
                "created_at": created_at,
                "updated_at": updated_at,
                "content": (
                    {"status": EMPTY, "characters": 0, "error": None}
                    if content_status is None
                    else {
                        "status": content_status,
                        "characters": content_characters,
                        "error": content_error,
                    }
                ),
                "preview": {"status": preview_status or NO_PREVIEW},
                "image": (
                    None
                    if width is None or height is None
                    else {
                        "width": width,
                        "height": height,
                        "orientation": orientation,
                        "taken_at": taken_at,
                    }
                ),
                "links": [{"entity_type": kind, "entity_id": key} for kind, key in links],
            }
            documents.append(
                SearchDocument(
                    id=asset_id,
                    file_name=file_name,
                    file_type=file_type,
                    content_type=content_type,
                    uploaded_by=uploaded_by,
                    file_size_bytes=file_size_bytes,
                    uploaded_at=to_micros(uploaded_at),
                    created_at=to_micros(created_at),
                    updated_at=to_micros(updated_at),
                    tag_ids=tag_ids,
                    tag_names=[tag.name for tag in entries],
                    content=content_text or "",
                    orientation=orientation,
                    links=[link_key(link) for link in links],
                    entity_types=sorted({kind for kind, _ in links}),
                    item=list_item(fields, tag_ids),
                )
            )
        return documents

    def load(self, asset_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, SearchDocument | None]:
        """The current document of each asset, or None for an asset that no longer exists."""
        if not asset_ids:
            return {}
        column = col(MediaAsset.id)
        found = {
            uuid.UUID(doc.id): doc
            for doc in self._documents(self._asset_rows(column.in_(list(asset_ids)), None))
        }
        return {asset_id: found.get(asset_id) for asset_id in asset_ids}

    def after(
        self, last: uuid.UUID | None, limit: int
    ) -> tuple[list[SearchDocument], uuid.UUID | None]:
        """The next `limit` documents in id order after `last`, and the last id read."""
        column = col(MediaAsset.id)
        condition = true() if last is None else column > last
        documents = self._documents(self._asset_rows(condition, limit))
        return documents, (uuid.UUID(documents[-1].id) if documents else None)

    def batches(self, size: int) -> Iterator[list[SearchDocument]]:
        """Every document in id order, `size` at a time, each batch its own short read: a
        pass over the whole library must not hold one snapshot (or SQLite's WAL) open."""
        last: uuid.UUID | None = None
        while True:
            documents, last = self.after(last, size)
            if not documents:
                return
            self.session.rollback()
            yield documents


def load_documents(
    session: Session, asset_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, SearchDocument | None]:
    """The current document of each asset, or None for an asset that no longer exists."""
    return DocumentLoader(session).load(asset_ids)
