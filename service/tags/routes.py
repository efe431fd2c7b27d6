"""HTTP routes for tags (the asset list of a tag lives with the search routes)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.concurrency import run_in_threadpool

from service.consistency import await_index
from service.deps import Reader, SessionDep, Writer
from service.errors import error_responses
from service.pagination import Limit, Page, Skip, SortDirection
from service.tags import service
from service.tags.schemas import TagCreate, TagPublic, TagUpdate
from service.text_rules import NoNulText

router = APIRouter(prefix="/api/tags", tags=["tags"], responses=error_responses(401, 403))


@router.get("", response_model=Page[TagPublic])
def list_tags(
    session: SessionDep,
    _caller: Reader,
    skip: Skip = 0,
    limit: Limit = 100,
    sort_by: service.TagSort = service.TagSort.NAME,
    sort_dir: SortDirection = SortDirection.ASC,
    name: Annotated[
        NoNulText | None, Query(max_length=100, description="Case-insensitive part of the name.")
    ] = None,
    search: Annotated[
        NoNulText | None,
        Query(max_length=200, description="Words to find in name or description."),
    ] = None,
) -> Page[TagPublic]:
    """List tags with their asset counts."""
    return service.list_tags(
        session,
        skip=skip,
        limit=limit,
        sort_by=sort_by,
        sort_dir=sort_dir,
        name=name,
        search=search,
    )


@router.post("", status_code=status.HTTP_201_CREATED, responses=error_responses(409, 507))
def create_tag(session: SessionDep, _caller: Writer, data: TagCreate) -> TagPublic:
    """Create a tag; its name is unique case-insensitively."""
    return service.create_tag(session, data=data)


@router.get("/{tag_id}", responses=error_responses(404))
def get_tag(session: SessionDep, _caller: Reader, tag_id: uuid.UUID) -> TagPublic:
    """Get one tag."""
    return service.get_public_tag(session, tag_id)


@router.put("/{tag_id}", responses=error_responses(404, 409, 507))
async def update_tag(
    request: Request,
    response: Response,
    session: SessionDep,
    _caller: Writer,
    tag_id: uuid.UUID,
    data: TagUpdate,
) -> TagPublic:
    """Rename, describe or recolour a tag; a rename is searchable at once."""
    tag = await run_in_threadpool(service.update_tag, session, tag_id=tag_id, data=data)
    await await_index(request, response, session)
    return tag


@router.delete(
    "/{tag_id}", status_code=status.HTTP_204_NO_CONTENT, responses=error_responses(404, 507)
)
async def delete_tag(
    request: Request, session: SessionDep, _caller: Writer, tag_id: uuid.UUID
) -> Response:
    """Delete a tag and its links to assets."""
    await run_in_threadpool(service.delete_tag, session, tag_id=tag_id)
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    await await_index(request, response, session)
    return response


@router.get("/{tag_id}/count", responses=error_responses(404))
def count_tag_assets(session: SessionDep, _caller: Reader, tag_id: uuid.UUID) -> int:
    """How many assets carry the tag, as a bare integer."""
    return service.tag_asset_count(session, tag_id=tag_id)
