"""Pages of numeric sorts on the embedded engine, narrowed by sort thresholds, are exactly
the slices of the (value, id) order that ranking every match would give: with runs of
ties across page edges, and with filters whose matches sit where the threshold's
estimate does not expect them (the narrowed search falls short and is redone in full)."""

from __future__ import annotations

import random
from dataclasses import replace
from pathlib import Path

import pytest

from indexer.documents import SearchDocument
from indexer.engines.embedded import EmbeddedEngine
from indexer.query import SearchQuery, SortField
from tests.samples import search_document


@pytest.fixture(scope="module")
def library(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[EmbeddedEngine, list[SearchDocument]]:
    engine = EmbeddedEngine(Path(tmp_path_factory.mktemp("index")))
    rng = random.Random(7)
    docs = []
    for rank in range(600):
        # Runs of up to four equal timestamps; the 30 oldest are the only `.a` files.
        doc = replace(
            search_document(file_type=".a" if rank >= 570 else ".b"),
            uploaded_at=10_000 - rank // rng.choice([1, 2, 4]),
            file_size_bytes=rng.randrange(20),
        )
        docs.append(doc)
    engine.apply(upserts=docs, deletes=[])
    return engine, docs


@pytest.mark.parametrize("descending", [True, False])
@pytest.mark.parametrize("field", [SortField.UPLOADED_AT, SortField.FILE_SIZE_BYTES])
@pytest.mark.parametrize("file_types", [(), (".a",), (".b",)])
def test_every_page_is_its_slice_of_the_value_and_id_order(
    library: tuple[EmbeddedEngine, list[SearchDocument]],
    descending: bool,
    field: SortField,
    file_types: tuple[str, ...],
) -> None:
    engine, docs = library
    chosen = [doc for doc in docs if not file_types or doc.file_type in file_types]
    key = {
        SortField.UPLOADED_AT: lambda doc: (doc.uploaded_at, doc.id),
        SortField.FILE_SIZE_BYTES: lambda doc: (doc.file_size_bytes, doc.id),
    }[field]
    # Ties break by the id's high 64 bits, which order UUID strings the same way here.
    expected = [doc.id for doc in sorted(chosen, key=key, reverse=descending)]
    for limit in (1, 7, 50):
        for skip in (0, 3, 13, 100, 560):
            page = engine.search(
                SearchQuery(
                    skip=skip,
                    limit=limit,
                    sort_by=field,
                    descending=descending,
                    file_types=file_types,
                    with_items=False,
                )
            )
            assert page.total == len(chosen)
            assert page.ids == expected[skip : skip + limit], (skip, limit)
