"""Rebuilds under way and the writes they must replay, in place of a second full pass

A reindex rebuilds the search index into a fresh one while the indexer keeps applying
outbox rows to the old one. It used to compare every document afterwards to find the
writes it had missed; now it registers itself in index_rebuild before reading, the
indexer records in index_replay every asset it acknowledges while such a row exists,
and after the swap those assets are queued again (see indexer.replay).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import store.models

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "index_rebuild",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("started_at", store.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("alive_at", store.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("built_at", store.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("swapped_at", store.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("replay_after", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "index_replay",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("asset_id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("index_replay")
    op.drop_table("index_rebuild")
