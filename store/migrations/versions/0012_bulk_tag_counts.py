"""A bulk change settles tag counts itself, once per tag, on PostgreSQL

Migration 0003's trigger moves a tag's `asset_count` once per link inserted or
deleted, and each of those updates takes the tag's row (and, through migration
0004's trigger, the one tag_revision row) until the commit. A bulk change of
50,000 assets would update one tag row 50,000 times and hold it, and with it
every other write that moves any tag's count, for as long as it runs. A
transaction that sets `media.defer_tag_counts` to `on` (SET LOCAL, so only for
itself) now skips the trigger and must add the counts itself: the bulk changes
do, with one UPDATE per tag at their very end (`store.bulk`). Every other write
keeps the trigger.

SQLite has one writer at a time, so nothing there waits any less for it; its
triggers stay as they are.

Revision ID: 0012_bulk_tag_counts
Revises: 0011_saved_views
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0012_bulk_tag_counts"
down_revision: str | None = "0011_saved_views"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_DEFERRING = """
CREATE OR REPLACE FUNCTION tag_asset_count() RETURNS trigger AS $$
BEGIN
    IF current_setting('media.defer_tag_counts', true) = 'on' THEN
        RETURN NULL;
    END IF;
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        UPDATE tag SET asset_count = asset_count - 1 WHERE id = OLD.tag_id;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        UPDATE tag SET asset_count = asset_count + 1 WHERE id = NEW.tag_id;
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql
"""
_COUNTING = """
CREATE OR REPLACE FUNCTION tag_asset_count() RETURNS trigger AS $$
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
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_DEFERRING)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_COUNTING)
