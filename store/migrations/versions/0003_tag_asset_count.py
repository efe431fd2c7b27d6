"""Tags keep their asset count, maintained by the database

Every tag JSON carries `asset_count`. Counting the links of each tag on every
list page read hundreds of thousands of index entries per popular tag at 1M
assets; the count now lives on the tag row, and triggers on media_asset_tag keep
it exact for every insert, delete (including cascades) and update of a link,
whoever writes it.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SQLITE_TRIGGERS = (
    """
    CREATE TRIGGER tag_asset_count_insert AFTER INSERT ON media_asset_tag
    BEGIN
        UPDATE tag SET asset_count = asset_count + 1 WHERE id = NEW.tag_id;
    END
    """,
    """
    CREATE TRIGGER tag_asset_count_delete AFTER DELETE ON media_asset_tag
    BEGIN
        UPDATE tag SET asset_count = asset_count - 1 WHERE id = OLD.tag_id;
    END
    """,
    """
    CREATE TRIGGER tag_asset_count_update AFTER UPDATE OF tag_id ON media_asset_tag
    BEGIN
        UPDATE tag SET asset_count = asset_count - 1 WHERE id = OLD.tag_id;
        UPDATE tag SET asset_count = asset_count + 1 WHERE id = NEW.tag_id;
    END
    """,
)
POSTGRESQL_TRIGGERS = (
    """
    CREATE FUNCTION tag_asset_count() RETURNS trigger AS $$
    BEGIN
        IF TG_OP IN ('DELETE', 'UPDATE') THEN
            UPDATE tag SET asset_count = asset_count - 1 WHERE id = OLD.tag_id;
        END IF;
        IF TG_OP IN ('INSERT', 'UPDATE') THEN
            UPDATE tag SET asset_count = asset_count + 1 WHERE id = NEW.tag_id;
        END IF;
        RETURN NULL;
    END
    $$ LANGUAGE plpgsql
    """,
    """
    CREATE TRIGGER tag_asset_count AFTER INSERT OR DELETE OR UPDATE OF tag_id
    ON media_asset_tag FOR EACH ROW EXECUTE FUNCTION tag_asset_count()
    """,
)


def upgrade() -> None:
    with op.batch_alter_table("tag", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("asset_count", sa.Integer(), server_default="0", nullable=False)
        )
    op.execute(
        "UPDATE tag SET asset_count = "
        "(SELECT count(*) FROM media_asset_tag WHERE media_asset_tag.tag_id = tag.id)"
    )
    postgresql = op.get_bind().dialect.name == "postgresql"
    for statement in POSTGRESQL_TRIGGERS if postgresql else SQLITE_TRIGGERS:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER tag_asset_count ON media_asset_tag")
        op.execute("DROP FUNCTION tag_asset_count()")
    else:
        for name in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER tag_asset_count_{name}")
    with op.batch_alter_table("tag", schema=None) as batch_op:
        batch_op.drop_column("asset_count")
