"""The text extracted from each asset's file, for search inside files

One row per asset with a file (`store.models.AssetContent`). Assets uploaded before
this revision get a pending row when their type has an extractor (PDF, DOCX, XLSX, CSV,
SVG) and an unsupported one otherwise: the content worker then fills the library in by
itself, newest requests first, and `media-assets extract --missing` does it at once with
a progress bar.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import store.models

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Written out rather than imported: a migration must not change when the code does.
_EXTRACTABLE = (".pdf", ".docx", ".xlsx", ".csv", ".svg")


def upgrade() -> None:
    op.create_table(
        "asset_content",
        sa.Column("asset_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=255), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("characters", sa.Integer(), nullable=False),
        sa.Column("truncated", sa.Boolean(), nullable=False),
        sa.Column("error", sa.String(length=1000), nullable=True),
        sa.Column("extractor_version", sa.Integer(), nullable=True),
        sa.Column("requested_at", store.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("extracted_at", store.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("leased_until", store.models.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["asset_id"], ["media_asset.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("asset_id"),
    )
    op.create_index(
        "ix_asset_content_status_requested", "asset_content", ["status", "requested_at"]
    )
    asset = sa.table(
        "media_asset",
        sa.column("id", sa.Uuid()),
        sa.column("file_type", sa.String()),
        sa.column("storage_location", sa.String()),
    )
    content = sa.table(
        "asset_content",
        sa.column("asset_id", sa.Uuid()),
        sa.column("status", sa.String()),
        sa.column("source", sa.String()),
        sa.column("characters", sa.Integer()),
        sa.column("truncated", sa.Boolean()),
        sa.column("requested_at", store.models.UTCDateTime(timezone=True)),
    )
    status = sa.case(
        (asset.c.file_type.in_(_EXTRACTABLE), sa.literal("pending")),
        else_=sa.literal("unsupported"),
    )
    op.execute(
        content.insert().from_select(
            ["asset_id", "status", "source", "characters", "truncated", "requested_at"],
            sa.select(
                asset.c.id,
                status,
                asset.c.storage_location,
                sa.literal(0),
                sa.false(),
                sa.literal(store.models.utc_now(), type_=store.models.UTCDateTime()),
            ).where(asset.c.storage_location.is_not(None)),
        )
    )


def downgrade() -> None:
    op.drop_index("ix_asset_content_status_requested", table_name="asset_content")
    op.drop_table("asset_content")
