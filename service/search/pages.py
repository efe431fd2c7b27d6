"""A list page as bytes: the stored items the index returned, each completed with its
tags from the tag directory, and the facets beside them. No row, model or per-field
conversion per item: the page agrees with the query that found it, by construction."""

from __future__ import annotations

import orjson

from indexer.query import FacetName, SearchResult, split_item
from service.search.tag_directory import TagSnapshot


def _item(stored: bytes, tags: TagSnapshot, highlights: bytes | None = None) -> bytes:
    head, tag_ids = split_item(stored)
    # A tag deleted a moment ago, before its holders were reindexed, is left out.
    known = [tags.json[tag_id] for tag_id in tag_ids if tag_id in tags.json]
    tail = b"]}" if highlights is None else b'],"highlights":' + highlights + b"}"
    return head + b',"tags":[' + b",".join(known) + tail


def _facets(result: SearchResult, names: list[FacetName], tags: TagSnapshot) -> bytes:
    facets: dict[str, list[dict[str, object]]] = {}
    for name in names:
        counts = result.facets.get(name, [])
        if name is not FacetName.TAGS:
            facets[name.value] = [{"value": value, "count": count} for value, count in counts]
            continue
        facets[name.value] = [
            {"value": value, "count": count, "id": tag.id, "name": tag.name, "color": tag.color}
            for value, count in counts
            if (tag := tags.facet.get(value)) is not None
        ]
    return orjson.dumps(facets)


def render_page(
    result: SearchResult,
    *,
    skip: int,
    limit: int,
    facets: list[FacetName],
    tags: TagSnapshot,
    highlights: list[bytes] | None = None,
) -> bytes:
    """The page JSON; `facets` appears only when asked for, and each item's `highlights`
    (JSON, in the items' order) only with `highlight=true`."""
    if highlights is None:
        items = b",".join(_item(stored, tags) for stored in result.items)
    else:
        items = b",".join(
            _item(stored, tags, marks)
            for stored, marks in zip(result.items, highlights, strict=True)
        )
    body = b'{"items":[%b],"total":%d,"skip":%d,"limit":%d' % (items, result.total, skip, limit)
    if facets:
        body += b',"facets":' + _facets(result, facets, tags)
    return body + b"}"
