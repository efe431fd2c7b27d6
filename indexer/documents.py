"""The one search-document shape, built from the canonical rows; every engine maps to it."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlmodel import Session, col

from service.models import MediaAsset, MediaAssetTag, Tag


def to_micros(moment: datetime) -> int:
    """Microseconds since the epoch: exact, sortable and the same in every engine."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


@dataclass(frozen=True)
class SearchDocument:
    id: str
    file_name: str
    file_type: str
    content_type: str
    uploaded_by: str
    file_size_bytes: int
    uploaded_at: int
    created_at: int
    updated_at: int
    tag_ids: list[str]
    tag_names: list[str]

    def to_dict(self) -> dict[str, object]:
        return asdict(self)

    def fingerprint(self) -> str:
        """A digest of every field: drift checks compare it, so any difference shows."""
        canonical = json.dumps(self.to_dict(), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(canonical.encode()).hexdigest()[:32]

    @classmethod
    def from_rows(cls, asset: MediaAsset, tags: Sequence[Tag]) -> SearchDocument:
        ordered = sorted(tags, key=lambda tag: (tag.name_key, str(tag.id)))
        return cls(
            id=str(asset.id),
            file_name=asset.file_name,
            file_type=asset.file_type,
            content_type=asset.content_type,
            uploaded_by=asset.uploaded_by,
            file_size_bytes=asset.file_size_bytes,
            uploaded_at=to_micros(asset.uploaded_at),
            created_at=to_micros(asset.created_at),
            updated_at=to_micros(asset.updated_at),
            tag_ids=[str(tag.id) for tag in ordered],
            tag_names=[tag.name for tag in ordered],
        )


def load_documents(
    session: Session, asset_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, SearchDocument | None]:
    """The current document of each asset, or None for an asset that no longer exists."""
    if not asset_ids:
        return {}
    assets = session.execute(select(MediaAsset).where(col(MediaAsset.id).in_(asset_ids))).scalars()
    by_id = {asset.id: asset for asset in assets}
    tags: dict[uuid.UUID, list[Tag]] = {asset_id: [] for asset_id in by_id}
    rows = session.execute(
        select(col(MediaAssetTag.media_asset_id), Tag)
        .join(Tag, col(Tag.id) == col(MediaAssetTag.tag_id))
        .where(col(MediaAssetTag.media_asset_id).in_(list(by_id)))
    ).all()
    for asset_id, tag in rows:
        tags[asset_id].append(tag)
    return {
        asset_id: SearchDocument.from_rows(by_id[asset_id], tags[asset_id])
        if asset_id in by_id
        else None
        for asset_id in asset_ids
    }
