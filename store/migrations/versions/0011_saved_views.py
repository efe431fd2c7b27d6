"""Saved views: named list parameters that every reader sees

One row per view (`store.models.SavedView`). The name is unique case-insensitively by
its trimmed, case-folded key, as tag names are; the list parameters are kept as JSON
text, which reads back the same on SQLite and PostgreSQL.

Revision ID: 0011_saved_views
Revises: 0009
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import store.models

revision: str = "0011_saved_views"
# 0009 was the head when this was written; the asset links' migration, written beside
# it, was merged after the bulk changes' as 0013.
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "saved_view",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("name_key", sa.String(length=400), nullable=False),
        sa.Column("query", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=255), nullable=False),
        sa.Column("created_at", store.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", store.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name_key", name="uq_saved_view_name_key"),
    )


def downgrade() -> None:
    op.drop_table("saved_view")
