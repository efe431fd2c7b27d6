"""Exact-match filters survive any value: quotes, backslashes, filter operators, unicode.

Meilisearch filters are strings built by one quoting helper; this drives arbitrary
values through it into a real engine and checks that each finds exactly its own
documents (the embedded engine takes the same values as terms, and is held to the same)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.meilisearch_server import HOW_TO_ENABLE, meilisearch_server
from indexer.engines.base import SearchEngine
from indexer.engines.embedded import EmbeddedEngine
from indexer.engines.meilisearch import MeilisearchEngine
from indexer.engines.meilisearch_filters import quote
from indexer.query import SearchQuery
from tests.samples import search_document

TRICKY = [
    '"',
    "\\",
    '\\"',
    "a' OR 1=1",
    'x" OR uploaded_by = "y',
    "IN [a, b]",
    "NOT",
    "TO",
    "ö",
    "😀",
    " ",
]
values = st.one_of(st.sampled_from(TRICKY), st.text(min_size=1, max_size=20))


@pytest.fixture(scope="module", params=["embedded", "meilisearch"])
def engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SearchEngine]:
    root = tmp_path_factory.mktemp("quoting")
    if request.param == "embedded":
        yield EmbeddedEngine(root / "index")
        return
    with meilisearch_server(root) as server:
        if server is None:
            pytest.skip(HOW_TO_ENABLE)
        url, key = server
        yield MeilisearchEngine(url=url, api_key=key, index_uid=f"quoting_{uuid.uuid4().hex[:8]}")


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(uploader=values, other=values)
def test_a_filter_value_matches_exactly_itself(
    engine: SearchEngine, uploader: str, other: str
) -> None:
    # A fresh file type per example keeps examples apart in the shared index.
    scope = f".t{uuid.uuid4().hex[:12]}"
    mine, theirs = (
        search_document(uploaded_by=uploader, file_type=scope),
        search_document(uploaded_by=other, file_type=scope),
    )
    engine.apply(upserts=[mine, theirs], deletes=[])
    found = engine.search(SearchQuery(file_types=[scope], uploaded_by=[uploader], with_items=False))
    expected = {mine.id} | ({theirs.id} if other == uploader else set())
    assert set(found.ids) == expected and found.total == len(expected)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(entity_id=values, other=values)
def test_a_link_filter_matches_exactly_its_own_entity(
    engine: SearchEngine, entity_id: str, other: str
) -> None:
    # Ids differ by case, accents or quoting alone, and may hold `:` and filter words.
    scope = f".t{uuid.uuid4().hex[:12]}"
    mine = search_document(file_type=scope, links=[("product", entity_id)])
    theirs = search_document(file_type=scope, links=[("product", other), ("project", entity_id)])
    engine.apply(upserts=[mine, theirs], deletes=[])
    wanted = f"product:{entity_id}"
    for query in (
        SearchQuery(file_types=[scope], linked=[wanted], with_items=False),
        SearchQuery(file_types=[scope], linked_all=[wanted], with_items=False),
    ):
        found = engine.search(query)
        expected = {mine.id} | ({theirs.id} if other == entity_id else set())
        assert set(found.ids) == expected and found.total == len(expected)


@settings(deadline=None)  # pure, but a loaded machine may stall one example
@given(value=st.text())
def test_quote_escapes_every_backslash_and_quote(value: str) -> None:
    quoted = quote(value)
    assert quoted.startswith('"') and quoted.endswith('"')
    body = quoted[1:-1]
    # Reading it back, as Meilisearch's parser does, gives the value unchanged.
    unescaped, i = [], 0
    while i < len(body):
        if body[i] == "\\":
            unescaped.append(body[i + 1])
            i += 2
        else:
            assert body[i] != '"', "an unescaped quote would end the string early"
            unescaped.append(body[i])
            i += 1
    assert "".join(unescaped) == value
