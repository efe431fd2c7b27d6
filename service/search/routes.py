"""HTTP routes answered from the search index: the asset list, an entity's gallery (the
assets linked to it) and a tag's assets."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from indexer.query import SearchIndex
from service.deps import Reader, SessionDep, SettingsDep
from service.errors import error_responses
from service.links.schemas import EntityId, EntityType, require_entity_type
from service.pagination import Limit, Skip
from service.search import service
from service.search.parameters import ListParameters
from service.search.schemas import AssetPage, IdPage
from service.search.tag_directory import TagDirectory
from store.links import link_key

router = APIRouter(tags=["search"], responses=error_responses(401, 403))


def _engine(request: Request) -> SearchIndex:
    engine: SearchIndex = request.app.state.search
    return engine


def _tags(request: Request) -> TagDirectory:
    directory: TagDirectory = request.app.state.tag_directory
    return directory


@router.get("/api/media-assets", response_model=AssetPage)
async def list_assets(
    request: Request,
    settings: SettingsDep,
    _caller: Reader,
    parameters: Annotated[ListParameters, Query()],
) -> Response:
    """List, filter, search and facet assets, from the search index."""
    body = await service.asset_page(
        _engine(request),
        _tags(request),
        parameters.to_search_query(link_types=settings.entity_types),
        skip=parameters.skip,
        highlight_from=request.app.state.engine if parameters.highlight else None,
    )
    return Response(body, media_type="application/json")


@router.get(
    # `:path`: an id may hold `/` (sent as %2F, which the server decodes before routing).
    "/api/links/{entity_type}/{entity_id:path}/assets",
    response_model=AssetPage,
    tags=["links"],
    # 404 only when the path reaches no route: clients remove `.` and `..` segments, so
    # an id that is one never arrives here.
    responses=error_responses(404),
)
async def list_entity_assets(
    request: Request,
    settings: SettingsDep,
    _caller: Reader,
    entity_type: Annotated[EntityType, Path(description="One of MEDIA_LINK_TYPES.")],
    entity_id: Annotated[EntityId, Path(description="The other module's id (trimmed).")],
    parameters: Annotated[ListParameters, Query()],
) -> Response:
    """The assets linked to an entity of another module, as a list page: every parameter
    of the list (newest upload first by default)."""
    entity = link_key((require_entity_type(entity_type, settings.entity_types), entity_id))
    # Every hit is linked to the entity, beside the list's own filters (its `linked` is
    # any-of, so the entity cannot simply join it).
    query = parameters.to_search_query(link_types=settings.entity_types, linked_all=[entity])
    body = await service.asset_page(
        _engine(request),
        _tags(request),
        query,
        skip=parameters.skip,
        highlight_from=request.app.state.engine if parameters.highlight else None,
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
