"""Assets' links to entities of other modules: read for the asset JSON and the search
documents alike (so both list them in one order), and added or removed inside a write."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence

from sqlalchemy import delete, select, tuple_
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col

from store.models import MediaAssetLink

# (entity_type, entity_id); a list of them is sorted by type, then id, by code point.
Link = tuple[str, str]
# How the index and the list filter spell a link: `type:id` (a type holds no `:`).
LINK_SEPARATOR = ":"


def link_key(link: Link) -> str:
    return f"{link[0]}{LINK_SEPARATOR}{link[1]}"


def links_by_asset(session: Session, asset_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[Link]]:
    """The links of each of these assets that has any, sorted (type, then id, by code
    point: no database's collation decides it)."""
    grouped: dict[uuid.UUID, list[Link]] = {}
    if not asset_ids:
        return grouped
    link = MediaAssetLink
    # Core rows on the session's connection, as the tags of a page are read.
    rows = session.connection().execute(
        select(col(link.asset_id), col(link.entity_type), col(link.entity_id)).where(
            col(link.asset_id).in_(list(asset_ids))
        )
    )
    for asset_id, entity_type, entity_id in rows:
        grouped.setdefault(asset_id, []).append((entity_type, entity_id))
    for links in grouped.values():
        if len(links) > 1:
            links.sort()
    return grouped


def current_links(session: Session, asset_id: uuid.UUID) -> set[Link]:
    link = MediaAssetLink
    query = select(col(link.entity_type), col(link.entity_id)).where(col(link.asset_id) == asset_id)
    return {(entity_type, entity_id) for entity_type, entity_id in session.execute(query)}


def add_links(session: Session, asset_id: uuid.UUID, links: Collection[Link]) -> None:
    """Insert the links; one another request added meanwhile is the no-op the contract
    promises, not a conflict."""
    if not links:
        return
    rows = [
        {"asset_id": asset_id, "entity_type": entity_type, "entity_id": entity_id}
        for entity_type, entity_id in sorted(links)
    ]
    dialect = session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    session.execute(insert(MediaAssetLink).values(rows).on_conflict_do_nothing())


def remove_links(session: Session, asset_id: uuid.UUID, links: Collection[Link]) -> None:
    if not links:
        return
    link = MediaAssetLink
    session.execute(
        delete(link).where(
            col(link.asset_id) == asset_id,
            tuple_(col(link.entity_type), col(link.entity_id)).in_(sorted(links)),
        )
    )
