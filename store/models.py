"""SQLModel tables: the canonical records of assets, tags and the links between them,
assets' links to other modules' entities, saved views, and the index's bookkeeping (its
outbox, and the rebuilds under way with the writes they replay)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy import DateTime as SADateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel

TAG_NAME_UNIQUE = "uq_tag_name_key"
VIEW_NAME_UNIQUE = "uq_saved_view_name_key"


def utc_now() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC on the way in and out, whatever the dialect stores.

    SQLite has no time zones: without this, values would come back naive.
    """

    impl = SADateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


# 64-bit where values or ids can pass 2**31 (a 3 GB file, a long-lived outbox). SQLite's
# INTEGER is 64-bit already, and an outbox id must stay INTEGER there to be the rowid.
BIG_INTEGER = BigInteger().with_variant(Integer(), "sqlite")


def _timestamp_column(*, index: bool = False) -> Column[datetime]:
    return Column(UTCDateTime(), nullable=False, index=index)


def tag_name_key(name: str) -> str:
    """The form in which tag names must be unique: trimmed and case-folded."""
    return name.strip().casefold()


# Saved view names are unique in the same form as tag names (` Mine ` and `MINE` collide).
view_name_key = tag_name_key


class MediaAsset(SQLModel, table=True):
    __tablename__ = "media_asset"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    file_name: str = Field(sa_column=Column(String(255), nullable=False))
    file_type: str = Field(sa_column=Column(String(32), nullable=False))
    content_type: str = Field(sa_column=Column(String(255), nullable=False))
    storage_location: str | None = Field(default=None, sa_column=Column(String(255)))
    file_size_bytes: int = Field(default=0, sa_column=Column(BIG_INTEGER, nullable=False))
    # Indexed: duplicates are found by it.
    checksum_sha256: str | None = Field(default=None, sa_column=Column(String(64), index=True))
    uploaded_by: str = Field(sa_column=Column(String(255), nullable=False, index=True))
    uploaded_at: datetime = Field(default_factory=utc_now, sa_column=_timestamp_column(index=True))
    created_at: datetime = Field(default_factory=utc_now, sa_column=_timestamp_column())
    updated_at: datetime = Field(default_factory=utc_now, sa_column=_timestamp_column())


class AssetContent(SQLModel, table=True):
    """The text extracted from an asset's file, kept canonically so that a reindex never
    extracts again (the derived-data worker fills it in after each upload or replace).

    One row per asset that has a file; an asset without a file has none. `status` is
    pending, extracted, empty, unsupported or failed (the contract's words)."""

    __tablename__ = "asset_content"
    # The worker takes the newest pending request first.
    __table_args__ = (Index("ix_asset_content_status_requested", "status", "requested_at"),)

    asset_id: uuid.UUID = Field(
        sa_column=Column(Uuid(), ForeignKey("media_asset.id", ondelete="CASCADE"), primary_key=True)
    )
    status: str = Field(sa_column=Column(String(16), nullable=False))
    # The storage key of the file this row is about: a result for a file since replaced
    # is dropped rather than stored over the new file's pending row.
    source: str = Field(sa_column=Column(String(255), nullable=False))
    text: str | None = Field(default=None, sa_column=Column(Text))
    characters: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    truncated: bool = Field(default=False, sa_column=Column(Boolean, nullable=False))
    error: str | None = Field(default=None, sa_column=Column(String(1000)))
    extractor_version: int | None = Field(default=None, sa_column=Column(Integer))
    requested_at: datetime = Field(default_factory=utc_now, sa_column=_timestamp_column())
    extracted_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    # A worker that took the row: others leave it alone until then (a killed one's
    # lease runs out and the row is taken again).
    leased_until: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))


