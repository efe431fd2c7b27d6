"""The indexer's state, shared with every process

With `serve --workers N` or in compose, the indexer runs in a process of its own
and the API processes could not see whether it was alive or failing: a write
waited the full MEDIA_INDEX_WAIT_MS for an indexer that was not there, and
/readyz showed no error. Each indexer now keeps one row here (heartbeat, how far
it got, its last error), written by store/indexer_state.py and read by every API
process.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import store.models

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "indexer_state",
        sa.Column("indexer_id", sa.String(length=255), nullable=False),
        sa.Column("started_at", store.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("heartbeat_at", store.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("applied_up_to", sa.BigInteger(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_error_at", store.models.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("indexer_id"),
    )


def downgrade() -> None:
    op.drop_table("indexer_state")
