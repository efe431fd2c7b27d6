"""Saved view rules and queries: every reader sees every view; only its creator or an admin
changes it. Each write function commits once."""

from __future__ import annotations

import json
import uuid
from contextlib import AbstractContextManager

from sqlalchemy import delete, func, select
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session, col

from service.auth import Principal, Scope
from service.errors import Forbidden, NotFound, unique_name
from service.pagination import MAX_OFFSET, Page
from service.views.schemas import ViewPublic
from store.models import VIEW_NAME_UNIQUE, SavedView, utc_now, view_name_key


def view_name_taken(session: Session, name: str) -> AbstractContextManager[None]:
    return unique_name(
        session, name, noun="view", constraint=VIEW_NAME_UNIQUE, column="saved_view.name_key"
    )


def to_public(view: SavedView) -> ViewPublic:
    return ViewPublic(
        id=view.id,
        name=view.name,
        query=json.loads(view.query),
        created_by=view.created_by,
        created_at=view.created_at,
        updated_at=view.updated_at,
    )


def _gone(view_id: uuid.UUID) -> NotFound:
    return NotFound(f"View {view_id} does not exist.")


def get_view(session: Session, view_id: uuid.UUID) -> ViewPublic:
    view = session.get(SavedView, view_id, populate_existing=True)
    if view is None:
        raise _gone(view_id)
    return to_public(view)


def _changeable(session: Session, *, caller: Principal, view_id: uuid.UUID) -> SavedView:
    """The view, read afresh and on PostgreSQL locked until the commit, when the caller may
    change it: 404 when it does not exist, 403 when another user made it."""
    view = session.get(SavedView, view_id, populate_existing=True, with_for_update=True)
    if view is None:
        raise _gone(view_id)
    if view.created_by != caller.subject and Scope.ADMIN not in caller.scopes:
        raise Forbidden(
            f"Only the view's creator ({view.created_by}) or a token with the media:admin "
            "scope may change or delete it."
        )
    return view


def create_view(session: Session, *, caller: Principal, name: str, query: str) -> ViewPublic:
    """A new view of `caller`'s; `query` is the validated, normalised JSON text."""
    view = SavedView(
        name=name, name_key=view_name_key(name), query=query, created_by=caller.subject
    )
    view.updated_at = view.created_at
    session.add(view)
    with view_name_taken(session, name):
        session.commit()
    return to_public(view)


def update_view(
    session: Session,
    *,
    caller: Principal,
    view_id: uuid.UUID,
    name: str | None,
    query: str | None,
) -> ViewPublic:
    """Rename the view or replace its query; `updated_at` moves only when either changes."""
    view = _changeable(session, caller=caller, view_id=view_id)
    changed = False
    if name is not None and name != view.name:
        view.name, view.name_key = name, view_name_key(name)
        changed = True
    if query is not None and query != view.query:
        view.query = query
        changed = True
    if not changed:
        unchanged = to_public(view)
        session.rollback()  # releases the lock
        return unchanged
    view.updated_at = utc_now()
    session.add(view)
    try:
        with view_name_taken(session, view.name):
            session.commit()
    except StaleDataError as exc:  # SQLite locks nothing: deleted since it was read
        session.rollback()
        raise NotFound(f"View {view_id} was deleted while this request ran.") from exc
    return to_public(view)


def delete_view(session: Session, *, caller: Principal, view_id: uuid.UUID) -> None:
    _changeable(session, caller=caller, view_id=view_id)
    deleted = session.execute(delete(SavedView).where(col(SavedView.id) == view_id))
    if deleted.rowcount != 1:  # type: ignore[attr-defined]
        raise NotFound(f"View {view_id} was deleted while this request ran.")
    session.commit()


def list_views(session: Session, *, skip: int, limit: int) -> Page[ViewPublic]:
    """Every user's views, by name case-insensitively, ties by id."""
    total = session.execute(select(func.count()).select_from(SavedView)).scalar_one()
    views = session.execute(
        select(SavedView)
        .order_by(col(SavedView.name_key).asc(), col(SavedView.id).asc())
        .offset(min(skip, MAX_OFFSET))  # beyond any table: an empty page, not an overflow
        .limit(limit)
        .execution_options(populate_existing=True)
    ).scalars()
    items = [to_public(view) for view in views]
    return Page[ViewPublic](items=items, total=total, skip=skip, limit=limit)
