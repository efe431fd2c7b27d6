"""The index converges whatever happens: writes past the wait, a batch that dies half
way, a rebuild while writes go on; `check` then finds no drift."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
import tantivy
from fastapi.testclient import TestClient
from sqlmodel import Session

from bench.meilisearch_server import MASTER_KEY, MeilisearchProcess, meilisearch_binary
from indexer.documents import SearchDocument, load_documents
from indexer.engines.embedded import EmbeddedEngine
from indexer.maintenance import find_drift, reindex
from indexer.worker import IndexerWorker
from service.app import create_app
from service.cli import main as cli_main
from service.config import Settings
from tests import samples
from tests.conftest import SettingsFactory, bearer, create_record, make_token
from tests.search_fixtures import settled

# Kills, restarts and writes past the index wait, with timings: run alone (scripts/test).
pytestmark = pytest.mark.serial


@pytest.fixture
def idle_indexer_api(settings: Settings) -> Iterator[TestClient]:
    """An app whose indexer does not run by itself and whose writes do not wait."""
    quiet = settings.model_copy(update={"run_indexer": False, "index_wait_ms": 0})
    with TestClient(create_app(quiet), headers=bearer(make_token())) as client:
        yield client


def _state(api: TestClient) -> Any:
    return api.app.state  # type: ignore[attr-defined]


def _create(api: TestClient, name: str) -> dict[str, Any]:
    response = api.post("/api/media-assets", json={"file_name": name})
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def test_writes_past_the_wait_are_pending_then_caught_up(idle_indexer_api: TestClient) -> None:
    api = idle_indexer_api
    response = api.post("/api/media-assets", json={"file_name": "belt.pdf"})
    assert response.status_code == 201
    assert response.headers["X-Index-Status"] == "pending"
    ready = api.get("/readyz").json()
    assert ready["index_lag"]["pending"] == 1
    state = _state(api)
    assert find_drift(state.engine, state.search).missing == [response.json()["id"]]
    state.indexer.drain()
    assert api.get("/api/media-assets", params={"search": "belt"}).json()["total"] == 1
    assert find_drift(state.engine, state.search).total == 0
    assert api.get("/readyz").json()["index_lag"]["pending"] == 0


def test_reads_never_carry_the_pending_header(idle_indexer_api: TestClient) -> None:
    _create(idle_indexer_api, "strap.pdf")
    response = idle_indexer_api.get("/api/media-assets")
    assert "x-index-status" not in response.headers


class _DiesAfterWriting(EmbeddedEngine):
    """The real engine, whose process 'dies' after the write but before the rows are acked."""

    def apply(self, *, upserts: Sequence[SearchDocument], deletes: Sequence[str]) -> list[str]:
        super().apply(upserts=upserts[: len(upserts) // 2], deletes=deletes)
        raise RuntimeError("killed in the middle of a batch")


def test_a_batch_killed_half_way_loses_nothing(idle_indexer_api: TestClient) -> None:
    api = idle_indexer_api
    state = _state(api)
    for i in range(10):
        _create(api, f"card holder {i}.pdf")
    dying_engine = _DiesAfterWriting(state.settings.index_dir)
    with pytest.raises(RuntimeError):
        IndexerWorker(state.engine, dying_engine).run_once()
    dying_engine.close()  # the dead process's index lock goes with it
    assert api.get("/readyz").json()["index_lag"]["pending"] == 10  # nothing acknowledged
    state.indexer.drain()
    assert api.get("/api/media-assets", params={"search": "holder"}).json()["total"] == 10
    assert find_drift(state.engine, state.search).total == 0


def test_reindex_under_concurrent_writes_ends_with_no_drift(client: TestClient) -> None:
    state = _state(client)
    tag_id = client.post("/api/tags", json={"name": "Bridle"}).json()["id"]
    photos = [
        client.post(
            "/api/media-assets/upload",
            files={"file": (f"bridle {i}.png", samples.png(), "image/png")},
            data={"tag_ids": [tag_id]},
        ).json()["id"]
        for i in range(30)
    ]
    stop = threading.Event()
    written: list[str] = []

    def keep_writing() -> None:
        i = 0
        while not stop.is_set():
            written.append(_create(client, f"during rebuild {i}.pdf")["id"])
            i += 1

    writer = threading.Thread(target=keep_writing)
    writer.start()
    try:
        # Like `media-assets reindex`: its own engine on the same index directory.
        reindex(state.engine, EmbeddedEngine(state.settings.index_dir), show_progress=False)
    finally:
        stop.set()
        writer.join()
    # The photos' previews are rendered in the background, each a write of its own that
    # may land after any drain: the index is compared once they are done.
    for photo in photos:
        settled(client, photo, "preview")
    state.indexer.drain()
    drift = find_drift(state.engine, state.search)
    # Which assets, and in what state, tells a lost write from a late one if this recurs.
    drifted = [client.get(f"/api/media-assets/{i}").json() for i in drift.stale + drift.missing]
    assert drift.total == 0, [(a["file_name"], a["preview"], a["updated_at"]) for a in drifted]
    total = client.get("/api/media-assets").json()["total"]
    assert total == 30 + len(written)
    assert client.get("/api/media-assets", params={"tag_ids": tag_id}).json()["total"] == 30


def test_check_command_reports_drift_and_repairs_it(
    idle_indexer_api: TestClient, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    _create(idle_indexer_api, "apron.pdf")
    state = _state(idle_indexer_api)
    state.indexer.drain()
    assert find_drift(state.engine, state.search).total == 0
    # Drift: the index lost the document behind the service's back.
    state.search.apply(upserts=[], deletes=[_create(idle_indexer_api, "lost.pdf")["id"]])
    state.indexer.drain()
    state.search.apply(
        upserts=[], deletes=[idle_indexer_api.get("/api/media-assets").json()["items"][0]["id"]]
    )
    monkeypatch.setenv("MEDIA_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("MEDIA_AUTH_SECRET", settings.auth_secret or "")
    if settings.database_url:
        monkeypatch.setenv("MEDIA_DATABASE_URL", settings.database_url)
    state.search.close()  # the command opens its own engine, as it would in another process
    assert cli_main(["check"]) == 1
    assert cli_main(["check", "--repair"]) == 1
    state.indexer.drain()
    assert cli_main(["check"]) == 0


def test_meilisearch_down_then_back_converges(
    tmp_path: Path, settings_factory: SettingsFactory
) -> None:
    binary = meilisearch_binary()
    if binary is None:
        pytest.skip("needs a `meilisearch` binary on PATH, to stop and restart it")
    server = MeilisearchProcess(binary, tmp_path / "meili")
    server.start()
    settings = settings_factory(
        tmp_path / "data",
        search_engine="meilisearch",
        meilisearch_url=server.url,
        meilisearch_api_key=MASTER_KEY,
        index_wait_ms=1000,
    )
    try:
        with TestClient(create_app(settings), headers=bearer(make_token())) as api:
            before = _create(api, "before outage.pdf")
            # A Meilisearch started just now takes over a second for its first document
            # (past this test's 1 s wait), so the write may answer pending: wait for it.
            _state(api).indexer.drain()
            assert api.get("/api/media-assets").json()["total"] == 1
            server.stop()
            during = api.post("/api/media-assets", json={"file_name": "during outage.pdf"})
            assert during.status_code == 201
            assert during.headers["X-Index-Status"] == "pending"
            renamed = api.put(f"/api/media-assets/{before['id']}", json={"file_name": "x.pdf"})
            assert renamed.status_code == 200 and renamed.headers["X-Index-Status"] == "pending"
            assert api.get("/readyz").status_code == 503
            server.start()
            state = _state(api)
            state.indexer.drain()  # do not wait for the worker's backoff to expire
            assert find_drift(state.engine, state.search).total == 0
            found = api.get("/api/media-assets", params={"search": "outage"}).json()
            assert [item["file_name"] for item in found["items"]] == ["during outage.pdf"]
            assert api.get("/readyz").status_code == 200
    finally:
        server.stop()


def test_check_sees_a_tag_rename_the_index_missed(client: TestClient) -> None:
    state = _state(client)
    tag_id = client.post("/api/tags", json={"name": "Saddle"}).json()["id"]
    asset = client.post("/api/media-assets", json={"file_name": "flap.pdf", "tag_ids": [tag_id]})
    with Session(state.engine) as session:
        before = load_documents(session, [uuid.UUID(asset.json()["id"])])
    client.put(f"/api/tags/{tag_id}", json={"name": "Bridle"})
    assert find_drift(state.engine, state.search).total == 0
    # The index loses the rename (as if a rebuild had read the holders just before it).
    state.search.apply(upserts=[doc for doc in before.values() if doc], deletes=[])
    assert find_drift(state.engine, state.search).stale == [asset.json()["id"]]


def test_lag_command_fails_while_rows_wait_too_long(
    idle_indexer_api: TestClient, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MEDIA_DATA_DIR", str(settings.data_dir))
    if settings.database_url:
        monkeypatch.setenv("MEDIA_DATABASE_URL", settings.database_url)
    assert cli_main(["lag", "--max-seconds", "0"]) == 0  # nothing waits
    _create(idle_indexer_api, "gusset.pdf")
    time.sleep(0.05)
    assert cli_main(["lag", "--max-seconds", "0"]) == 1
    assert cli_main(["lag", "--max-seconds", "3600"]) == 0
    _state(idle_indexer_api).indexer.drain()
    assert cli_main(["lag", "--max-seconds", "0"]) == 0


def test_reindex_leaves_no_half_built_directory(client: TestClient) -> None:
    state = _state(client)
    _create(client, "welt.pdf")
    reindex(state.engine, EmbeddedEngine(state.settings.index_dir), show_progress=False)
    names = sorted(path.name for path in state.settings.index_dir.iterdir())
    assert not any(name.startswith("building-") for name in names)
    assert (state.settings.index_dir / "CURRENT").read_text() in names


def test_an_index_in_an_older_format_is_rebuilt_at_start(settings: Settings) -> None:
    """An upgrade that changes the embedded index's schema: the old index cannot be read,
    so searches answer 503 rather than wrong results, and the indexer rebuilds it in the
    background from its start."""
    with TestClient(create_app(settings), headers=bearer(make_token())) as api:
        asset = create_record(api, "bridle strap.pdf")
    index_root = settings.index_dir
    old = index_root / "index-oldformat0"
    old.mkdir()
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("id", stored=True, tokenizer_name="raw")
    tantivy.Index(builder.build(), path=str(old), reuse=False)
    (index_root / "CURRENT").write_text(old.name)

    reader = settings.model_copy(update={"run_indexer": False})
    with TestClient(create_app(reader), headers=bearer(make_token())) as api:
        refused = api.get("/api/media-assets")
        assert refused.status_code == 503
        assert "older version" in refused.json()["detail"]
    with TestClient(create_app(settings), headers=bearer(make_token())) as api:
        deadline = time.monotonic() + 60
        found = api.get("/api/media-assets", params={"search": "bridle"})
        while found.status_code == 503 and time.monotonic() < deadline:
            time.sleep(0.1)
            found = api.get("/api/media-assets", params={"search": "bridle"})
        assert [item["id"] for item in found.json()["items"]] == [asset["id"]]
    assert not old.exists()
