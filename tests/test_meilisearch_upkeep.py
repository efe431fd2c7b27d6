"""Meilisearch upkeep: a rejected document never blocks the rest, a failed task shows in
/readyz, and finished tasks are deleted before the task store fills up."""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bench.meilisearch_server import HOW_TO_ENABLE
from indexer.documents import SearchDocument
from indexer.engines import meilisearch as meili_module
from indexer.engines.meilisearch import MeilisearchEngine
from indexer.query import EngineUnavailable, SearchQuery
from service.app import create_app
from service.config import Settings
from tests.conftest import SettingsFactory, bearer, make_token
from tests.samples import search_document

# Upkeep deletes every finished task on the server and a test keeps the server busy: on a
# Meilisearch shared by two workers (MEDIA_TEST_MEILISEARCH_URL), run alone (scripts/test).
pytestmark = pytest.mark.serial


@pytest.fixture
def engine(meilisearch_endpoint: tuple[str, str | None] | None) -> MeilisearchEngine:
    if meilisearch_endpoint is None:
        pytest.skip(HOW_TO_ENABLE)
    url, key = meilisearch_endpoint
    return MeilisearchEngine(url=url, api_key=key, index_uid=f"upkeep_{uuid.uuid4().hex[:10]}")


def _settings_on(
    engine: MeilisearchEngine, settings_factory: SettingsFactory, tmp_path: Path, **extra: Any
) -> Settings:
    """A service whose index is `engine`'s."""
    return settings_factory(
        tmp_path / "data",
        search_engine="meilisearch",
        meilisearch_url=engine.client.config.url,
        meilisearch_api_key=engine.client.config.api_key,
        meilisearch_index=engine.index_uid,
        **extra,
    )


def test_a_rejected_document_does_not_block_the_batch(engine: MeilisearchEngine) -> None:
    good = [search_document() for _ in range(3)]
    bad = replace(good[0], id="not a valid id!")
    rejected = engine.apply(upserts=[*good, bad], deletes=[])
    assert rejected == ["not a valid id!"]
    found = engine.search(SearchQuery(text="rivet", with_items=False))
    assert set(found.ids) == {doc.id for doc in good}
    failure: Any = engine.status()["last_failed_task"]
    assert failure is not None and failure["type"] == "documentAdditionOrUpdate"


def test_readyz_shows_the_last_failed_task(
    engine: MeilisearchEngine, settings_factory: SettingsFactory, tmp_path: Path
) -> None:
    engine.apply(upserts=[search_document("bad id!")], deletes=[])
    settings = _settings_on(engine, settings_factory, tmp_path)
    with TestClient(create_app(settings), headers=bearer(make_token())) as client:
        ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["search_status"]["last_failed_task"]["error"]["code"] == (
        "invalid_document_id"
    )


