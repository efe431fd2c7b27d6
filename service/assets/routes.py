"""HTTP routes for one media asset: create, upload, read, download, change, link, delete."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Body, Query, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from sqlmodel import Session

from service.assets import previews, service
from service.assets.download import file_response
from service.assets.previews import PreviewSize
from service.assets.schemas import (
    ContentPublic,
    DuplicatesPublic,
    MediaAssetCreate,
    MediaAssetPublic,
    MediaAssetUpdate,
    TagIds,
    TagIdsBody,
)
from service.assets.upload import REPLACE_OPENAPI, UPLOAD_OPENAPI, receive_upload
from service.consistency import await_index
from service.deps import Reader, SessionDep, SettingsDep, StorageDep, Writer
from service.errors import NotFound, error_responses
from service.links.schemas import LinksBody

# On an upload whose bytes some assets already hold: their ids.
DUPLICATE_HEADER = "X-Duplicate-Of"

router = APIRouter(
    prefix="/api/media-assets",
    tags=["media assets"],
    responses=error_responses(401, 403),
)

TagIdsPayload = Annotated[
    TagIdsBody | TagIds,
    Body(description='`{"tag_ids": [...]}`, or the bare JSON array of ids.'),
]


def _ids(payload: TagIdsBody | TagIds) -> list[uuid.UUID]:
    return payload.tag_ids if isinstance(payload, TagIdsBody) else payload


@router.post("", status_code=status.HTTP_201_CREATED, responses=error_responses(415, 507))
async def create_asset(
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    caller: Writer,
    data: MediaAssetCreate,
) -> MediaAssetPublic:
    """Create a record that has no file yet."""
    asset = await run_in_threadpool(
        service.create_asset, session, caller=caller, data=data, settings=settings
    )
    await await_index(request, response, session)
    return asset


@router.post(
    "/upload",
    status_code=status.HTTP_201_CREATED,
    response_model=MediaAssetPublic,
    openapi_extra=UPLOAD_OPENAPI,
    responses=error_responses(413, 415, 422, 507),
)
async def upload_asset(
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    storage: StorageDep,
    caller: Writer,
) -> MediaAssetPublic:
    """Upload a file as a new asset (multipart `file`, repeated `tag_ids` and `links`)."""
    upload = await receive_upload(request, storage, limit=settings.max_upload_bytes)
    asset = await run_in_threadpool(
        service.upload_new_asset,
        session,
        storage,
        caller=caller,
        upload=upload,
        settings=settings,
    )
    await _say_duplicates(response, session, asset)
    await await_index(request, response, session)
    return asset


@router.get("/{asset_id}", responses=error_responses(404))
def get_asset(session: SessionDep, _caller: Reader, asset_id: uuid.UUID) -> MediaAssetPublic:
    """Get one asset with its tags."""
    return service.get_public_asset(session, asset_id)


@router.get("/{asset_id}/content", responses=error_responses(404))
def get_content(session: SessionDep, _caller: Reader, asset_id: uuid.UUID) -> ContentPublic:
    """The text extracted from the asset's file, with the extraction's status."""
    return service.get_content(session, asset_id)


@router.get(
    "/{asset_id}/preview",
    response_class=Response,
    responses={
        **error_responses(404),
        200: {"description": "A WebP rendition", "content": {"image/webp": {}}},
        304: {"description": "Not modified (If-None-Match)"},
    },
)
@router.head("/{asset_id}/preview", include_in_schema=False)
def get_preview(
    request: Request,
    session: SessionDep,
    storage: StorageDep,
    _caller: Reader,
    asset_id: uuid.UUID,
    size: Annotated[
        PreviewSize, Query(description="small fits 320x320, large fits 1280x1280")
    ] = PreviewSize.SMALL,
) -> Response:
    """The asset's preview as WebP (404 with the reason when there is none yet); HEAD
    answers with the same headers and no body."""
    return previews.preview_response(request, session, storage, asset_id=asset_id, size=size)


@router.get("/{asset_id}/duplicates", responses=error_responses(404))
def get_duplicates(session: SessionDep, _caller: Reader, asset_id: uuid.UUID) -> DuplicatesPublic:
    """Assets with the same bytes, and images that look alike (nearest first, at most 50)."""
    return previews.find_duplicates(session, asset_id)


@router.get(
    "/{asset_id}/download",
    response_class=Response,
    responses={
        **error_responses(404, 416),
        # The file's own stored type, whatever it is.
        200: {"description": "The file's bytes", "content": {"*/*": {}}},
        206: {"description": "The requested byte range"},
        304: {"description": "Not modified (If-None-Match)"},
    },
)
@router.head("/{asset_id}/download", include_in_schema=False)
def download_asset(
    request: Request,
    session: SessionDep,
    storage: StorageDep,
    _caller: Reader,
    asset_id: uuid.UUID,
) -> Response:
    """Stream the stored file (supports Range and If-None-Match); HEAD answers with the
    same headers and no body."""
    asset = service.get_asset(session, asset_id)
    path = storage.path_of(asset.storage_location) if asset.storage_location else None
    if path is None:
        raise NotFound(f"Media asset {asset_id} has no file attached.")
    return file_response(request, asset, path)


@router.put("/{asset_id}", responses=error_responses(404, 409, 507))
async def update_asset(
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    _caller: Writer,
    asset_id: uuid.UUID,
    data: MediaAssetUpdate,
) -> MediaAssetPublic:
    """Rename the asset and/or replace its whole tag set and/or its whole set of links."""
    asset = await run_in_threadpool(
        service.update_asset,
        session,
        asset_id=asset_id,
        data=data,
        allowed=settings.allowed_extensions,
        link_types=settings.entity_types,
    )
    await await_index(request, response, session)
    return asset


@router.post(
    "/{asset_id}/upload",
    response_model=MediaAssetPublic,
    openapi_extra=REPLACE_OPENAPI,
    responses=error_responses(404, 413, 415, 422, 507),
)
async def replace_asset_file(
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    storage: StorageDep,
    _caller: Writer,
    asset_id: uuid.UUID,
) -> MediaAssetPublic:
    """Replace the asset's file; name, type, size and checksum follow the new file."""
    # Fail fast on an unknown id before receiving a possibly large body.
    await run_in_threadpool(service.require_asset, session, asset_id)
    upload = await receive_upload(request, storage, limit=settings.max_upload_bytes)
    asset = await run_in_threadpool(
        service.replace_file,
        session,
        storage,
        asset_id=asset_id,
        upload=upload,
        settings=settings,
    )
    await _say_duplicates(response, session, asset)
    await await_index(request, response, session)
    return asset


