"""The query interface: everything the API needs to ask the index, and nothing it writes.

The service imports this module only; documents, engines' internals, the outbox worker
and maintenance stay the indexer's own (the CLI and the app's lifespan start them).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

import orjson

if TYPE_CHECKING:
    from indexer.engines.base import SearchEngine


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_NAIVE_EPOCH = datetime(1970, 1, 1)  # for naive datetimes, which are UTC here
_MICROSECOND = timedelta(microseconds=1)


def to_micros(moment: datetime) -> int:
    """Microseconds since the epoch (a naive `moment` is UTC): exact, sortable and the
    same in every engine."""
    # Integer division of timedeltas is exact; a rebuild calls this three times an asset.
    epoch = _NAIVE_EPOCH if moment.tzinfo is None else _EPOCH
    return (moment - epoch) // _MICROSECOND


class SortField(StrEnum):
    UPLOADED_AT = "uploaded_at"
    CREATED_AT = "created_at"
    UPDATED_AT = "updated_at"
    FILE_NAME = "file_name"
    FILE_SIZE_BYTES = "file_size_bytes"
    FILE_TYPE = "file_type"


class FacetName(StrEnum):
    TAGS = "tags"
    FILE_TYPE = "file_type"
    UPLOADED_BY = "uploaded_by"
    CONTENT_TYPE = "content_type"
    ORIENTATION = "orientation"
    # The types of the entities assets are linked to; each asset counts once per type.
    ENTITY_TYPE = "entity_type"


class SearchField(StrEnum):
    """The fields `search` looks in (`search_in` narrows them)."""

    FILE_NAME = "file_name"
    TAGS = "tags"
    UPLOADED_BY = "uploaded_by"
    FILE_TYPE = "file_type"
    CONTENT = "content"


ALL_SEARCH_FIELDS = frozenset(SearchField)

MAX_FACET_VALUES = 100


@dataclass(frozen=True)
class SearchQuery:
    """A list or search request, already validated and normalised."""

    skip: int = 0
    limit: int = 100
    text: str | None = None
    # Where `text` is looked for; a match outside the content ranks above one inside it.
    search_in: frozenset[SearchField] = ALL_SEARCH_FIELDS
    file_name: str | None = None
    file_types: Sequence[str] = ()
    uploaded_by: Sequence[str] = ()
    # landscape, portrait, square: assets with a preview of one of these shapes.
    orientations: Sequence[str] = ()
    tag_ids: Sequence[str] = ()
    match_all_tags: bool = True
    # None of these tags; and, with `untagged`, no tag at all.
    exclude_tag_ids: Sequence[str] = ()
    untagged: bool = False
    # Links as `type:id`: linked to any of `linked`, and to every one of `linked_all` (the
    # entity of a gallery, GET /api/links/{type}/{id}/assets, beside any other filter).
    linked: Sequence[str] = ()
    linked_all: Sequence[str] = ()
    # Linked to at least one entity of any of these types.
    entity_types: Sequence[str] = ()
    uploaded_after: int | None = None
    uploaded_before: int | None = None
    # None means relevance (only with text) or the default `uploaded_at`.
    sort_by: SortField | None = None
    descending: bool = True
    facets: Sequence[FacetName] = ()
    # A subset of `facets`, each counted as if its own filter were absent.
    disjunctive_facets: Sequence[FacetName] = ()
    # Stored list items with the hits (see `list_item`); False gives ids only.
    with_items: bool = True

    def facet_requests(self) -> list[tuple[SearchQuery, list[FacetName]]]:
        """The queries whose counts make this query's facets: the query itself for the
        plain facets, and for each disjunctive one the query without its own filter."""
        plain = [name for name in self.facets if name not in self.disjunctive_facets]
        requests = [(self, plain)] if plain else []
        for name in self.disjunctive_facets:
            requests.append((replace(self, **_WITHOUT_OWN_FILTER.get(name, {})), [name]))
        return requests


# What a facet's own filter is, for disjunctive counts; a facet without a filter of its
# own (content_type) counts over the whole query either way.
_WITHOUT_OWN_FILTER: dict[FacetName, dict[str, Any]] = {
    FacetName.TAGS: {"tag_ids": (), "exclude_tag_ids": (), "untagged": False},
    FacetName.FILE_TYPE: {"file_types": ()},
    FacetName.UPLOADED_BY: {"uploaded_by": ()},
    FacetName.ORIENTATION: {"orientations": ()},
    FacetName.ENTITY_TYPE: {"entity_types": ()},
}


@dataclass
class SearchResult:
    ids: list[str]
    total: int
    facets: dict[FacetName, list[tuple[str, int]]] = field(default_factory=dict)
    # One stored list item per hit when the query asked for them (see `list_item`).
    items: list[bytes] = field(default_factory=list)


# The stored list item: the asset's JSON without its tags and without the closing brace,
# a newline (JSON text never holds a raw one), then its tag ids in tag-name order joined
# by commas. The reader appends the tags from its own directory of tags, whose names,
# colours and counts change without touching the assets that carry them.
ITEM_TAGS_SEPARATOR = b"\n"


def list_item(public_fields: dict[str, Any], tag_ids: Sequence[str]) -> bytes:
    """The stored list item of an asset: `public_fields` in the asset JSON's order (naive
    datetimes are UTC, as SQLite keeps them; they print exactly as aware UTC ones)."""
    head = orjson.dumps(public_fields, option=orjson.OPT_UTC_Z | orjson.OPT_NAIVE_UTC)
    return head[:-1] + ITEM_TAGS_SEPARATOR + ",".join(tag_ids).encode()


def split_item(item: bytes) -> tuple[bytes, list[bytes]]:
    """The JSON head (no closing brace) and the tag ids of a stored list item."""
    head, _, tags = item.partition(ITEM_TAGS_SEPARATOR)
    return head, tags.split(b",") if tags else []


def top_facet_values(counts: dict[str, int]) -> list[tuple[str, int]]:
    """Values with a count above zero, largest count first, ties by value, at most 100."""
    ranked = sorted(((v, c) for v, c in counts.items() if c > 0), key=lambda vc: (-vc[1], vc[0]))
    return ranked[:MAX_FACET_VALUES]


class EngineUnavailable(Exception):
    """The engine cannot be reached or refused the operation as a whole; retry later."""


class SearchIndex(Protocol):
    """The read side of an engine: what the API calls."""

    name: str

    def search(self, query: SearchQuery) -> SearchResult: ...

    async def search_async(self, query: SearchQuery) -> SearchResult:
        """The search, from the event loop: the embedded engine answers inline (a few
        hundred microseconds with no wait in it, less than a hop to a thread and back);
        Meilisearch is awaited without holding a thread."""
        ...

    def ping(self) -> None:
        """Raise EngineUnavailable when the engine cannot answer."""
        ...

    def status(self) -> dict[str, object]:
        """Engine details for /readyz."""
        ...


@dataclass(frozen=True)
class EngineConfig:
    """Which engine serves the index, and where."""

    kind: Literal["embedded", "meilisearch"]
    index_dir: Path
    meilisearch_url: str = "http://127.0.0.1:7700"
    meilisearch_api_key: str | None = None
    meilisearch_index: str = "media_assets"


def open_engine(config: EngineConfig) -> SearchEngine:
    if config.kind == "meilisearch":
        from indexer.engines.meilisearch import MeilisearchEngine

        return MeilisearchEngine(
            url=config.meilisearch_url,
            api_key=config.meilisearch_api_key,
            index_uid=config.meilisearch_index,
        )
    from indexer.engines.embedded import EmbeddedEngine

    return EmbeddedEngine(config.index_dir)
