"""Asset rules: records, their files, their tags and their links to other modules' entities.
Each write commits once.

Files and rows change together or not at all: a new file is promoted into storage
only after every check has passed, and removed again if the commit fails; a
replaced or deleted file is removed only after the commit that drops it, and it is the
file the committed row named. A process killed between the two steps leaves a file no
row names; `media-assets check --repair` removes those once they are old enough.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import PurePosixPath

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session, col

from service.assets.schemas import (
    MAX_FILE_NAME,
    ContentPublic,
    ContentSummaryPublic,
    FileNameTooLong,
    ImageFactsPublic,
    MediaAssetCreate,
    MediaAssetPublic,
    MediaAssetUpdate,
    PreviewSummaryPublic,
    clean_file_name,
)
from service.assets.upload import ReceivedUpload, body_error
from service.auth import Principal, Scope
from service.config import Settings, normalize_file_type
from service.content import (
    PLAIN_TEXT_TYPES,
    check_allowed,
    content_type_for_extension,
    detect_content_type,
)
from service.errors import Conflict, Forbidden, Invalid, NotFound
from service.extraction import has_extractor, has_preview
from service.links.schemas import (
    LinkIn,
    parse_link_text,
    public_links,
    require_link_types,
)
from service.staging import StagedFile, discard_quietly
from service.storage import Storage
from service.tags.schemas import TagPublic
from store import content as stored_content
from store import links as stored_links
from store import previews as stored_previews
from store.models import MediaAsset, MediaAssetTag, Tag, utc_now
from store.outbox import record_assets


def extension_of(file_name: str) -> str:
    return normalize_file_type(PurePosixPath(file_name).suffix)


def get_asset(session: Session, asset_id: uuid.UUID) -> MediaAsset:
    asset = session.get(MediaAsset, asset_id)
    if asset is None:
        raise NotFound(f"Media asset {asset_id} does not exist.")
    return asset


def require_asset(session: Session, asset_id: uuid.UUID) -> None:
    """404 early, then give the connection back: an upload body may take minutes to arrive."""
    get_asset(session, asset_id)
    session.rollback()


# The columns that make asset and tag JSON, read as plain rows for list pages.
# Made from the asset's own columns; the others come from their tables.
_ASSET_FIELDS = tuple(
    field
    for field in MediaAssetPublic.model_fields
    if field not in {"tags", "links", "content", "preview", "image"}
)
_ASSET_COLUMNS = tuple(col(getattr(MediaAsset, field)) for field in _ASSET_FIELDS)
_TAG_FIELDS = tuple(TagPublic.model_fields)
_TAG_COLUMNS = tuple(col(getattr(Tag, field)) for field in _TAG_FIELDS)


def _public_tags_by_asset(
    session: Session, asset_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[TagPublic]]:
    """Each asset's tags, sorted by name, from plain rows: one object per distinct tag.

    The values come straight from the database, already typed, so the models are built
    without validation (a list page shows hundreds of tags)."""
    grouped: dict[uuid.UUID, list[TagPublic]] = {asset_id: [] for asset_id in asset_ids}
    if not asset_ids:
        return grouped
    # Core rows on the session's connection: the ORM's result machinery costs more
    # than the queries here.
    connection = session.connection()
    links = connection.execute(
        select(col(MediaAssetTag.media_asset_id), col(MediaAssetTag.tag_id)).where(
            col(MediaAssetTag.media_asset_id).in_(asset_ids)
        )
    ).all()
    if not links:
        return grouped
    rows = connection.execute(
        select(col(Tag.name_key), *_TAG_COLUMNS).where(
            col(Tag.id).in_({tag_id for _, tag_id in links})
        )
    ).all()
    public = {
        row.id: (
            (row.name_key, row.id),
            TagPublic.model_construct(**dict(zip(_TAG_FIELDS, row[1:], strict=True))),
        )
        for row in rows
    }
    # A tag deleted between the two reads (PostgreSQL reads each at its own moment) is gone.
    present = [link for link in links if link[1] in public]
    for asset_id, tag_id in sorted(present, key=lambda link: public[link[1]][0]):
        grouped[asset_id].append(public[tag_id][1])
    return grouped


def to_public_many(session: Session, assets: Sequence[MediaAsset]) -> list[MediaAssetPublic]:
    """Asset JSON for loaded assets, with their tags sorted by name and their links by
    type, then id."""
    asset_ids = [asset.id for asset in assets]
    tags = _public_tags_by_asset(session, asset_ids)
    links = stored_links.links_by_asset(session, asset_ids)
    contents = stored_content.summaries(session, asset_ids)
    previews = stored_previews.summaries(session, asset_ids)
    public = []
    for asset in assets:
        preview = previews.get(asset.id, stored_previews.NO_FILE)
        image = preview.image()
        public.append(
            MediaAssetPublic.model_construct(
                **{field: getattr(asset, field) for field in _ASSET_FIELDS},
                content=ContentSummaryPublic.model_construct(
                    **asdict(contents.get(asset.id, stored_content.NO_FILE))
                ),
                preview=PreviewSummaryPublic.model_construct(**preview.summary()),
                image=None if image is None else ImageFactsPublic.model_construct(**image),
                links=public_links(links.get(asset.id, ())),
                tags=tags[asset.id],
            )
        )
    return public


def get_public_asset(session: Session, asset_id: uuid.UUID) -> MediaAssetPublic:
    return to_public_many(session, [get_asset(session, asset_id)])[0]


def get_content(session: Session, asset_id: uuid.UUID) -> ContentPublic:
    """The text extracted from the asset's file (404 for an unknown asset)."""
    require_asset(session, asset_id)
    return ContentPublic.model_construct(**asdict(stored_content.read_text(session, asset_id)))