def test_upkeep_deletes_finished_tasks(
    engine: MeilisearchEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine.apply(upserts=[search_document()], deletes=[])

    def finished_tasks() -> int:
        query = {"indexUids": [engine.index_uid], "statuses": ["succeeded", "failed"]}
        return engine.client.get_tasks(query).total

    assert finished_tasks() > 0
    monkeypatch.setattr(meili_module, "TASK_RETENTION", timedelta(0))
    engine.upkeep()
    deletion = engine.client.get_tasks({"types": ["taskDeletion"], "limit": 1}).results[0]
    engine.client.wait_for_task(deletion.uid)
    assert finished_tasks() == 0


def test_documents_of_an_older_shape_are_rebuilt_at_start(
    engine: MeilisearchEngine, settings_factory: SettingsFactory, tmp_path: Path
) -> None:
    settings = _settings_on(engine, settings_factory, tmp_path, run_indexer=False)
    with TestClient(create_app(settings), headers=bearer(make_token())) as client:
        created = client.post("/api/media-assets", json={"file_name": "rivet.pdf"})
        assert created.status_code == 201
    # What an older version wrote: no stored item, no shape.
    old = meili_module.to_meilisearch(search_document())
    del old["item"], old["shape"]
    engine.client.wait_for_task(engine.client.index(engine.index_uid).add_documents([old]).task_uid)
    assert engine.needs_rebuild()
    with TestClient(
        create_app(settings.model_copy(update={"run_indexer": False})),
        headers=bearer(make_token()),
    ) as client:
        answer = client.get("/api/media-assets")
        assert answer.status_code == 503 and "older version" in answer.json()["detail"]
    with TestClient(create_app(settings.model_copy(update={"run_indexer": True}))) as client:
        # Rebuilt in the background from the indexer's start: 503 until the swap.
        deadline = time.monotonic() + 60
        answer = client.get("/api/media-assets", headers=bearer(make_token()))
        while answer.status_code == 503 and time.monotonic() < deadline:
            time.sleep(0.1)
            answer = client.get("/api/media-assets", headers=bearer(make_token()))
        page = answer.json()
    assert [item["file_name"] for item in page["items"]] == ["rivet.pdf"]
    assert not engine.needs_rebuild()


def test_a_failed_rebuild_leaves_no_temporary_index(engine: MeilisearchEngine) -> None:
    engine.apply(upserts=[search_document()], deletes=[])

    def batches_that_fail() -> Iterator[list[SearchDocument]]:
        yield [search_document()]
        raise RuntimeError("the database went away half way")

    with pytest.raises(RuntimeError):
        engine.rebuild(batches_that_fail())
    uids = [index.uid for index in engine.client.get_indexes({"limit": 1000})["results"]]
    assert not [uid for uid in uids if uid.startswith(f"{engine.index_uid}_rebuild_")]
    assert engine.document_count() == 1  # the live index is untouched


def test_an_index_of_older_settings_gets_the_current_ones(engine: MeilisearchEngine) -> None:
    """An index an older version set up (word-distance proximity) is brought to the
    current settings when the engine starts, and its documents stay found."""
    client = engine.client
    client.wait_for_task(client.create_index(engine.index_uid, {"primaryKey": "id"}).task_uid)
    index = client.index(engine.index_uid)
    older = {**meili_module.SETTINGS, "proximityPrecision": "byWord"}
    client.wait_for_task(index.update_settings(older).task_uid)
    document = search_document()
    client.wait_for_task(index.add_documents([meili_module.to_meilisearch(document)]).task_uid)
    assert index.get_settings()["proximityPrecision"] == "byWord"

    found = engine.search(SearchQuery(text="rivet", with_items=False))

    assert index.get_settings()["proximityPrecision"] == "byAttribute"
    assert found.ids == [document.id]


def _settings_tasks(engine: MeilisearchEngine) -> list[Any]:
    answer = engine.client.get_tasks(
        {"indexUids": [engine.index_uid], "types": ["settingsUpdate"], "limit": 100}
    )
    return list(answer.results)


def test_an_index_that_holds_the_settings_gets_no_settings_task_at_start(
    engine: MeilisearchEngine,
) -> None:
    """Every process start used to queue a settings task, each one a reindex check
    inside Meilisearch; an index already set up is now only read."""
    engine.search(SearchQuery(with_items=False))
    assert len(_settings_tasks(engine)) == 1

    # What other processes do first: an API process's first search or readiness check,
    # the indexer's first look at the index.
    _same_index(engine).search(SearchQuery(with_items=False))
    _same_index(engine).ping()
    _same_index(engine).document_count()

    assert len(_settings_tasks(engine)) == 1


def _same_index(engine: MeilisearchEngine) -> MeilisearchEngine:
    """Another process's engine on the same index."""
    config = engine.client.config
    return MeilisearchEngine(url=config.url, api_key=config.api_key, index_uid=engine.index_uid)


def _keep_meilisearch_busy(engine: MeilisearchEngine) -> None:
    """Queue a few seconds' work on an index of its own, so that tasks queued next wait."""
    client = engine.client
    words = " ".join(f"busy{n}" for n in range(300))
    documents = [{"id": n, "text": f"{words} {n}"} for n in range(3000)]
    client.index(f"{engine.index_uid}_busy").add_documents(documents, primary_key="id")


def test_a_search_during_a_settings_change_answers_unavailable_at_once(
    engine: MeilisearchEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A settings change that reindexes a large library takes minutes: a search does not
    wait out the indexer's two minutes, it answers unavailable naming the task, and
    searches of other processes meanwhile wait for that task instead of each queueing
    one of their own."""
    client = engine.client
    client.wait_for_task(client.create_index(engine.index_uid, {"primaryKey": "id"}).task_uid)
    index = client.index(engine.index_uid)
    client.wait_for_task(
        index.update_settings({**meili_module.SETTINGS, "proximityPrecision": "byWord"}).task_uid
    )
    monkeypatch.setattr(meili_module, "READ_PATIENCE_S", 0.0)  # one look, no waiting
    _keep_meilisearch_busy(engine)

    with pytest.raises(EngineUnavailable, match=r"still setting up the index .*\(task \d+\)"):
        engine.search(SearchQuery(with_items=False))
    for other in [_same_index(engine) for _ in range(3)]:
        with contextlib.suppress(EngineUnavailable):
            other.search(SearchQuery(with_items=False))

    # The settings task of the set-up above, and the one the first search queued.
    assert len(_settings_tasks(engine)) == 2
    engine.document_count()  # with the indexer's patience: waits for it
    assert index.get_settings()["proximityPrecision"] == "byAttribute"
    assert engine.search(SearchQuery(with_items=False)).total == 0
    assert len(_settings_tasks(engine)) == 2


def test_a_write_past_its_patience_is_unavailable_and_searches_go_on(
    engine: MeilisearchEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A document task Meilisearch has not finished in time makes the write unavailable
    (the indexer retries it), naming the task; it is no set-up task, so searches of the
    ready index still answer."""
    engine.search(SearchQuery(with_items=False))  # set up, within the default patience
    monkeypatch.setattr(meili_module, "WRITE_PATIENCE_S", 0.0)  # one look, no waiting
    _keep_meilisearch_busy(engine)

    document = search_document()
    with pytest.raises(EngineUnavailable, match=r"not finished task \d+ in time"):
        engine.apply(upserts=[document], deletes=[])
    assert engine.search(SearchQuery(with_items=False)).total == 0
    # The indexer's retry, with its patience back, waits for the queue.
    monkeypatch.undo()
    assert engine.apply(upserts=[document], deletes=[]) == []
    assert engine.search(SearchQuery(with_items=False)).ids == [document.id]