class AssetPreview(SQLModel, table=True):
    """The previews and image facts made from an asset's file (the derived-data worker makes
    them after each upload or replace, beside its text).

    One row per asset that has a file. `status` is pending, ready, none (a type without
    previews) or failed. The two WebP renditions live in storage under `small_key` and
    `large_key`, which name the source file they were made from."""

    __tablename__ = "asset_preview"
    __table_args__ = (Index("ix_asset_preview_status_requested", "status", "requested_at"),)

    asset_id: uuid.UUID = Field(
        sa_column=Column(Uuid(), ForeignKey("media_asset.id", ondelete="CASCADE"), primary_key=True)
    )
    status: str = Field(sa_column=Column(String(16), nullable=False))
    source: str = Field(sa_column=Column(String(255), nullable=False))
    small_key: str | None = Field(default=None, sa_column=Column(String(255)))
    large_key: str | None = Field(default=None, sa_column=Column(String(255)))
    width: int | None = Field(default=None, sa_column=Column(Integer))
    height: int | None = Field(default=None, sa_column=Column(Integer))
    orientation: str | None = Field(default=None, sa_column=Column(String(9)))
    taken_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    # The 64-bit perceptual hash of an image, as a signed 64-bit integer (two's complement).
    perceptual_hash: int | None = Field(default=None, sa_column=Column(BigInteger))
    error: str | None = Field(default=None, sa_column=Column(String(1000)))
    renderer_version: int | None = Field(default=None, sa_column=Column(Integer))
    requested_at: datetime = Field(default_factory=utc_now, sa_column=_timestamp_column())
    rendered_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    leased_until: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))


