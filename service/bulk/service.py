"""Bulk changes: many assets' tags or links added or removed, or the assets deleted, in one
transaction that commits once, with one statement per kind of row however many assets
(`store.bulk` writes them, and says which locks they take in which order)."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Sequence

from sqlalchemy import select
from sqlmodel import Session, col

from service.assets.service import unknown_tags
from service.bulk.schemas import BulkResult, DeleteChange, LinkChange, TagChange
from service.errors import Conflict, Invalid
from service.links.schemas import require_link_types
from service.storage import Storage
from store import bulk
from store.links import Link
from store.models import Tag
from store.outbox import record_selected


def too_many(count: int, most: int) -> Invalid:
    return Invalid(
        f"The selection holds {count:,} assets; one bulk change takes at most {most:,} "
        "(MEDIA_BULK_MAX). Narrow the query, or split the change."
    )


def apply_change(
    session: Session,
    storage: Storage,
    *,
    change: TagChange | LinkChange | DeleteChange,
    asset_ids: Sequence[uuid.UUID],
    named: bool,
    most: int,
    link_types: Sequence[str],
) -> BulkResult:
    """Apply `change` to the assets, all or nothing. `named`: the caller named the ids,
    and each must be an asset (422 naming the others); otherwise they are a query's
    answer, and those deleted since are simply no longer selected."""
    wanted = list(dict.fromkeys(asset_ids))
    if len(wanted) > most:
        raise too_many(len(wanted), most)
    tag_ids = list(dict.fromkeys(change.tag_ids)) if isinstance(change, TagChange) else []
    _require_tags(session, tag_ids)  # early, before any asset is locked
    links = require_link_types(change.links, link_types) if isinstance(change, LinkChange) else []
    bulk.begin(session)
    found = bulk.lock_assets(session, wanted, deleting=isinstance(change, DeleteChange))
    if named and len(found) != len(wanted):
        present = set(found)
        unknown = [asset_id for asset_id in wanted if asset_id not in present]
        raise Invalid(f"These ids name no asset: {', '.join(str(i) for i in unknown)}.")
    expected = change.expected_count
    if expected is not None and expected != len(found):
        raise Conflict(
            f"expected_count is {expected:,}, but the selection holds {len(found):,} "
            f"asset{'' if len(found) == 1 else 's'}; nothing was changed.",
            matched=len(found),
        )
    if isinstance(change, DeleteChange):
        return _delete(session, storage, found)
    if isinstance(change, LinkChange):
        return _change_links(session, found, links, adding=change.action == "link")
    return _change_tags(session, found, tag_ids, adding=change.action == "add_tags")


def _require_tags(session: Session, tag_ids: list[uuid.UUID]) -> None:
    if tag_ids:
        present = set(
            session.execute(select(col(Tag.id)).where(col(Tag.id).in_(tag_ids))).scalars()
        )
        if unknown := [tag_id for tag_id in tag_ids if tag_id not in present]:
            raise unknown_tags(unknown)


def _change_tags(
    session: Session, asset_ids: list[uuid.UUID], tag_ids: list[uuid.UUID], *, adding: bool
) -> BulkResult:
    present = bulk.share_tags(session, tag_ids)
    if vanished := [tag_id for tag_id in tag_ids if tag_id not in present]:
        raise unknown_tags(vanished)  # deleted since they were checked
    if adding:
        pairs = bulk.link(session, asset_ids, tag_ids)
    else:
        pairs = bulk.unlink(session, asset_ids, tag_ids)
    changed = {asset_id for asset_id, _ in pairs}
    step = 1 if adding else -1
    moved: Counter[uuid.UUID] = Counter()
    for _, tag_id in pairs:
        moved[tag_id] += step
    _record_changed(session, changed)
    bulk.settle_tag_counts(session, moved)
    session.commit()
    return BulkResult(matched=len(asset_ids), changed=len(changed))


def _change_links(
    session: Session, asset_ids: list[uuid.UUID], links: list[Link], *, adding: bool
) -> BulkResult:
    """Links name other modules' entities, which this service does not hold: nothing to
    check or count but the assets' own rows."""
    if adding:
        changed = bulk.add_links(session, asset_ids, links)
    else:
        changed = bulk.remove_links(session, asset_ids, links)
    _record_changed(session, changed)
    session.commit()
    return BulkResult(matched=len(asset_ids), changed=len(changed))


def _record_changed(session: Session, changed: set[uuid.UUID]) -> None:
    """The changed assets' updated_at is now, and the indexer is told of them."""
    if changed:
        bulk.touch(session, changed)
        record_selected(session, bulk.id_rows(session, changed))


def _delete(session: Session, storage: Storage, asset_ids: list[uuid.UUID]) -> BulkResult:
    """The rows go in this transaction; their files and previews once it has committed (a
    process killed in between leaves files no row names, which `check --repair` removes)."""
    carried = bulk.tags_of(session, asset_ids)
    bulk.share_tags(session, carried)
    moved: Counter[uuid.UUID] = Counter({tag_id: -count for tag_id, count in carried.items()})
    if asset_ids:
        record_selected(session, bulk.id_rows(session, asset_ids))
    keys = bulk.delete_assets(session, asset_ids) if asset_ids else []
    bulk.settle_tag_counts(session, moved)
    session.commit()
    for key in keys:
        storage.delete(key)
    return BulkResult(matched=len(asset_ids), changed=len(asset_ids))