def unknown_tags(tag_ids: Iterable[uuid.UUID]) -> Invalid:
    """The 422 of a write naming tags that do not exist."""
    return Invalid(f"These tag ids name no tag: {', '.join(str(tag_id) for tag_id in tag_ids)}.")


def _require_tags(session: Session, tag_ids: Iterable[uuid.UUID]) -> list[uuid.UUID]:
    """The distinct ids, in order; 422 naming every id that is no tag."""
    wanted = list(dict.fromkeys(tag_ids))
    if not wanted:
        return []
    found = set(session.execute(select(col(Tag.id)).where(col(Tag.id).in_(wanted))).scalars())
    unknown = [tag_id for tag_id in wanted if tag_id not in found]
    if unknown:
        raise unknown_tags(unknown)
    return wanted


def _parse_form_tag_ids(values: list[str]) -> list[uuid.UUID]:
    parsed: list[uuid.UUID] = []
    for value in values:
        try:
            parsed.append(uuid.UUID(value))
        except ValueError as exc:
            raise body_error("tag_ids", f"Input should be a valid UUID, not {value!r}") from exc
    return parsed


def _parse_form_links(values: list[str], types: Sequence[str]) -> list[stored_links.Link]:
    """The upload's `links` fields (`type:id` each), distinct, in order."""
    parsed: dict[stored_links.Link, None] = {}
    for value in values:
        try:
            parsed[parse_link_text(value, types)] = None
        except ValueError as exc:
            raise body_error("links", f"{exc}.") from exc
    return list(parsed)


def _asset_exists(session: Session, asset_id: uuid.UUID) -> bool:
    query = select(col(MediaAsset.id)).where(col(MediaAsset.id) == asset_id)
    return session.execute(query).first() is not None


@contextmanager
def _answering_lost_races(
    session: Session, *, asset_id: uuid.UUID | None, tag_ids: Collection[uuid.UUID] = ()
) -> Iterator[None]:
    """Answer a write that lost a race with a delete as it would have been answered a
    moment later: 404 for its asset, 422 naming its tags, else 409.

    On SQLite a request reads without any lock, so the asset or a tag can vanish before
    its write: a link insert then breaks a foreign key, and an ORM update of the asset
    matches no row (StaleDataError). PostgreSQL writers lock first (_lock_asset,
    _lock_tags), so this is only the safety net there.
    """
    try:
        yield
    except (IntegrityError, StaleDataError) as exc:
        session.rollback()
        if asset_id is not None and not _asset_exists(session, asset_id):
            raise NotFound(f"Media asset {asset_id} was deleted while this request ran.") from exc
        _require_tags(session, tag_ids)
        raise Conflict("The asset or its tags changed while this request ran; try again.") from exc


