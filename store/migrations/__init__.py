"""Alembic migrations of the canonical store; `media-assets migrate` applies them."""
