"""The indexer's state lives in the database: every API process sees whether an indexer is
alive and what its last error is, answers a write `pending` at once when none works, and
otherwise waits only for the write's own outbox rows."""

from __future__ import annotations

import os
import signal
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, insert, select
from sqlmodel import Session, col

from bench.meilisearch_server import MASTER_KEY, MeilisearchProcess, meilisearch_binary
from indexer.engines.embedded import EmbeddedEngine
from indexer.query import EngineUnavailable
from indexer.worker import IndexerWorker
from service.app import create_app
from service.config import Settings
from store import indexer_state
from store.db import make_engine
from store.models import IndexerState, IndexOutbox, MediaAsset, MediaAssetTag, Tag, utc_now
from store.outbox import any_pending, lag, record_assets, record_tag_holders, written_rows
from tests.conftest import SettingsFactory, bearer, make_token
from tests.deployment import Deployment, drift, serve, settings_of

# Writes must answer within AT_ONCE_SECONDS: timed, so run alone (scripts/test).
pytestmark = pytest.mark.serial

WORKERS = 2
WAIT_MS = 5000
# "At once": far below MEDIA_INDEX_WAIT_MS, so the write cannot have waited for the index.
AT_ONCE_SECONDS = 2.0
HEADERS = bearer(make_token())


def test_a_write_waits_for_its_own_rows_only(settings: Settings) -> None:
    db = make_engine(settings.resolved_database_url)
    try:
        with Session(db) as other:
            record_assets(other, [uuid.uuid4()])
            other.commit()
        with Session(db) as session:
            assert written_rows(session) is None  # nothing recorded, nothing to wait for
            tag = Tag(name="Welt", name_key="welt")
            assets = [
                MediaAsset(file_name=f"{n}.pdf", file_type=".pdf", content_type="x", uploaded_by="")
                for n in range(3)
            ]
            session.add_all([tag, *assets])
            session.flush()
            asset_ids = [asset.id for asset in assets]
            session.add_all(MediaAssetTag(media_asset_id=a, tag_id=tag.id) for a in asset_ids)
            record_assets(session, asset_ids[:1])
            record_tag_holders(session, tag.id)
            session.commit()
            rows = written_rows(session)
        assert rows is not None
        with Session(db) as other:
            record_assets(other, [uuid.uuid4()])
            other.commit()
        with Session(db) as session:
            assert any_pending(session, rows)
            # The indexer applies this write's rows (it deletes what it applied) and no other.
            ours = col(IndexOutbox.asset_id).in_(asset_ids)
            assert session.execute(delete(IndexOutbox).where(ours)).rowcount == 4  # type: ignore[attr-defined]
            session.commit()
            assert not any_pending(session, rows)
            assert lag(session).pending == 2  # the rows before and after it still wait
    finally:
        db.dispose()


def test_a_rolled_back_write_waits_for_nothing(settings: Settings) -> None:
    db = make_engine(settings.resolved_database_url)
    try:
        with Session(db) as session:
            record_assets(session, [uuid.uuid4()])
            session.flush()
            session.rollback()
            assert written_rows(session) is None
    finally:
        db.dispose()


def test_a_write_is_not_held_up_by_a_row_the_indexer_cannot_take(settings: Settings) -> None:
    """Another transaction holds an older outbox row: the indexer skips it, and a write
    that waited for every row up to its own would wait in vain."""
    if not settings.resolved_database_url.startswith("postgresql"):
        pytest.skip("SQLite claims lock no rows: no row can be held out of the indexer's reach")
    db = make_engine(settings.resolved_database_url)
    try:
        with db.connect() as blocker:
            stuck = blocker.execute(
                insert(IndexOutbox)
                .values(asset_id=uuid.uuid4(), created_at=utc_now())
                .returning(col(IndexOutbox.id))
            ).scalar_one()
            blocker.commit()
            # Locked before any indexer runs, so none can have applied it.
            held = select(col(IndexOutbox.id)).where(col(IndexOutbox.id) == stuck)
            assert blocker.execute(held.with_for_update()).scalar_one() == stuck
            waiting = settings.model_copy(update={"index_wait_ms": WAIT_MS})
            with TestClient(create_app(waiting), headers=HEADERS) as api:
                started = time.monotonic()
                created = api.post("/api/media-assets", json={"file_name": "skived edge.pdf"})
                assert created.status_code == 201
                assert "x-index-status" not in created.headers
                assert time.monotonic() - started < AT_ONCE_SECONDS
                found = api.get("/api/media-assets", params={"search": "skived"}).json()
                assert [item["id"] for item in found["items"]] == [created.json()["id"]]
                assert api.get("/readyz").json()["index_lag"]["pending"] == 1  # still held
            blocker.rollback()
    finally:
        db.dispose()


