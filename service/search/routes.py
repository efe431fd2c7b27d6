"""HTTP routes answered from the search index: the asset list and a tag's assets."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from indexer.query import SearchIndex, SearchQuery, SortField, to_micros
from service.assets.schemas import Orientation
from service.config import normalize_file_type
from service.deps import Reader, SessionDep
from service.errors import error_responses
from service.pagination import MAX_OFFSET, MAX_PAGE_SIZE, Limit, Skip, SortDirection
from service.search import service
from service.search.schemas import (
    AssetPage,
    DisjunctiveFacetsParam,
    FacetsParam,
    IdPage,
    IsoDateTime,
    SearchInParam,
    as_utc,
    parse_disjunctive_facets,
    parse_facets,
    parse_search_in,
)
from service.search.tag_directory import TagDirectory
from service.tags.service import TagMatch

router = APIRouter(tags=["search"], responses=error_responses(401, 403))


def _engine(request: Request) -> SearchIndex:
    engine: SearchIndex = request.app.state.search
    return engine


def _tags(request: Request) -> TagDirectory:
    directory: TagDirectory = request.app.state.tag_directory
    return directory


def _micros(moment: datetime | None, parameter: str) -> int | None:
    utc = as_utc(moment, parameter=parameter)
    return None if utc is None else to_micros(utc)


def _text(value: str | None) -> str | None:
    # A query with no letters or digits has no words to match: it filters nothing.
    return value if value and any(ch.isalnum() for ch in value) else None


@router.get("/api/media-assets", response_model=AssetPage)
async def list_assets(
    request: Request,
    _caller: Reader,
    skip: Skip = 0,
    limit: Annotated[
        int, Query(ge=0, le=MAX_PAGE_SIZE, description="Page size, 0 (totals and facets) to 1000.")
    ] = 100,
    sort_by: Annotated[
        SortField | None, Query(description="Default uploaded_at; relevance with search.")
    ] = None,
    sort_dir: SortDirection = SortDirection.DESC,
    search: Annotated[str | None, Query(max_length=1000)] = None,
    file_name: Annotated[str | None, Query(max_length=1000)] = None,
    file_type: Annotated[list[str] | None, Query()] = None,
    uploaded_by: Annotated[list[str] | None, Query()] = None,
    orientation: Annotated[
        list[Orientation] | None, Query(description="Repeated: landscape, portrait, square.")
    ] = None,
    tag_ids: Annotated[list[uuid.UUID] | None, Query()] = None,
    tag_match: TagMatch = TagMatch.ALL,
    uploaded_after: IsoDateTime | None = None,
    uploaded_before: IsoDateTime | None = None,
    facets: FacetsParam = None,
    disjunctive_facets: DisjunctiveFacetsParam = None,
    search_in: SearchInParam = None,
    highlight: Annotated[
        bool, Query(description="Each item carries `highlights`: the matched words marked.")
    ] = False,
) -> Response:
    """List, filter, search and facet assets, from the search index."""
    facet_names = parse_facets(facets)
    query = SearchQuery(
        skip=min(skip, MAX_OFFSET),
        limit=limit,
        text=_text(search),
        search_in=parse_search_in(search_in),
        file_name=_text(file_name),
        file_types=[normalize_file_type(value) for value in file_type or []],
        uploaded_by=list(uploaded_by or []),
        orientations=list(dict.fromkeys(orientation or [])),
        tag_ids=[str(tag_id) for tag_id in tag_ids or []],
        match_all_tags=tag_match is TagMatch.ALL,
        uploaded_after=_micros(uploaded_after, "uploaded_after"),
        uploaded_before=_micros(uploaded_before, "uploaded_before"),
        sort_by=sort_by,
        descending=sort_dir is SortDirection.DESC,
        facets=facet_names,
        disjunctive_facets=parse_disjunctive_facets(disjunctive_facets, facet_names),
    )
    body = await service.asset_page(
        _engine(request),
        _tags(request),
        query,
        skip=skip,
        highlight_from=request.app.state.engine if highlight else None,
    )
    return Response(body, media_type="application/json")


@router.get("/api/tags/{tag_id}/assets", responses=error_responses(404))
def list_tag_assets(
    request: Request,
    session: SessionDep,
    _caller: Reader,
    tag_id: uuid.UUID,
    skip: Skip = 0,
    limit: Limit = 100,
) -> IdPage:
    """The ids of the assets that carry the tag, newest upload first."""
    return service.tag_asset_ids(session, _engine(request), tag_id=tag_id, skip=skip, limit=limit)