async def _say_duplicates(response: Response, session: Session, asset: MediaAssetPublic) -> None:
    """`X-Duplicate-Of`: the assets that already hold the same bytes (the upload stands)."""
    same = await run_in_threadpool(
        previews.exact_duplicates, session, asset.id, asset.checksum_sha256
    )
    if same:
        response.headers[DUPLICATE_HEADER] = ", ".join(str(asset_id) for asset_id in same)


@router.delete(
    "/{asset_id}", status_code=status.HTTP_204_NO_CONTENT, responses=error_responses(404, 507)
)
async def delete_asset(
    request: Request,
    session: SessionDep,
    storage: StorageDep,
    _caller: Writer,
    asset_id: uuid.UUID,
) -> Response:
    """Delete the asset, its tag links and its file."""
    await run_in_threadpool(service.delete_asset, session, storage, asset_id=asset_id)
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    await await_index(request, response, session)
    return response


@router.post("/{asset_id}/tags", responses=error_responses(404, 409, 507))
async def add_asset_tags(
    request: Request,
    response: Response,
    session: SessionDep,
    _caller: Writer,
    asset_id: uuid.UUID,
    payload: TagIdsPayload,
) -> MediaAssetPublic:
    """Add tags to the asset; tags already present are left as they are."""
    asset = await run_in_threadpool(
        service.add_tags, session, asset_id=asset_id, tag_ids=_ids(payload)
    )
    await await_index(request, response, session)
    return asset


@router.delete("/{asset_id}/tags", responses=error_responses(404, 409, 507))
async def remove_asset_tags(
    request: Request,
    response: Response,
    session: SessionDep,
    _caller: Writer,
    asset_id: uuid.UUID,
    payload: TagIdsPayload,
) -> MediaAssetPublic:
    """Remove tags from the asset; tags it does not carry are ignored."""
    asset = await run_in_threadpool(
        service.remove_tags, session, asset_id=asset_id, tag_ids=_ids(payload)
    )
    await await_index(request, response, session)
    return asset


@router.post("/{asset_id}/links", responses=error_responses(404, 409, 507))
async def add_asset_links(
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    _caller: Writer,
    asset_id: uuid.UUID,
    payload: LinksBody,
) -> MediaAssetPublic:
    """Link the asset to entities of other modules; links already present are kept."""
    asset = await run_in_threadpool(
        service.add_links,
        session,
        asset_id=asset_id,
        links=payload.links,
        link_types=settings.entity_types,
    )
    await await_index(request, response, session)
    return asset


@router.delete("/{asset_id}/links", responses=error_responses(404, 409, 507))
async def remove_asset_links(
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    _caller: Writer,
    asset_id: uuid.UUID,
    payload: LinksBody,
) -> MediaAssetPublic:
    """Unlink the asset from entities; links it does not have are ignored."""
    asset = await run_in_threadpool(
        service.remove_links,
        session,
        asset_id=asset_id,
        links=payload.links,
        link_types=settings.entity_types,
    )
    await await_index(request, response, session)
    return asset