def test_without_an_indexer_a_write_is_pending_at_once(settings: Settings) -> None:
    alone = settings.model_copy(update={"run_indexer": False, "index_wait_ms": WAIT_MS})
    with TestClient(create_app(alone), headers=HEADERS) as api:
        started = time.monotonic()
        created = api.post("/api/media-assets", json={"file_name": "bevel.pdf"})
        assert created.status_code == 201
        assert created.headers["X-Index-Status"] == "pending"
        assert time.monotonic() - started < AT_ONCE_SECONDS
        ready = api.get("/readyz")
        assert ready.status_code == 503
        body = ready.json()
        assert body["checks"]["indexer"].startswith("error: no indexer has reported")
        assert body["indexers"] == []
        assert body["index_lag"]["pending"] == 1


def test_an_indexer_reports_itself_and_leaves_when_stopped(settings: Settings) -> None:
    with TestClient(create_app(settings), headers=HEADERS) as api:
        created = api.post("/api/media-assets", json={"file_name": "burnish.pdf"})
        assert "x-index-status" not in created.headers
        worker = api.app.state.indexer  # type: ignore[attr-defined]
        deadline = time.monotonic() + 10
        while True:  # the heartbeat carries the progress within a second or so
            ready = api.get("/readyz").json()
            if ready["indexers"] and ready["indexers"][0]["applied_up_to"] is not None:
                break
            assert time.monotonic() < deadline, ready
            time.sleep(0.1)
        assert ready["status"] == "ready" and ready["checks"]["indexer"] == "ok"
        assert ready["indexer_error"] is None
        (indexer,) = ready["indexers"]
        assert indexer["id"] == worker.indexer_id and indexer["alive"]
        assert indexer["applied_up_to"] >= 1 and indexer["last_error"] is None
    db = make_engine(settings.resolved_database_url)
    try:
        with Session(db) as session:
            assert indexer_state.read(session).indexers == []  # a clean stop removes its row
    finally:
        db.dispose()


def test_a_refused_second_indexer_leaves_no_row(client: TestClient) -> None:
    state = client.app.state  # type: ignore[attr-defined]
    engine = EmbeddedEngine(state.settings.index_dir)
    with pytest.raises(EngineUnavailable):
        IndexerWorker(state.engine, engine).start()  # the app's indexer holds the index
    engine.close()
    with Session(state.engine) as session:
        ids = [indexer.indexer_id for indexer in indexer_state.read(session).indexers]
    assert ids == [state.indexer.indexer_id]


def test_dead_indexers_are_shown_for_a_while_not_piled_up(settings: Settings) -> None:
    db = make_engine(settings.resolved_database_url)
    try:
        with Session(db) as session:
            for minutes in (1, 2, 3, 4, 5, 6, 7, 3 * 24 * 60):
                moment = utc_now() - timedelta(minutes=minutes)
                dead = IndexerState(
                    indexer_id=f"dead:{minutes}", started_at=moment, heartbeat_at=moment
                )
                session.add(dead)
            session.commit()
        indexer_state.register(db, "fresh")
        with Session(db) as session:
            report = indexer_state.read(session)
        assert [i.indexer_id for i in report.alive] == ["fresh"] and report.working
        # The newest few dead ones stay visible, for a day at most.
        assert [i.indexer_id for i in report.indexers if not i.alive] == [
            f"dead:{minutes}" for minutes in range(1, indexer_state.KEEP_DEAD + 1)
        ]
    finally:
        db.dispose()


# --- A real deployment: `serve --workers 2`, its indexer process killed or failing ---


def _readyz_of_every_process(base: str) -> dict[str, httpx.Response]:
    """/readyz as each API process answers it: the processes share one port, so ask on new
    connections until each has answered."""
    answers: dict[str, httpx.Response] = {}
    for _ in range(400):
        response = httpx.get(f"{base}/readyz", timeout=10)
        answers[response.json()["process"]] = response
        if len(answers) == WORKERS:
            return answers
    raise AssertionError(f"only {sorted(answers)} answered")


def _wait_for(base: str, condition: Any, *, seconds: float) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    while True:
        body: dict[str, Any] = httpx.get(f"{base}/readyz", timeout=10).json()
        if condition(body):
            return body
        assert time.monotonic() < deadline, body
        time.sleep(0.2)


def _write(base: str, word: str) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = httpx.post(
        f"{base}/api/media-assets", json={"file_name": f"{word}.pdf"}, headers=HEADERS
    )
    return response, time.monotonic() - started


