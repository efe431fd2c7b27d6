"""Asking the index: a list page as bytes, and the ids of a tag's assets."""

from __future__ import annotations

import uuid

from sqlmodel import Session

from indexer.query import EngineUnavailable, SearchIndex, SearchQuery, SearchResult
from service.errors import ServiceUnavailable
from service.pagination import MAX_OFFSET
from service.search.pages import render_page
from service.search.schemas import IdPage
from service.search.tag_directory import TagDirectory
from service.tags.service import get_tag


def _unavailable(exc: EngineUnavailable) -> ServiceUnavailable:
    return ServiceUnavailable(
        f"The search index cannot answer right now; try again shortly. ({exc})"
    )


def _search(engine: SearchIndex, query: SearchQuery) -> SearchResult:
    try:
        return engine.search(query)
    except EngineUnavailable as exc:
        raise _unavailable(exc) from exc


async def asset_page(
    engine: SearchIndex, tags: TagDirectory, query: SearchQuery, *, skip: int
) -> bytes:
    """One engine call, tag details from the directory, the page JSON as bytes."""
    try:
        result = await engine.search_async(query)
    except EngineUnavailable as exc:
        raise _unavailable(exc) from exc
    return render_page(
        result, skip=skip, limit=query.limit, facets=list(query.facets), tags=tags.current()
    )


def tag_asset_ids(
    session: Session, engine: SearchIndex, *, tag_id: uuid.UUID, skip: int, limit: int
) -> IdPage:
    get_tag(session, tag_id)
    query = SearchQuery(
        skip=min(skip, MAX_OFFSET), limit=limit, tag_ids=[str(tag_id)], with_items=False
    )
    result = _search(engine, query)
    return IdPage(
        items=[uuid.UUID(value) for value in result.ids], total=result.total, skip=skip, limit=limit
    )
