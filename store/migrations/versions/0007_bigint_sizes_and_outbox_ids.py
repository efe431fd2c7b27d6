"""64-bit file sizes and outbox ids on PostgreSQL

`file_size_bytes` was a 32-bit integer on PostgreSQL, so a file of 2 GiB or more could
not be recorded, and the outbox id (with the replay mark that copies it) would run out
after 2**31 changes. SQLite's INTEGER is 64-bit already: nothing changes there.
On PostgreSQL the ALTER rewrites media_asset: at a million assets, seconds.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = (
    ("media_asset", "file_size_bytes", False),
    ("index_outbox", "id", False),
    ("index_rebuild", "replay_after", True),
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, column, nullable in _COLUMNS:
        op.alter_column(
            table,
            column,
            type_=sa.BigInteger(),
            existing_type=sa.Integer(),
            existing_nullable=nullable,
        )
    op.execute("ALTER SEQUENCE index_outbox_id_seq AS bigint")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("ALTER SEQUENCE index_outbox_id_seq AS integer")
    for table, column, nullable in _COLUMNS:
        op.alter_column(
            table,
            column,
            type_=sa.Integer(),
            existing_type=sa.BigInteger(),
            existing_nullable=nullable,
        )
