"""Asking the index: a list page as bytes, the ids of a tag's assets, and the ids a bulk
change selects by query."""

from __future__ import annotations

import uuid
from dataclasses import replace

import orjson
from sqlalchemy import Engine
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from indexer.query import EngineUnavailable, SearchIndex, SearchQuery, SearchResult, split_item
from service.errors import ServiceUnavailable
from service.pagination import MAX_OFFSET
from service.search.highlight import Highlighter
from service.search.pages import render_page
from service.search.schemas import IdPage
from service.search.tag_directory import TagDirectory, TagSnapshot
from service.tags.service import get_tag
from store.content import content_texts


def _unavailable(exc: EngineUnavailable) -> ServiceUnavailable:
    return ServiceUnavailable(
        f"The search index cannot answer right now; try again shortly. ({exc})"
    )


def _search(engine: SearchIndex, query: SearchQuery) -> SearchResult:
    try:
        return engine.search(query)
    except EngineUnavailable as exc:
        raise _unavailable(exc) from exc


async def asset_page(
    engine: SearchIndex,
    tags: TagDirectory,
    query: SearchQuery,
    *,
    skip: int,
    highlight_from: Engine | None = None,
) -> bytes:
    """One engine call, tag details from the directory, the page JSON as bytes; with
    `highlight_from` (the database, which holds the files' text), each item's highlights."""
    try:
        result = await engine.search_async(query)
    except EngineUnavailable as exc:
        raise _unavailable(exc) from exc
    snapshot = tags.current()
    highlights = None
    if highlight_from is not None:
        highlights = await run_in_threadpool(
            _highlights, highlight_from, Highlighter(query), result.items, snapshot
        )
    return render_page(
        result,
        skip=skip,
        limit=query.limit,
        facets=list(query.facets),
        tags=snapshot,
        highlights=highlights,
    )


def _highlights(
    db: Engine, highlighter: Highlighter, items: list[bytes], tags: TagSnapshot
) -> list[bytes]:
    """Each item's highlights as JSON; the content's text is read for the page's items."""
    heads = [split_item(stored) for stored in items]
    fields = [orjson.loads(head + b"}") for head, _ in heads]
    texts: dict[str, str] = {}
    if highlighter.wants_content and fields:
        with Session(db) as session:
            texts = content_texts(session, [uuid.UUID(item["id"]) for item in fields])
    found = []
    for item, (_, tag_ids) in zip(fields, heads, strict=True):
        names = [tag.name for key in tag_ids if (tag := tags.facet.get(key.decode()))]
        marks = highlighter.of_item(item["file_name"], names, texts.get(item["id"], ""))
        found.append(orjson.dumps(marks))
    return found


def tag_asset_ids(
    session: Session, engine: SearchIndex, *, tag_id: uuid.UUID, skip: int, limit: int
) -> IdPage:
    get_tag(session, tag_id)
    query = SearchQuery(
        skip=min(skip, MAX_OFFSET), limit=limit, tag_ids=[str(tag_id)], with_items=False
    )
    result = _search(engine, query)
    return IdPage(
        items=[uuid.UUID(value) for value in result.ids], total=result.total, skip=skip, limit=limit
    )


async def matching_ids(engine: SearchIndex, query: SearchQuery, *, most: int) -> list[uuid.UUID]:
    """Every asset `query` finds (its page fields are ignored), in one answer of the index,
    so that no write between two pages can move an asset past both. TooMany when they
    are more than `most` (counted first, so a query that finds a million is not read)."""
    try:
        counted = await engine.search_async(replace(query, skip=0, limit=0, with_items=False))
        if counted.total > most:
            raise TooMany(counted.total)
        found = await engine.search_async(
            replace(
                query, skip=0, limit=most + 1, with_items=False, facets=(), disjunctive_facets=()
            )
        )
    except EngineUnavailable as exc:
        raise _unavailable(exc) from exc
    if found.total > most or len(found.ids) > most:
        raise TooMany(max(found.total, len(found.ids)))
    return [uuid.UUID(value) for value in found.ids]


class TooMany(Exception):
    """The query finds more assets than a bulk change may select."""

    def __init__(self, count: int) -> None:
        super().__init__(count)
        self.count = count
