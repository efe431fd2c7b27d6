"""Tag descriptions get a case-folded twin for search

SQLite's lower() folds only ASCII, so `search=ÉCOLE` missed a description that
says `école`; the folded text is now computed in Python and stored beside it.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

tag = sa.table(
    "tag",
    sa.column("id", sa.Uuid()),
    sa.column("description", sa.String()),
    sa.column("description_key", sa.Text()),
)


def upgrade() -> None:
    with op.batch_alter_table("tag", schema=None) as batch_op:
        batch_op.add_column(sa.Column("description_key", sa.Text(), nullable=True))
    connection = op.get_bind()
    described = connection.execute(
        sa.select(tag.c.id, tag.c.description).where(tag.c.description.is_not(None))
    ).all()
    for tag_id, description in described:
        connection.execute(
            tag.update().where(tag.c.id == tag_id).values(description_key=description.casefold())
        )


def downgrade() -> None:
    with op.batch_alter_table("tag", schema=None) as batch_op:
        batch_op.drop_column("description_key")