def _current_tag_ids(session: Session, asset_id: uuid.UUID) -> set[uuid.UUID]:
    query = select(col(MediaAssetTag.tag_id)).where(col(MediaAssetTag.media_asset_id) == asset_id)
    return set(session.execute(query).scalars())


def _is_postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


# On PostgreSQL every write takes its locks in one order: the asset row (_lock_asset), then
# the tag rows whose asset_count it moves, in id order (_lock_tags), and last the one
# tag_revision row, which the triggers of migration 0004 update after any tag changes.
# Writers that share rows therefore queue instead of deadlocking. Tag renames and deletes
# take only their tag and then the revision, which keeps the same order.


def _lock_asset(session: Session, asset_id: uuid.UUID, *, deleting: bool = False) -> MediaAsset:
    """The asset, read afresh and on PostgreSQL locked until the commit; 404 when gone.

    Held, it also keeps the asset's set of links still while the write reads it: a link
    insert must key-share-lock its asset for the foreign key. A delete takes FOR UPDATE,
    which the DELETE needs anyway, so it never upgrades a lock while others queue on it;
    every other write takes FOR NO KEY UPDATE, which its update of updated_at needs.
    """
    asset = session.get(
        MediaAsset,
        asset_id,
        populate_existing=True,
        with_for_update={"key_share": not deleting},  # SQLite renders no lock clause
    )
    if asset is None:
        raise NotFound(f"Media asset {asset_id} does not exist.")
    return asset


def _lock_tags(session: Session, tag_ids: Iterable[uuid.UUID]) -> set[uuid.UUID]:
    """Lock, in id order, the tag rows whose asset_count this write's triggers will move,
    and return the ids among them that still name a tag.

    On PostgreSQL two writers that touch the same tags in different orders would
    otherwise deadlock; taking every lock up front in one order makes them queue. A tag
    locked here cannot be deleted before this write commits. SQLite has a single writer
    and only reads them.
    """
    ids = sorted(set(tag_ids))
    if not ids:
        return set()
    query = select(col(Tag.id)).where(col(Tag.id).in_(ids)).order_by(col(Tag.id))
    if _is_postgresql(session):
        query = query.with_for_update(key_share=True)  # renders FOR NO KEY UPDATE
    return set(session.execute(query).scalars())


def _link(session: Session, asset_id: uuid.UUID, tag_ids: Iterable[uuid.UUID]) -> None:
    ordered = sorted(set(tag_ids))
    if not ordered:
        return
    present = _lock_tags(session, ordered)
    if vanished := [tag_id for tag_id in ordered if tag_id not in present]:
        raise unknown_tags(vanished)  # deleted since the request checked them
    rows = [{"media_asset_id": asset_id, "tag_id": tag_id} for tag_id in ordered]
    insert = postgresql_insert if _is_postgresql(session) else sqlite_insert
    # A link another request added meanwhile is the no-op the contract promises, not a 409.
    session.execute(insert(MediaAssetTag).values(rows).on_conflict_do_nothing())


def _unlink(session: Session, asset_id: uuid.UUID, tag_ids: Iterable[uuid.UUID]) -> None:
    ids = sorted(set(tag_ids))
    if ids:
        _lock_tags(session, ids)
        session.execute(
            delete(MediaAssetTag).where(
                col(MediaAssetTag.media_asset_id) == asset_id, col(MediaAssetTag.tag_id).in_(ids)
            )
        )


