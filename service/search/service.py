"""Turning list parameters into an index query, and index hits back into asset JSON."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlmodel import Session, col

from indexer.query import (
    EngineUnavailable,
    FacetName,
    SearchIndex,
    SearchQuery,
    SearchResult,
)
from service.assets.service import public_assets
from service.errors import ServiceUnavailable
from service.pagination import MAX_OFFSET
from service.search.schemas import AssetPage, FacetValue, IdPage, TagFacetValue
from service.tags.service import get_tag
from store.models import Tag


def _facet_values(
    session: Session, name: FacetName, counts: list[tuple[str, int]]
) -> list[TagFacetValue | FacetValue]:
    if name is not FacetName.TAGS:
        return [FacetValue(value=value, count=count) for value, count in counts]
    tag_ids = [uuid.UUID(value) for value, _ in counts]
    tags = {
        tag.id: tag
        for tag in session.execute(select(Tag).where(col(Tag.id).in_(tag_ids))).scalars()
    }
    values: list[TagFacetValue | FacetValue] = []
    for (value, count), tag_id in zip(counts, tag_ids, strict=True):
        tag = tags.get(tag_id)
        if tag is not None:  # a tag deleted a moment ago, before its holders were reindexed
            values.append(
                TagFacetValue(value=value, count=count, id=tag.id, name=tag.name, color=tag.color)
            )
    return values


def _search(engine: SearchIndex, query: SearchQuery) -> SearchResult:
    try:
        return engine.search(query)
    except EngineUnavailable as exc:
        raise ServiceUnavailable(
            f"The search index cannot answer right now; try again shortly. ({exc})"
        ) from exc


def search_assets(session: Session, engine: SearchIndex, query: SearchQuery) -> AssetPage:
    result = _search(engine, query)
    page = AssetPage(
        items=public_assets(session, [uuid.UUID(value) for value in result.ids]),
        total=result.total,
        skip=query.skip,
        limit=query.limit,
    )
    if query.facets:
        page.facets = {
            name.value: _facet_values(session, name, result.facets.get(name, []))
            for name in query.facets
        }
    return page


def tag_asset_ids(
    session: Session, engine: SearchIndex, *, tag_id: uuid.UUID, skip: int, limit: int
) -> IdPage:
    get_tag(session, tag_id)
    query = SearchQuery(skip=min(skip, MAX_OFFSET), limit=limit, tag_ids=[str(tag_id)])
    result = _search(engine, query)
    return IdPage(
        items=[uuid.UUID(value) for value in result.ids], total=result.total, skip=skip, limit=limit
    )
