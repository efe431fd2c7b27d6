"""HTTP route of bulk changes: `POST /api/media-assets/bulk`."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Body, Request, Response
from fastapi.concurrency import run_in_threadpool

from indexer.query import SearchIndex, SearchQuery
from service.bulk import service
from service.bulk.schemas import BulkChange, BulkResult, CountMismatch
from service.consistency import await_caught_up, await_index
from service.deps import SessionDep, SettingsDep, StorageDep, Writer
from service.errors import ServiceUnavailable, error_responses
from service.search.parameters import ListFilters
from service.search.query_object import from_json_object
from service.search.service import TooMany, matching_ids

router = APIRouter(tags=["media assets"], responses=error_responses(401, 403))

INDEX_BEHIND = (
    "The search index has not caught up with the latest writes, so a query cannot be "
    "trusted to select the right assets; nothing was changed. Try again shortly, or "
    "select the assets by ids."
)


@router.post(
    "/api/media-assets/bulk",
    responses={
        **error_responses(503, 507),
        409: {"model": CountMismatch, "description": "`expected_count` is not the count"},
    },
)
async def bulk_change(
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    storage: StorageDep,
    _caller: Writer,
    change: Annotated[BulkChange, Body()],
) -> BulkResult:
    """Add or remove tags or links on, or delete, every asset selected by ids or by a
    query: all or nothing, answered once the index shows the change."""
    if change.query is not None:
        filters = from_json_object(
            ListFilters,
            change.query,
            location=("body", "query"),
            link_types=settings.entity_types,
        )
        query = filters.search_query(link_types=settings.entity_types)
        asset_ids = await _selected(request, query, most=settings.bulk_max)
    else:
        asset_ids = change.ids or []
    result = await run_in_threadpool(
        service.apply_change,
        session,
        storage,
        change=change,
        asset_ids=asset_ids,
        named=change.query is None,
        most=settings.bulk_max,
        link_types=settings.entity_types,
    )
    await await_index(request, response, session, while_progressing=True)
    return result


async def _selected(request: Request, query: SearchQuery, *, most: int) -> list[uuid.UUID]:
    """The assets the query finds, asked of the index once it holds every write committed
    before this request: a lagging index could select assets that no longer match."""
    if not await await_caught_up(request):
        raise ServiceUnavailable(INDEX_BEHIND)
    engine: SearchIndex = request.app.state.search
    try:
        return await matching_ids(engine, query, most=most)
    except TooMany as exc:
        raise service.too_many(exc.count, most) from exc