def create_asset(
    session: Session, *, caller: Principal, data: MediaAssetCreate, settings: Settings
) -> MediaAssetPublic:
    """A record with no file yet."""
    name_extension = extension_of(data.file_name)
    file_type = normalize_file_type(data.file_type) if data.file_type else name_extension
    if data.file_type and name_extension and name_extension != file_type:
        raise Invalid(
            f"file_type {file_type} contradicts the extension {name_extension} of the file name."
        )
    check_allowed(file_type, settings.allowed_extensions)
    uploaded_by = data.uploaded_by if data.uploaded_by is not None else caller.subject
    if uploaded_by != caller.subject and Scope.ADMIN not in caller.scopes:
        raise Forbidden("Only a token with the media:admin scope may name another uploader.")
    links = require_link_types(data.links, settings.entity_types)
    tag_ids = _require_tags(session, data.tag_ids)
    asset = MediaAsset(
        file_name=data.file_name,
        file_type=file_type,
        content_type=content_type_for_extension(file_type),
        uploaded_by=uploaded_by,
    )
    _insert_new(session, asset, tag_ids, links)
    return get_public_asset(session, asset.id)


def _insert_new(
    session: Session,
    asset: MediaAsset,
    tag_ids: list[uuid.UUID],
    links: list[stored_links.Link],
) -> None:
    """Insert a new asset with its tags, its links and its outbox row, in one commit."""
    asset.created_at = asset.updated_at = asset.uploaded_at
    with _answering_lost_races(session, asset_id=None, tag_ids=tag_ids):
        session.add(asset)
        session.flush()
        _link(session, asset.id, tag_ids)
        stored_links.add_links(session, asset.id, links)
        if asset.storage_location is not None:
            _request_derived(session, asset.id, asset.storage_location, asset.file_type)
        record_assets(session, [asset.id])
        session.commit()


def _request_derived(session: Session, asset_id: uuid.UUID, key: str, file_type: str) -> list[str]:
    """Ask for the new file's text and previews; return the keys of the older file's
    previews, which the caller removes once the write is committed."""
    stored_content.request_extraction(
        session, asset_id, source=key, extractable=has_extractor(file_type)
    )
    return stored_previews.request_previews(
        session, asset_id, source=key, renderable=has_preview(file_type)
    )


def _accept_file(upload: ReceivedUpload, settings: Settings) -> dict[str, str]:
    """Check an upload's name and bytes; return its file name, type and content type."""
    try:
        file_name = clean_file_name(upload.client_file_name)
    except FileNameTooLong as exc:
        raise body_error(
            "file",
            f"The uploaded file's name is {exc.length} characters long; "
            f"a file name may have at most {MAX_FILE_NAME}.",
        ) from exc
    except ValueError as exc:
        raise body_error("file", f"The uploaded file needs a name: {exc}.") from exc
    file_type = extension_of(file_name)
    check_allowed(file_type, settings.allowed_extensions)
    if upload.staged.size == 0 and file_type not in PLAIN_TEXT_TYPES:
        # An empty text file is still text; any other format needs at least its header.
        raise body_error("file", f"The uploaded file {file_name} is empty (0 bytes).")
    content_type = detect_content_type(
        extension=file_type, head=upload.staged.head, path=upload.staged.path
    )
    return {"file_name": file_name, "file_type": file_type, "content_type": content_type}


def _file_columns(accepted: dict[str, str], staged: StagedFile, key: str) -> dict[str, object]:
    """Every column that follows the file, for a new asset and a replaced file alike."""
    return {
        **accepted,
        "storage_location": key,
        "file_size_bytes": staged.size,
        "checksum_sha256": staged.sha256,
    }


def upload_new_asset(
    session: Session,
    storage: Storage,
    *,
    caller: Principal,
    upload: ReceivedUpload,
    settings: Settings,
) -> MediaAssetPublic:
    """A new asset from an uploaded file, uploaded by the caller."""
    staged = upload.staged
    try:
        accepted = _accept_file(upload, settings)
        links = _parse_form_links(upload.links, settings.entity_types)
        tag_ids = _require_tags(session, _parse_form_tag_ids(upload.tag_ids))
        key = storage.promote(staged, extension=accepted["file_type"])
    except BaseException:
        discard_quietly(staged)
        raise
    try:
        asset = MediaAsset.model_validate(
            {**_file_columns(accepted, staged, key), "uploaded_by": caller.subject}
        )
        _insert_new(session, asset, tag_ids, links)
    except BaseException:
        session.rollback()
        storage.delete(key)
        raise
    return get_public_asset(session, asset.id)


