"""Serving an asset's preview, and finding its duplicates."""

from __future__ import annotations

import uuid
from enum import StrEnum

from fastapi import Request, Response
from fastapi.responses import FileResponse
from sqlalchemy import select
from sqlmodel import Session, col

from service.assets.download import etag_matches
from service.assets.schemas import DuplicatesPublic, SimilarAsset
from service.assets.service import get_asset
from service.errors import NotFound
from service.storage import Storage
from store import previews as stored_previews
from store.models import AssetPreview, MediaAsset

# The contract's limits for look-alikes.
SIMILAR_DISTANCE = 8
SIMILAR_LIMIT = 50


class PreviewSize(StrEnum):
    SMALL = "small"
    LARGE = "large"


def _not_ready(asset: MediaAsset, row: AssetPreview | None) -> str:
    """Why an asset has no preview to serve, as a sentence."""
    if row is None:
        return f"Media asset {asset.id} has no file attached, so it has no preview."
    if row.status == stored_previews.NONE:
        return f"Files of type {asset.file_type} have no preview."
    if row.status == stored_previews.FAILED:
        return f"The preview of media asset {asset.id} could not be made: {row.error}"
    return f"The preview of media asset {asset.id} is not made yet; try again shortly."


def preview_response(
    request: Request,
    session: Session,
    storage: Storage,
    *,
    asset_id: uuid.UUID,
    size: PreviewSize,
) -> Response:
    asset = get_asset(session, asset_id)
    row = stored_previews.preview_row(session, asset_id)
    key = None
    if row is not None and row.status == stored_previews.READY:
        key = row.small_key if size is PreviewSize.SMALL else row.large_key
    if row is None or key is None:
        raise NotFound(_not_ready(asset, row))
    path = storage.path_of(key)
    if path is None:
        raise NotFound(
            f"The preview file of media asset {asset_id} is missing (see `media-assets check`)."
        )
    # Each rendering gets new keys, so the key identifies these exact bytes.
    etag = f'"{key.rsplit("/", 1)[-1].split(".", 1)[0]}"'
    headers = {"ETag": etag, "Cache-Control": "private", "X-Content-Type-Options": "nosniff"}
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None and etag_matches(if_none_match, etag):
        return Response(status_code=304, headers=headers)
    return FileResponse(path, media_type="image/webp", headers=headers)


def exact_duplicates(
    session: Session, asset_id: uuid.UUID, checksum: str | None
) -> list[uuid.UUID]:
    """Other assets with the same bytes, oldest upload first."""
    if checksum is None:
        return []
    found = session.execute(
        select(col(MediaAsset.id))
        .where(col(MediaAsset.checksum_sha256) == checksum, col(MediaAsset.id) != asset_id)
        .order_by(col(MediaAsset.uploaded_at), col(MediaAsset.id))
    ).scalars()
    return list(found)


def _similar(session: Session, asset_id: uuid.UUID) -> list[SimilarAsset]:
    """Images whose perceptual hash is within SIMILAR_DISTANCE bits, nearest first."""
    own = session.execute(
        select(col(AssetPreview.perceptual_hash)).where(col(AssetPreview.asset_id) == asset_id)
    ).scalar_one_or_none()
    if own is None:
        return []
    own = stored_previews.to_unsigned(own)
    hashed = col(AssetPreview.perceptual_hash)
    near: list[tuple[int, uuid.UUID]] = []
    rows = session.execute(
        select(col(AssetPreview.asset_id), hashed).where(
            hashed.is_not(None), col(AssetPreview.asset_id) != asset_id
        )
    )
    for other_id, other in rows:
        distance = (own ^ stored_previews.to_unsigned(other)).bit_count()
        if distance <= SIMILAR_DISTANCE:
            near.append((distance, other_id))
    near.sort()
    return [SimilarAsset(id=other, distance=d) for d, other in near[:SIMILAR_LIMIT]]


def find_duplicates(session: Session, asset_id: uuid.UUID) -> DuplicatesPublic:
    asset = get_asset(session, asset_id)
    return DuplicatesPublic(
        exact=exact_duplicates(session, asset_id, asset.checksum_sha256),
        similar=_similar(session, asset_id),
    )
