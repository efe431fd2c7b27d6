"""HTTP routes for saved views."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response, status

from service.deps import Reader, SessionDep, SettingsDep, Writer
from service.errors import error_responses
from service.pagination import Limit, Page, Skip
from service.views import service
from service.views.schemas import ViewCreate, ViewPublic, ViewUpdate, stored_query

router = APIRouter(prefix="/api/views", tags=["views"], responses=error_responses(401, 403))


@router.get("", response_model=Page[ViewPublic])
def list_views(
    session: SessionDep, _caller: Reader, skip: Skip = 0, limit: Limit = 100
) -> Page[ViewPublic]:
    """List every user's saved views, by name (case-insensitively)."""
    return service.list_views(session, skip=skip, limit=limit)


@router.post("", status_code=status.HTTP_201_CREATED, responses=error_responses(409, 507))
def create_view(
    session: SessionDep, settings: SettingsDep, caller: Writer, data: ViewCreate
) -> ViewPublic:
    """Save a view: a name, unique case-insensitively, and list parameters."""
    query = stored_query(data.query, link_types=settings.entity_types)
    return service.create_view(session, caller=caller, name=data.name, query=query)


@router.get("/{view_id}", responses=error_responses(404))
def get_view(session: SessionDep, _caller: Reader, view_id: uuid.UUID) -> ViewPublic:
    """Get one saved view."""
    return service.get_view(session, view_id)


@router.put("/{view_id}", responses=error_responses(404, 409, 507))
def update_view(
    session: SessionDep,
    settings: SettingsDep,
    caller: Writer,
    view_id: uuid.UUID,
    data: ViewUpdate,
) -> ViewPublic:
    """Rename a view or replace its query: its creator's, or any with media:admin."""
    types = settings.entity_types
    query = None if data.query is None else stored_query(data.query, link_types=types)
    return service.update_view(session, caller=caller, view_id=view_id, name=data.name, query=query)


@router.delete(
    "/{view_id}", status_code=status.HTTP_204_NO_CONTENT, responses=error_responses(404, 507)
)
def delete_view(session: SessionDep, caller: Writer, view_id: uuid.UUID) -> Response:
    """Delete a view: its creator's, or any with media:admin."""
    service.delete_view(session, caller=caller, view_id=view_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
