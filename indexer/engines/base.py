"""The whole engine interface: what the indexer writes with, beside what the API reads with
(`indexer.query`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Protocol

from indexer.documents import SearchDocument
from indexer.query import SearchIndex


@dataclass(frozen=True)
class CatchUp:
    """Writes a rebuilt index takes just before its swap: the assets the indexer applied
    to the old index while the rebuild read the database (`indexer.replay`)."""

    upserts: Sequence[SearchDocument] = ()
    deletes: Sequence[str] = ()


# Entered by a rebuild once every document is written and left once the new index is
# swapped in; what it yields is written into the new index first.
SwapWindow = Callable[[], AbstractContextManager[CatchUp]]


class SearchEngine(SearchIndex, Protocol):
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

    def rebuild(
        self, batches: Iterable[Sequence[SearchDocument]], swap_window: SwapWindow | None = None
    ) -> None:
        """Build a fresh index from `batches` and swap it in atomically; with a
        `swap_window`, write what it yields into the new index and swap inside it."""
        ...

    def document_count(self) -> int:
        """How many documents the index holds."""
        ...

    def fingerprints(self) -> dict[str, str]:
        """Every indexed id with its document's fingerprint, for drift checks."""
        ...

    def upkeep(self) -> None:
        """Periodic housekeeping, run by the indexer."""
        ...

    def close(self) -> None: ...
