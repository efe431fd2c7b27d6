"""Saved views: named list parameters of `GET /api/media-assets`, shared with every reader."""
