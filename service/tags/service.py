"""Tag rules and queries; each write function commits once."""

from __future__ import annotations

import uuid
from contextlib import AbstractContextManager
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, delete, func, or_, select
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session, col

from service.errors import NotFound, unique_name
from service.pagination import MAX_OFFSET, Page, SortDirection
from service.tags.schemas import TagCreate, TagPublic, TagUpdate
from store.models import TAG_NAME_UNIQUE, Tag, tag_name_key, utc_now
from store.outbox import record_tag_holders


class TagSort(StrEnum):
    NAME = "name"
    CREATED_AT = "created_at"
    ASSET_COUNT = "asset_count"


def tag_name_taken(session: Session, name: str) -> AbstractContextManager[None]:
    return unique_name(session, name, noun="tag", constraint=TAG_NAME_UNIQUE, column="tag.name_key")


def _folded(text: str | None) -> str | None:
    return None if text is None else text.casefold()


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def to_public(tag: Tag) -> TagPublic:
    return TagPublic(
        id=tag.id,
        name=tag.name,
        description=tag.description,
        color=tag.color,
        created_at=tag.created_at,
        updated_at=tag.updated_at,
        asset_count=tag.asset_count,
    )


def get_tag(session: Session, tag_id: uuid.UUID) -> Tag:
    # populate_existing: the session keeps objects across commits, and triggers change
    # asset_count behind its back.
    tag = session.get(Tag, tag_id, populate_existing=True)
    if tag is None:
        raise NotFound(f"Tag {tag_id} does not exist.")
    return tag


def get_public_tag(session: Session, tag_id: uuid.UUID) -> TagPublic:
    return to_public(get_tag(session, tag_id))


def _lock_tag(session: Session, tag_id: uuid.UUID) -> Tag:
    """The tag, read afresh and on PostgreSQL locked FOR UPDATE until the commit; 404 when
    gone.

    Every link write locks its tags first (service.assets.service._lock_tags), so while
    this lock is held no asset gains or loses the tag: the holders recorded for reindexing
    are exactly those the rename or delete changes. FOR UPDATE because a rename changes
    the unique name key and a delete removes the row: no weaker lock to upgrade later.
    """
    tag = session.get(Tag, tag_id, populate_existing=True, with_for_update=True)
    if tag is None:
        raise NotFound(f"Tag {tag_id} does not exist.")
    return tag


def create_tag(session: Session, *, data: TagCreate) -> TagPublic:
    tag = Tag(
        name=data.name,
        name_key=tag_name_key(data.name),
        description=data.description,
        description_key=_folded(data.description),
        color=data.color,
    )
    tag.updated_at = tag.created_at
    session.add(tag)
    with tag_name_taken(session, tag.name):
        session.commit()
    return to_public(tag)


def update_tag(session: Session, *, tag_id: uuid.UUID, data: TagUpdate) -> TagPublic:
    tag = _lock_tag(session, tag_id)
    changes = data.model_dump(exclude_unset=True)
    try:
        with tag_name_taken(session, changes.get("name", tag.name)):
            if "name" in changes and changes["name"] != tag.name:
                tag.name = changes["name"]
                tag.name_key = tag_name_key(tag.name)
                session.flush()
                # Search documents carry tag names; colours are looked up when facets are shown.
                record_tag_holders(session, tag.id)
            if "description" in changes:
                tag.description = changes["description"]
                tag.description_key = _folded(tag.description)
            if "color" in changes:
                tag.color = changes["color"]
            tag.updated_at = utc_now()
            session.add(tag)
            session.commit()
    except StaleDataError as exc:  # SQLite locks nothing: deleted since it was read
        session.rollback()
        raise NotFound(f"Tag {tag_id} was deleted while this request ran.") from exc
    return get_public_tag(session, tag_id)


def delete_tag(session: Session, *, tag_id: uuid.UUID) -> None:
    _lock_tag(session, tag_id)
    record_tag_holders(session, tag_id)
    deleted = session.execute(delete(Tag).where(col(Tag.id) == tag_id))
    if deleted.rowcount != 1:  # type: ignore[attr-defined]
        raise NotFound(f"Tag {tag_id} was deleted while this request ran.")
    session.commit()


def tag_asset_count(session: Session, *, tag_id: uuid.UUID) -> int:
    return get_tag(session, tag_id).asset_count


def list_tags(
    session: Session,
    *,
    skip: int,
    limit: int,
    sort_by: TagSort,
    sort_dir: SortDirection,
    name: str | None,
    search: str | None,
) -> Page[TagPublic]:
    conditions: list[ColumnElement[bool]] = []
    if name:
        pattern = f"%{_like_escape(tag_name_key(name))}%"
        conditions.append(col(Tag.name_key).like(pattern, escape="\\"))
    if search:
        # Every word must appear in the name or the description.
        for word in dict.fromkeys(search.split()):
            pattern = f"%{_like_escape(word.casefold())}%"
            conditions.append(
                or_(
                    col(Tag.name_key).like(pattern, escape="\\"),
                    col(Tag.description_key).like(pattern, escape="\\"),
                )
            )
    sort_column: Any = {
        TagSort.NAME: col(Tag.name_key),
        TagSort.CREATED_AT: col(Tag.created_at),
        TagSort.ASSET_COUNT: col(Tag.asset_count),
    }[sort_by]
    descending = sort_dir is SortDirection.DESC
    order = [
        sort_column.desc() if descending else sort_column.asc(),
        col(Tag.id).desc() if descending else col(Tag.id).asc(),
    ]
    offset = min(skip, MAX_OFFSET)  # beyond any table: an empty page, not an overflow
    total = session.execute(select(func.count()).select_from(Tag).where(*conditions)).scalar_one()
    tags = session.execute(
        select(Tag)
        .where(*conditions)
        .order_by(*order)
        .offset(offset)
        .limit(limit)
        .execution_options(populate_existing=True)
    ).scalars()
    items = [to_public(tag) for tag in tags]
    return Page[TagPublic](items=items, total=total, skip=skip, limit=limit)


class TagMatch(StrEnum):
    ALL = "all"
    ANY = "any"