def replace_file(
    session: Session,
    storage: Storage,
    *,
    asset_id: uuid.UUID,
    upload: ReceivedUpload,
    settings: Settings,
) -> MediaAssetPublic:
    """New content for an existing asset; the old file goes once the commit succeeded."""
    staged = upload.staged
    try:
        asset = get_asset(session, asset_id)
        accepted = _accept_file(upload, settings)
        key = storage.promote(staged, extension=accepted["file_type"])
    except BaseException:
        discard_quietly(staged)
        raise
    old_key = asset.storage_location
    session.rollback()  # the upload may have taken long; decide on the current row below
    stored = col(MediaAsset.storage_location)
    try:
        # Only if nobody replaced or deleted the file since we read it: the old file we
        # remove afterwards is then exactly the one this update unlinks.
        replaced = session.execute(
            update(MediaAsset)
            .where(
                col(MediaAsset.id) == asset_id,
                stored.is_(None) if old_key is None else stored == old_key,
            )
            .values(**_file_columns(accepted, staged, key), updated_at=utc_now())
            .execution_options(synchronize_session=False)
        )
        if replaced.rowcount != 1:  # type: ignore[attr-defined]
            get_asset(session, asset_id)  # 404 when it was deleted meanwhile
            raise Conflict("Another upload replaced this asset's file meanwhile; try again.")
        old_previews = _request_derived(session, asset_id, key, accepted["file_type"])
        record_assets(session, [asset_id])
        session.commit()
    except BaseException:
        session.rollback()
        storage.delete(key)
        raise
    for unused in [old_key, *old_previews]:
        if unused:
            storage.delete(unused)
    session.expire_all()
    return get_public_asset(session, asset_id)


def _require_allowed_name(file_name: str, allowed: frozenset[str]) -> None:
    """A rename changes the name, not the type (the contract), but a name may not take
    an extension the library refuses: an `invoice.html` or `setup.exe` name would be
    downloaded, and opened, as what it says."""
    extension = extension_of(file_name)
    if extension and extension not in allowed:
        listed = ", ".join(sorted(allowed))
        raise Invalid(
            f"A file name may only end in an allowed type ({listed}); {extension} is not one."
        )


def update_asset(
    session: Session,
    *,
    asset_id: uuid.UUID,
    data: MediaAssetUpdate,
    allowed: frozenset[str],
    link_types: Sequence[str],
) -> MediaAssetPublic:
    """Rename (the type stays with the content) and/or replace the whole tag set and/or
    the whole set of links."""
    links = None if data.links is None else set(require_link_types(data.links, link_types))
    with _answering_lost_races(session, asset_id=asset_id, tag_ids=data.tag_ids or ()):
        asset = _lock_asset(session, asset_id)
        changed = False
        if data.file_name is not None and data.file_name != asset.file_name:
            _require_allowed_name(data.file_name, allowed)
            asset.file_name = data.file_name
            changed = True
        if data.tag_ids is not None:
            wanted = set(_require_tags(session, data.tag_ids))
            current = _current_tag_ids(session, asset_id)
            # Both sets' tags at once, in one order: _unlink's triggers take the tag
            # revision, after which _link may lock no further tag.
            _lock_tags(session, wanted ^ current)
            _unlink(session, asset_id, current - wanted)
            _link(session, asset_id, wanted - current)
            changed = changed or wanted != current
        if links is not None:
            present = stored_links.current_links(session, asset_id)
            stored_links.remove_links(session, asset_id, present - links)
            stored_links.add_links(session, asset_id, links - present)
            changed = changed or links != present
        if changed:
            _record_change(session, asset)
        session.commit()
    return get_public_asset(session, asset_id)


