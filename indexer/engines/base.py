"""The search-index interface that the API and the indexer both use."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from indexer.documents import SearchDocument


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


MAX_FACET_VALUES = 100


@dataclass(frozen=True)
class SearchQuery:
    """A list or search request, already validated and normalised."""

    skip: int = 0
    limit: int = 100
    text: str | None = None
    file_name: str | None = None
    file_types: Sequence[str] = ()
    uploaded_by: Sequence[str] = ()
    tag_ids: Sequence[str] = ()
    match_all_tags: bool = True
    uploaded_after: int | None = None
    uploaded_before: int | None = None
    # None means relevance (only with text) or the default `uploaded_at`.
    sort_by: SortField | None = None
    descending: bool = True
    facets: Sequence[FacetName] = ()


@dataclass
class SearchResult:
    ids: list[str]
    total: int
    facets: dict[FacetName, list[tuple[str, int]]] = field(default_factory=dict)


def top_facet_values(counts: dict[str, int]) -> list[tuple[str, int]]:
    """Values with a count above zero, largest count first, ties by value, at most 100."""
    ranked = sorted(((v, c) for v, c in counts.items() if c > 0), key=lambda vc: (-vc[1], vc[0]))
    return ranked[:MAX_FACET_VALUES]


class EngineUnavailable(Exception):
    """The engine cannot be reached or refused the operation as a whole; retry later."""


class SearchEngine(Protocol):
    name: str

    def apply(self, *, upserts: Sequence[SearchDocument], deletes: Sequence[str]) -> list[str]:
        """Write documents and deletions, returning once they are searchable.

        Returns the ids of documents the engine rejected (each is logged by the caller)."""
        ...

    def needs_rebuild(self) -> bool:
        """Whether the index must be rebuilt from the database before use (say, an index
        an older version of the service wrote in another format)."""
        ...

    def open_for_writing(self) -> None:
        """Become the process that writes this index; EngineUnavailable says why not."""
        ...

    def rebuild(self, batches: Iterable[Sequence[SearchDocument]]) -> None:
        """Build a fresh index from `batches` and swap it in atomically."""
        ...

    def search(self, query: SearchQuery) -> SearchResult: ...

    def fingerprints(self) -> dict[str, str]:
        """Every indexed id with its document's fingerprint, for drift checks."""
        ...

    def ping(self) -> None:
        """Raise EngineUnavailable when the engine cannot answer."""
        ...

    def upkeep(self) -> None:
        """Periodic housekeeping, run by the indexer."""
        ...

    def status(self) -> dict[str, object]:
        """Engine details for /readyz."""
        ...

    def close(self) -> None: ...
