"""A revision number for the tag directory, bumped by every change to any tag

List pages take tag details (name, colour, asset count) from a per-process
directory of all tags instead of reading them per request; the directory only
needs to check this one number to know it is still right. Triggers bump it in
the same transaction as any insert, update or delete of a tag row, including the
asset_count updates of migration 0003's triggers, so no writer can forget it.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SQLITE_TRIGGERS = (
    """
    CREATE TRIGGER tag_revision_insert AFTER INSERT ON tag
    BEGIN
        UPDATE tag_revision SET revision = revision + 1;
    END
    """,
    """
    CREATE TRIGGER tag_revision_update AFTER UPDATE ON tag
    BEGIN
        UPDATE tag_revision SET revision = revision + 1;
    END
    """,
    """
    CREATE TRIGGER tag_revision_delete AFTER DELETE ON tag
    BEGIN
        UPDATE tag_revision SET revision = revision + 1;
    END
    """,
)
POSTGRESQL_TRIGGERS = (
    """
    CREATE FUNCTION bump_tag_revision() RETURNS trigger AS $$
    BEGIN
        UPDATE tag_revision SET revision = revision + 1;
        RETURN NULL;
    END
    $$ LANGUAGE plpgsql
    """,
    # Once per statement: a statement that moves many tags' counts bumps it once.
    """
    CREATE TRIGGER tag_revision AFTER INSERT OR UPDATE OR DELETE ON tag
    FOR EACH STATEMENT EXECUTE FUNCTION bump_tag_revision()
    """,
)


def upgrade() -> None:
    op.create_table(
        "tag_revision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("revision", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.execute("INSERT INTO tag_revision (id, revision) VALUES (1, 1)")
    postgresql = op.get_bind().dialect.name == "postgresql"
    for statement in POSTGRESQL_TRIGGERS if postgresql else SQLITE_TRIGGERS:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER tag_revision ON tag")
        op.execute("DROP FUNCTION bump_tag_revision()")
    else:
        for event in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER tag_revision_{event}")
    op.drop_table("tag_revision")
