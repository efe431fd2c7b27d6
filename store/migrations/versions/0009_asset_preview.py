"""Previews and image facts of each asset's file, and duplicates found by checksum

One row per asset with a file (`store.models.AssetPreview`). Assets uploaded before
this revision get a pending row when their type has previews (JPEG, PNG, GIF, SVG, PDF)
and `none` otherwise: the content worker renders the library by itself, newest requests
first, and `media-assets previews --missing` does it at once with a progress bar. The
checksum gets an index: exact duplicates are looked up by it on every upload.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import store.models

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Written out rather than imported: a migration must not change when the code does.
_RENDERABLE = (".jpg", ".jpeg", ".png", ".gif", ".svg", ".pdf")


def upgrade() -> None:
    op.create_table(
        "asset_preview",
        sa.Column("asset_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=255), nullable=False),
        sa.Column("small_key", sa.String(length=255), nullable=True),
        sa.Column("large_key", sa.String(length=255), nullable=True),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("orientation", sa.String(length=9), nullable=True),
        sa.Column("taken_at", store.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("perceptual_hash", sa.BigInteger(), nullable=True),
        sa.Column("error", sa.String(length=1000), nullable=True),
        sa.Column("renderer_version", sa.Integer(), nullable=True),
        sa.Column("requested_at", store.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("rendered_at", store.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("leased_until", store.models.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["asset_id"], ["media_asset.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("asset_id"),
    )
    op.create_index(
        "ix_asset_preview_status_requested", "asset_preview", ["status", "requested_at"]
    )
    op.create_index("ix_media_asset_checksum_sha256", "media_asset", ["checksum_sha256"])
    asset = sa.table(
        "media_asset",
        sa.column("id", sa.Uuid()),
        sa.column("file_type", sa.String()),
        sa.column("storage_location", sa.String()),
    )
    preview = sa.table(
        "asset_preview",
        sa.column("asset_id", sa.Uuid()),
        sa.column("status", sa.String()),
        sa.column("source", sa.String()),
        sa.column("requested_at", store.models.UTCDateTime(timezone=True)),
    )
    status = sa.case(
        (asset.c.file_type.in_(_RENDERABLE), sa.literal("pending")), else_=sa.literal("none")
    )
    op.execute(
        preview.insert().from_select(
            ["asset_id", "status", "source", "requested_at"],
            sa.select(
                asset.c.id,
                status,
                asset.c.storage_location,
                sa.literal(store.models.utc_now(), type_=store.models.UTCDateTime()),
            ).where(asset.c.storage_location.is_not(None)),
        )
    )


def downgrade() -> None:
    op.drop_index("ix_media_asset_checksum_sha256", table_name="media_asset")
    op.drop_index("ix_asset_preview_status_requested", table_name="asset_preview")
    op.drop_table("asset_preview")