def _record_change(session: Session, asset: MediaAsset) -> None:
    """The asset changed in this transaction: stamp it and queue it for the indexer."""
    asset.updated_at = utc_now()
    session.add(asset)
    record_assets(session, [asset.id])


def add_tags(
    session: Session, *, asset_id: uuid.UUID, tag_ids: list[uuid.UUID]
) -> MediaAssetPublic:
    with _answering_lost_races(session, asset_id=asset_id, tag_ids=tag_ids):
        asset = _lock_asset(session, asset_id)
        wanted = _require_tags(session, tag_ids)
        current = _current_tag_ids(session, asset_id)
        missing = [tag_id for tag_id in wanted if tag_id not in current]
        if missing:
            _link(session, asset_id, missing)
            _record_change(session, asset)
            session.commit()
    return get_public_asset(session, asset_id)


def remove_tags(
    session: Session, *, asset_id: uuid.UUID, tag_ids: list[uuid.UUID]
) -> MediaAssetPublic:
    with _answering_lost_races(session, asset_id=asset_id, tag_ids=tag_ids):
        asset = _lock_asset(session, asset_id)
        unwanted = set(_require_tags(session, tag_ids)) & _current_tag_ids(session, asset_id)
        if unwanted:
            _unlink(session, asset_id, unwanted)
            _record_change(session, asset)
            session.commit()
    return get_public_asset(session, asset_id)


def add_links(
    session: Session, *, asset_id: uuid.UUID, links: list[LinkIn], link_types: Sequence[str]
) -> MediaAssetPublic:
    """Link the asset to entities; links it already has are left as they are."""
    wanted = require_link_types(links, link_types)
    with _answering_lost_races(session, asset_id=asset_id):
        asset = _lock_asset(session, asset_id)
        present = stored_links.current_links(session, asset_id)
        missing = [link for link in wanted if link not in present]
        if missing:
            stored_links.add_links(session, asset_id, missing)
            _record_change(session, asset)
            session.commit()
    return get_public_asset(session, asset_id)


def remove_links(
    session: Session, *, asset_id: uuid.UUID, links: list[LinkIn], link_types: Sequence[str]
) -> MediaAssetPublic:
    """Unlink the asset from entities; links it does not have are ignored."""
    unwanted = set(require_link_types(links, link_types))
    with _answering_lost_races(session, asset_id=asset_id):
        asset = _lock_asset(session, asset_id)
        present = unwanted & stored_links.current_links(session, asset_id)
        if present:
            stored_links.remove_links(session, asset_id, present)
            _record_change(session, asset)
            session.commit()
    return get_public_asset(session, asset_id)


def delete_asset(session: Session, storage: Storage, *, asset_id: uuid.UUID) -> None:
    """Delete the row, then the file the deleted row named: a replace committed meanwhile
    may have swapped the file, and the one read before the delete would be the wrong one."""
    with _answering_lost_races(session, asset_id=asset_id):
        _lock_asset(session, asset_id, deleting=True)
        # The cascade moves each tag's count; lock those tags in id order first, as every
        # other writer does. The asset's lock keeps any link from joining meanwhile.
        _lock_tags(session, _current_tag_ids(session, asset_id))
        record_assets(session, [asset_id])
        # The previews go with the row (the cascade would drop their keys unread).
        previews = stored_previews.forget_previews(session, asset_id)
        # RETURNING names the file this very statement unlinked: on SQLite, where nothing
        # was locked, a replace may have changed it since it was read.
        deleted = session.execute(
            delete(MediaAsset)
            .where(col(MediaAsset.id) == asset_id)
            .returning(col(MediaAsset.storage_location))
            .execution_options(synchronize_session=False)
        ).first()
        if deleted is None:  # deleted by a concurrent request since it was read
            raise NotFound(f"Media asset {asset_id} does not exist.")
        session.commit()
    for unused in [deleted.storage_location, *previews]:
        if unused:
            storage.delete(unused)