class Tag(SQLModel, table=True):
    __tablename__ = "tag"
    __table_args__ = (UniqueConstraint("name_key", name=TAG_NAME_UNIQUE),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    name: str = Field(sa_column=Column(String(100), nullable=False))
    # Uniqueness lives in the database on this derived column, so two concurrent
    # creates of `Leather` and ` leather ` cannot both succeed on any dialect.
    name_key: str = Field(sa_column=Column(String(400), nullable=False))
    description: str | None = Field(default=None, sa_column=Column(String(2000)))
    # Case-folded in Python for tag search: SQLite's lower() folds ASCII only.
    description_key: str | None = Field(default=None, sa_column=Column(Text))
    color: str | None = Field(default=None, sa_column=Column(String(7)))
    # Kept exact by triggers on media_asset_tag (migration 0003), never written here:
    # every tag JSON shows it, and counting links per read is too slow at scale.
    asset_count: int = Field(
        default=0, sa_column=Column(Integer, nullable=False, server_default="0")
    )
    created_at: datetime = Field(default_factory=utc_now, sa_column=_timestamp_column())
    updated_at: datetime = Field(default_factory=utc_now, sa_column=_timestamp_column())


class TagRevision(SQLModel, table=True):
    """One row whose number moves with every change to any tag (triggers of migration
    0004): a process that caches the tags only compares this number to stay right."""

    __tablename__ = "tag_revision"

    id: int = Field(default=1, primary_key=True)
    revision: int = Field(sa_column=Column(BigInteger, nullable=False))


class MediaAssetTag(SQLModel, table=True):
    __tablename__ = "media_asset_tag"
    __table_args__ = (Index("ix_media_asset_tag_tag_id", "tag_id"),)

    media_asset_id: uuid.UUID = Field(
        sa_column=Column(
            Uuid(),
            ForeignKey("media_asset.id", ondelete="CASCADE"),
            primary_key=True,
            nullable=False,
        )
    )
    tag_id: uuid.UUID = Field(
        sa_column=Column(
            Uuid(), ForeignKey("tag.id", ondelete="CASCADE"), primary_key=True, nullable=False
        )
    )


class SavedView(SQLModel, table=True):
    """A named set of list parameters (`GET /api/media-assets`), shared with every reader;
    only its creator or an admin changes it."""

    __tablename__ = "saved_view"
    __table_args__ = (UniqueConstraint("name_key", name=VIEW_NAME_UNIQUE),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    name: str = Field(sa_column=Column(String(100), nullable=False))
    # Unique in the database, as for tags, so concurrent creates cannot both succeed.
    name_key: str = Field(sa_column=Column(String(400), nullable=False))
    # The list parameters as a JSON object, validated and normalised: text, not a JSON
    # column, so it reads back exactly as written on every dialect.
    query: str = Field(sa_column=Column(Text, nullable=False))
    created_by: str = Field(sa_column=Column(String(255), nullable=False))
    created_at: datetime = Field(default_factory=utc_now, sa_column=_timestamp_column())
    updated_at: datetime = Field(default_factory=utc_now, sa_column=_timestamp_column())


# The longest entity type MEDIA_LINK_TYPES may name, and the longest entity id (the API's).
MAX_ENTITY_TYPE = 50
MAX_ENTITY_ID = 100


class MediaAssetLink(SQLModel, table=True):
    """An asset linked to an entity of another module (a product, a project): the other
    module's id, which this service does not check. One row per asset and entity."""

    __tablename__ = "media_asset_link"
    # The entity's assets (a product page's photos; unlinking a deleted product).
    __table_args__ = (Index("ix_media_asset_link_entity", "entity_type", "entity_id"),)

    asset_id: uuid.UUID = Field(
        sa_column=Column(
            Uuid(),
            ForeignKey("media_asset.id", ondelete="CASCADE"),
            primary_key=True,
            nullable=False,
        )
    )
    entity_type: str = Field(
        sa_column=Column(String(MAX_ENTITY_TYPE), primary_key=True, nullable=False)
    )
    entity_id: str = Field(
        sa_column=Column(String(MAX_ENTITY_ID), primary_key=True, nullable=False)
    )


class IndexOutbox(SQLModel, table=True):
    """An asset whose search document must be rebuilt, written in the same transaction
    as the change that made it stale. The indexer deletes a row once applied."""

    __tablename__ = "index_outbox"
    # AUTOINCREMENT: ids never go back, so "every row up to id N is applied" stays true.
    __table_args__ = {"sqlite_autoincrement": True}

    id: int | None = Field(default=None, sa_column=Column(BIG_INTEGER, primary_key=True))
    asset_id: uuid.UUID = Field(sa_column=Column(Uuid(), nullable=False, index=True))
    created_at: datetime = Field(default_factory=utc_now, sa_column=_timestamp_column())


class IndexerState(SQLModel, table=True):
    """One row per running indexer process, kept by store/indexer_state.py: its heartbeat,
    how far it got and its last error, so that every API process, not only one that runs
    the indexer, knows whether writes are being indexed."""

    __tablename__ = "indexer_state"

    # host:pid:random, so a restarted process (even with a reused pid) is a new row.
    indexer_id: str = Field(sa_column=Column(String(255), primary_key=True))
    started_at: datetime = Field(sa_column=_timestamp_column())
    heartbeat_at: datetime = Field(sa_column=_timestamp_column())
    # The highest outbox id this indexer acknowledged; null until its first batch.
    applied_up_to: int | None = Field(default=None, sa_column=Column(BigInteger))
    # Null while healthy: set by a failing batch, cleared by the next one that succeeds.
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    last_error_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))


class IndexRebuild(SQLModel, table=True):
    """A rebuild of the search index under way (`indexer.replay` tells the whole story):
    while any row exists, the indexer records the assets it acknowledges in index_replay,
    so writes it applied to the old index reach the new one after the swap."""

    __tablename__ = "index_rebuild"

    id: int | None = Field(default=None, primary_key=True)
    started_at: datetime = Field(default_factory=utc_now, sa_column=_timestamp_column())
    # Refreshed by the process that owns the rebuild; NULL once it hands the row over.
    alive_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    # Every document has been read: from here on the row is finished, never discarded.
    built_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    swapped_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    # The newest outbox id just after the swap: the replay waits for every row up to it.
    replay_after: int | None = Field(default=None, sa_column=Column(BIG_INTEGER))


class IndexReplay(SQLModel, table=True):
    """An asset whose outbox row the indexer acknowledged while a rebuild was under way."""

    __tablename__ = "index_replay"

    id: int | None = Field(default=None, primary_key=True)
    asset_id: uuid.UUID = Field(sa_column=Column(Uuid(), nullable=False))