def _writes_are_pending_at_once(base: str, count: int = 12) -> list[str]:
    """Writes on concurrent connections (so every API process gets some): each succeeds,
    pending, without waiting for the index. Returns their words."""
    words = [f"w{uuid.uuid4().hex[:10]}" for _ in range(count)]
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda word: _write(base, word), words))
    for response, seconds in results:
        assert response.status_code == 201, response.text
        assert response.headers["X-Index-Status"] == "pending"
        assert seconds < AT_ONCE_SECONDS
    return words


def _converges(deployment: Deployment, words: list[str]) -> None:
    """Once an indexer works again: fresh writes are not pending, the pending ones are
    searchable, and the index matches the database."""
    base = deployment.base
    _wait_for(base, lambda body: body["status"] == "ready", seconds=90)
    response, _ = _write(base, "after recovery")
    assert response.status_code == 201 and "x-index-status" not in response.headers
    for word in words:
        found = httpx.get(f"{base}/api/media-assets", params={"search": word}, headers=HEADERS)
        assert found.json()["total"] == 1, word
    assert drift(deployment.settings) == 0


@pytest.fixture
def embedded_deployment(tmp_path: Path, settings_factory: SettingsFactory) -> Iterator[Deployment]:
    variables = {"MEDIA_SEARCH_ENGINE": "embedded", "MEDIA_INDEX_WAIT_MS": str(WAIT_MS)}
    settings = settings_factory(tmp_path / "data", **settings_of(variables))
    with serve(settings, variables, workers=WORKERS) as deployment:
        yield deployment


def test_every_api_process_knows_the_indexer_died(embedded_deployment: Deployment) -> None:
    deployment = embedded_deployment
    base = deployment.base
    response, _ = _write(base, "before")
    assert "x-index-status" not in response.headers
    for answer in _readyz_of_every_process(base).values():
        assert answer.status_code == 200 and answer.json()["checks"]["indexer"] == "ok"

    os.kill(deployment.indexer_pid(), signal.SIGKILL)  # no heartbeat, no goodbye
    _wait_for(base, lambda body: body["checks"]["indexer"] != "ok", seconds=30)
    for answer in _readyz_of_every_process(base).values():
        assert answer.status_code == 503
        body = answer.json()
        assert body["checks"]["indexer"].startswith("error: no indexer has reported")
        assert [indexer["alive"] for indexer in body["indexers"]] == [False]
    words = _writes_are_pending_at_once(base)

    replacement = deployment.start_indexer()
    try:
        _converges(deployment, words)
        indexers = httpx.get(f"{base}/readyz").json()["indexers"]
        assert [indexer["alive"] for indexer in indexers] == [True, False]  # the dead one shows
    finally:
        replacement.terminate()
        replacement.wait(timeout=60)


@pytest.fixture
def meilisearch_process(tmp_path: Path) -> Iterator[MeilisearchProcess]:
    binary = meilisearch_binary()
    if binary is None:
        pytest.skip("needs a `meilisearch` binary on PATH, to stop and restart it")
    server = MeilisearchProcess(binary, tmp_path / "meili")
    server.start()
    try:
        yield server
    finally:
        server.stop()


def test_every_api_process_names_the_indexers_error(
    tmp_path: Path, settings_factory: SettingsFactory, meilisearch_process: MeilisearchProcess
) -> None:
    variables = {
        "MEDIA_SEARCH_ENGINE": "meilisearch",
        "MEDIA_MEILISEARCH_URL": meilisearch_process.url,
        "MEDIA_MEILISEARCH_API_KEY": MASTER_KEY,
        "MEDIA_INDEX_WAIT_MS": str(WAIT_MS),
    }
    settings = settings_factory(tmp_path / "data", **settings_of(variables))
    with serve(settings, variables, workers=WORKERS) as deployment:
        base = deployment.base
        response, _ = _write(base, "before")
        assert "x-index-status" not in response.headers

        meilisearch_process.stop()
        first, _ = _write(base, "first")  # its row makes the indexer fail
        assert first.headers["X-Index-Status"] == "pending"
        _wait_for(base, lambda body: body["indexer_error"] is not None, seconds=30)
        for answer in _readyz_of_every_process(base).values():
            assert answer.status_code == 503
            body = answer.json()
            assert "Meilisearch is unavailable" in body["indexer_error"]
            failing = f"error: the indexer is failing: {body['indexer_error']}"
            assert body["checks"]["indexer"] == failing
            (indexer,) = body["indexers"]
            assert indexer["alive"] and indexer["last_error"] == body["indexer_error"]
        words = _writes_are_pending_at_once(base)

        meilisearch_process.start()
        _converges(deployment, ["first", *words])
