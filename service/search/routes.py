"""HTTP routes answered from the search index: the asset list and a tag's assets."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from indexer.query import SearchIndex
from service.deps import Reader, SessionDep
from service.errors import error_responses
from service.pagination import Limit, Skip
from service.search import service
from service.search.parameters import ListParameters
from service.search.schemas import AssetPage, IdPage
from service.search.tag_directory import TagDirectory

router = APIRouter(tags=["search"], responses=error_responses(401, 403))


def _engine(request: Request) -> SearchIndex:
    engine: SearchIndex = request.app.state.search
    return engine


def _tags(request: Request) -> TagDirectory:
    directory: TagDirectory = request.app.state.tag_directory
    return directory


@router.get("/api/media-assets", response_model=AssetPage)
async def list_assets(
    request: Request, _caller: Reader, parameters: Annotated[ListParameters, Query()]
) -> Response:
    """List, filter, search and facet assets, from the search index."""
    body = await service.asset_page(
        _engine(request),
        _tags(request),
        parameters.to_search_query(),
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
