"""Links from assets to entities of other modules (projects, products, customers, ...)

One row per asset and entity (`store.models.MediaAssetLink`), removed with its asset.
The index on the entity serves the reverse look-up: an entity's assets. Existing assets
have no links. Their search documents gain link fields, which each engine rebuilds by
itself at start (the embedded index's schema and Meilisearch's document shape changed).

Revision ID: 0013_media_asset_link
Revises: 0012_bulk_tag_counts
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_media_asset_link"
# Written beside saved views and bulk changes (0011, 0012), merged after them.
down_revision: str | None = "0012_bulk_tag_counts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "media_asset_link",
        sa.Column("asset_id", sa.Uuid(), nullable=False),
        sa.Column("entity_type", sa.String(length=50), nullable=False),
        sa.Column("entity_id", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(["asset_id"], ["media_asset.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("asset_id", "entity_type", "entity_id"),
    )
    op.create_index("ix_media_asset_link_entity", "media_asset_link", ["entity_type", "entity_id"])


def downgrade() -> None:
    op.drop_index("ix_media_asset_link_entity", table_name="media_asset_link")
    op.drop_table("media_asset_link")
