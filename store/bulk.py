"""Writing many assets in one statement per kind: a set of ids bound as one parameter,
the locks a bulk change takes and in which order, and tag counts settled once per tag.

Lock order on PostgreSQL, the same as every single write's (service.assets.service): the
selected assets in id order, then the tags whose counts move (KEY SHARE, which only a tag
rename or delete waits for), and only at the very end those tags FOR NO KEY UPDATE and,
through migration 0004's trigger, the one tag_revision row. So a bulk change holds
nothing for its whole duration that a write to any other asset needs, and single writes
of the selected assets queue behind it instead of deadlocking with it.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from collections.abc import Collection, Iterable
from typing import Any

from sqlalchemy import (
    Select,
    String,
    Uuid,
    bindparam,
    delete,
    false,
    func,
    select,
    tuple_,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.sql import true
from sqlmodel import Session, col

from store.links import Link
from store.models import (
    AssetPreview,
    IndexOutbox,
    MediaAsset,
    MediaAssetLink,
    MediaAssetTag,
    Tag,
    utc_now,
)


def _is_postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def id_rows(session: Session, ids: Collection[uuid.UUID]) -> Select[Any]:
    """SELECT of `ids` as rows of one column, `id`, bound as a single parameter: an array
    on PostgreSQL, JSON text on SQLite. 100,000 ids would pass either database's limit on
    parameters one by one, and a statement per chunk is what a bulk change avoids."""
    if _is_postgresql(session):
        array = bindparam(None, list(ids), type_=ARRAY(Uuid()))
        unnested = func.unnest(array).table_valued("id").render_derived()
        return select(unnested.c.id)
    # SQLite keeps a UUID as its 32 hex digits (SQLAlchemy's Uuid without a native type).
    text = bindparam(None, json.dumps([value.hex for value in ids]), type_=String())
    each = func.json_each(text).table_valued("value")
    return select(each.c.value.label("id"))


def begin(session: Session) -> None:
    """The bulk change's first statement. PostgreSQL: the count triggers skip this
    transaction (`settle_tag_counts` adds the counts at the end). SQLite: a write that
    changes nothing takes the one write lock before anything is read, so what is read
    next stays true until the commit (its triggers keep counting, as nothing waits the
    less for a deferral there)."""
    if _is_postgresql(session):
        # SET LOCAL, for this transaction only; migration 0012's trigger reads it.
        session.connection().execute(select(func.set_config("media.defer_tag_counts", "on", True)))
    else:
        session.connection().execute(delete(IndexOutbox).where(false()))


def lock_assets(session: Session, ids: Collection[uuid.UUID], *, deleting: bool) -> list[uuid.UUID]:
    """Those of `ids` that are assets, in id order, and on PostgreSQL locked in that order
    until the commit: FOR UPDATE to delete them, else FOR NO KEY UPDATE (their updated_at
    changes). Held, the locks also keep their tag links still."""
    query = (
        select(col(MediaAsset.id))
        .where(col(MediaAsset.id).in_(id_rows(session, ids)))
        .order_by(col(MediaAsset.id))
        .with_for_update(key_share=not deleting)  # SQLite renders no lock clause
    )
    return list(session.connection().execute(query).scalars())


def share_tags(session: Session, tag_ids: Iterable[uuid.UUID]) -> set[uuid.UUID]:
    """Those of `tag_ids` that are tags, on PostgreSQL held FOR KEY SHARE until the commit:
    no tag can be deleted or renamed meanwhile (its holders would be recorded without
    these assets), while single writes still move its count."""
    ids = sorted(set(tag_ids))
    if not ids:
        return set()
    query = select(col(Tag.id)).where(col(Tag.id).in_(ids)).order_by(col(Tag.id))
    return set(
        session.connection().execute(query.with_for_update(read=True, key_share=True)).scalars()
    )


def tags_of(session: Session, asset_ids: Collection[uuid.UUID]) -> Counter[uuid.UUID]:
    """How many of the assets carry each tag."""
    tag_id = col(MediaAssetTag.tag_id)
    rows = (
        session.connection()
        .execute(
            select(tag_id, func.count())
            .where(col(MediaAssetTag.media_asset_id).in_(id_rows(session, asset_ids)))
            .group_by(tag_id)
        )
        .all()
    )
    return Counter({tag: int(count) for tag, count in rows})


def link(
    session: Session, asset_ids: Collection[uuid.UUID], tag_ids: Collection[uuid.UUID]
) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """Every asset gets every tag in one INSERT … SELECT; links already there are left
    alone. Returns the (asset, tag) links it added."""
    assets = id_rows(session, asset_ids).subquery()
    tags = id_rows(session, tag_ids).subquery()
    pairs = select(assets.c.id, tags.c.id).select_from(assets.join(tags, true()))
    insert = postgresql_insert if _is_postgresql(session) else sqlite_insert
    statement = (
        insert(MediaAssetTag)
        # WHERE: SQLite would read the ON of ON CONFLICT as the join's.
        .from_select(
            [col(MediaAssetTag.media_asset_id), col(MediaAssetTag.tag_id)], pairs.where(true())
        )
        .on_conflict_do_nothing()
        .returning(col(MediaAssetTag.media_asset_id), col(MediaAssetTag.tag_id))
    )
    return [(asset, tag) for asset, tag in session.connection().execute(statement).all()]


def unlink(
    session: Session, asset_ids: Collection[uuid.UUID], tag_ids: Collection[uuid.UUID]
) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """The tags go from every asset in one DELETE; returns the (asset, tag) links it removed."""
    statement = (
        delete(MediaAssetTag)
        .where(
            col(MediaAssetTag.media_asset_id).in_(id_rows(session, asset_ids)),
            col(MediaAssetTag.tag_id).in_(sorted(set(tag_ids))),
        )
        .returning(col(MediaAssetTag.media_asset_id), col(MediaAssetTag.tag_id))
    )
    return [(asset, tag) for asset, tag in session.connection().execute(statement).all()]


def _link_rows(session: Session, links: Collection[Link]) -> Select[Any]:
    """SELECT of `links` as rows of (entity_type, entity_id), bound as `id_rows` binds ids
    (two arrays on PostgreSQL, JSON text on SQLite, whose VALUES takes no column names)."""
    ordered = sorted(links)
    if _is_postgresql(session):
        types = bindparam(None, [t for t, _ in ordered], type_=ARRAY(String()))
        ids = bindparam(None, [i for _, i in ordered], type_=ARRAY(String()))
        pairs = func.unnest(types, ids).table_valued("entity_type", "entity_id").render_derived()
        return select(pairs.c.entity_type, pairs.c.entity_id)
    text = bindparam(None, json.dumps(ordered), type_=String())
    each = func.json_each(text).table_valued("value")
    return select(
        func.json_extract(each.c.value, "$[0]").label("entity_type"),
        func.json_extract(each.c.value, "$[1]").label("entity_id"),
    )


def add_links(
    session: Session, asset_ids: Collection[uuid.UUID], links: Collection[Link]
) -> set[uuid.UUID]:
    """Every asset gets every link in one INSERT … SELECT; links already there are left
    alone. Returns the assets it changed."""
    assets = id_rows(session, asset_ids).subquery()
    wanted = _link_rows(session, links).subquery()
    rows = select(assets.c.id, wanted.c.entity_type, wanted.c.entity_id).select_from(
        assets.join(wanted, true())
    )
    insert = postgresql_insert if _is_postgresql(session) else sqlite_insert
    link = MediaAssetLink
    statement = (
        insert(link)
        # WHERE: SQLite would read the ON of ON CONFLICT as the join's.
        .from_select(
            [col(link.asset_id), col(link.entity_type), col(link.entity_id)], rows.where(true())
        )
        .on_conflict_do_nothing()
        .returning(col(link.asset_id))
    )
    return set(session.connection().execute(statement).scalars())


def remove_links(
    session: Session, asset_ids: Collection[uuid.UUID], links: Collection[Link]
) -> set[uuid.UUID]:
    """The links go from every asset in one DELETE; returns the assets it changed."""
    link = MediaAssetLink
    statement = (
        delete(link)
        .where(
            col(link.asset_id).in_(id_rows(session, asset_ids)),
            tuple_(col(link.entity_type), col(link.entity_id)).in_(sorted(links)),
        )
        .returning(col(link.asset_id))
    )
    return set(session.connection().execute(statement).scalars())


def touch(session: Session, asset_ids: Collection[uuid.UUID]) -> None:
    """The assets changed in this transaction: their updated_at is now."""
    if asset_ids:
        session.connection().execute(
            update(MediaAsset)
            .where(col(MediaAsset.id).in_(id_rows(session, asset_ids)))
            .values(updated_at=utc_now())
            .execution_options(synchronize_session=False)
        )


def delete_assets(session: Session, asset_ids: Collection[uuid.UUID]) -> list[str]:
    """Delete the assets with their links, text and previews; returns the storage keys of
    their files and previews, which the caller removes once the delete is committed."""
    selected = id_rows(session, asset_ids)
    previews = (
        session.connection()
        .execute(
            delete(AssetPreview)
            .where(col(AssetPreview.asset_id).in_(selected))
            .returning(col(AssetPreview.small_key), col(AssetPreview.large_key))
        )
        .all()
    )
    files = (
        session.connection()
        .execute(
            delete(MediaAsset)
            .where(col(MediaAsset.id).in_(selected))
            .returning(col(MediaAsset.storage_location))
            .execution_options(synchronize_session=False)
        )
        .scalars()
    )
    keys = [key for key in files if key]
    return keys + [key for row in previews for key in row if key]


def settle_tag_counts(session: Session, moved: Counter[uuid.UUID]) -> None:
    """Add what this transaction moved to each tag's count: on PostgreSQL, where `begin`
    turned the triggers off, one UPDATE per tag, its row locked in id order only now; on
    SQLite the triggers counted already. Call it last before the commit."""
    if not _is_postgresql(session):
        return
    changed = sorted(tag for tag, delta in moved.items() if delta)
    if not changed:
        return
    session.connection().execute(
        select(col(Tag.id))
        .where(col(Tag.id).in_(changed))
        .order_by(col(Tag.id))
        .with_for_update(key_share=True)
    ).all()
    for tag_id in changed:
        session.connection().execute(
            update(Tag)
            .where(col(Tag.id) == tag_id)
            .values(asset_count=col(Tag.asset_count) + moved[tag_id])
            .execution_options(synchronize_session=False)
        )
