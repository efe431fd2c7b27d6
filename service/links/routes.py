"""HTTP routes of links: an entity's gallery, the assets linked to it, from the index."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from indexer.query import SearchIndex, SearchQuery, SortField
from service.deps import Reader, SettingsDep
from service.errors import error_responses
from service.links.schemas import EntityId, EntityType, require_entity_type
from service.pagination import MAX_OFFSET, MAX_PAGE_SIZE, Skip, SortDirection
from service.search import service
from service.search.schemas import AssetPage
from service.search.tag_directory import TagDirectory
from store.links import link_key

router = APIRouter(tags=["links"], responses=error_responses(401, 403))


@router.get(
    # `:path`: an id may hold `/` (sent as %2F, which the server decodes before routing).
    "/api/links/{entity_type}/{entity_id:path}/assets",
    response_model=AssetPage,
    # 404 only when the path reaches no route: clients remove `.` and `..` segments, so
    # an id that is one never arrives here.
    responses=error_responses(404, 422),
)
async def list_entity_assets(
    request: Request,
    settings: SettingsDep,
    _caller: Reader,
    entity_type: Annotated[EntityType, Path(description="One of MEDIA_LINK_TYPES.")],
    entity_id: Annotated[EntityId, Path(description="The other module's id (trimmed).")],
    skip: Skip = 0,
    limit: Annotated[
        int, Query(ge=0, le=MAX_PAGE_SIZE, description="Page size, 0 (totals and facets) to 1000.")
    ] = 100,
    sort_by: Annotated[SortField | None, Query(description="Default uploaded_at.")] = None,
    sort_dir: SortDirection = SortDirection.DESC,
) -> Response:
    """The assets linked to an entity of another module, as a list page (newest first)."""
    query = SearchQuery(
        skip=min(skip, MAX_OFFSET),
        limit=limit,
        sort_by=sort_by,
        descending=sort_dir is SortDirection.DESC,
    )
    entity = (require_entity_type(entity_type, settings.entity_types), entity_id)
    engine: SearchIndex = request.app.state.search
    tags: TagDirectory = request.app.state.tag_directory
    body = await service.asset_page(
        engine,
        tags,
        # Beside the page's own filters, any `linked` among them: this entity's assets only.
        replace(query, linked_all=[*query.linked_all, link_key(entity)]),
        skip=skip,
    )
    return Response(body, media_type="application/json")
