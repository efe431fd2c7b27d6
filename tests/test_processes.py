"""The production shape: several API processes and one indexer process, driven over real
HTTP by concurrent clients; every write is readable at once from any process, and the
index ends with no drift."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from bench.library import generate
from bench.meilisearch_server import HOW_TO_ENABLE
from service.config import Settings
from store.db import make_engine
from tests.conftest import SettingsFactory, bearer, make_token
from tests.deployment import drift, serve, settings_of

# Longer than MEDIA_INDEX_WAIT_MS (5 s): a write may wait that long for a busy indexer
# before it answers, and the client must not give up first (httpx's default is 5 s).
REQUEST_TIMEOUT_SECONDS = 30


def _http(method: str, url: str, **options: Any) -> httpx.Response:
    options.setdefault("timeout", REQUEST_TIMEOUT_SECONDS)
    return httpx.request(method, url, **options)


WORKERS = 2
CLIENTS = 4
WRITES_PER_CLIENT = 12


@pytest.fixture(params=["embedded", "meilisearch"])
def search_engine(
    request: pytest.FixtureRequest, meilisearch_endpoint: tuple[str, str | None] | None
) -> dict[str, str]:
    """The MEDIA_* variables that choose the engine of the deployment."""
    if request.param == "embedded":
        return {"MEDIA_SEARCH_ENGINE": "embedded"}
    if meilisearch_endpoint is None:
        pytest.skip(HOW_TO_ENABLE)
    url, key = meilisearch_endpoint
    return {
        "MEDIA_SEARCH_ENGINE": "meilisearch",
        "MEDIA_MEILISEARCH_URL": url,
        "MEDIA_MEILISEARCH_API_KEY": key or "",
        "MEDIA_MEILISEARCH_INDEX": f"processes_{uuid.uuid4().hex[:10]}",
    }


@pytest.fixture
def deployment(
    tmp_path: Path, settings_factory: SettingsFactory, search_engine: dict[str, str]
) -> Iterator[tuple[str, Settings]]:
    settings = settings_factory(tmp_path / "data", **settings_of(search_engine))
    with serve(settings, search_engine, workers=WORKERS) as running:
        yield running.base, settings


def _client_session(base: str, client_number: int, tag_id: str) -> list[str]:
    """Create, rename and tag assets; after each write, read it back on a new connection
    (so possibly another API process) and expect to see it."""
    headers = bearer(make_token(sub=f"user{client_number}"))
    problems: list[str] = []
    for i in range(WRITES_PER_CLIENT):
        word = f"w{uuid.uuid4().hex[:10]}"
        created = _http(
            "POST", f"{base}/api/media-assets", json={"file_name": f"{word}.pdf"}, headers=headers
        )
        assert created.status_code == 201, created.text
        asset_id = created.json()["id"]
        if i % 3 == 0:
            renamed = _http(
                "PUT",
                f"{base}/api/media-assets/{asset_id}",
                json={"file_name": f"{word} renamed.pdf"},
                headers=headers,
            )
            assert renamed.status_code == 200
        tagged = _http(
            "POST", f"{base}/api/media-assets/{asset_id}/tags", json=[tag_id], headers=headers
        )
        assert tagged.status_code == 200
        if "x-index-status" in tagged.headers:
            problems.append(f"{asset_id}: write answered pending")
            continue
        found = _http(
            "GET",
            f"{base}/api/media-assets",
            params={"search": word, "tag_ids": tag_id},
            headers=headers,
        )
        if [item["id"] for item in found.json()["items"]] != [asset_id]:
            problems.append(f"{asset_id}: not visible right after its write")
    return problems


def test_api_processes_and_one_indexer_under_concurrent_writes(
    deployment: tuple[str, Settings],
) -> None:
    base, settings = deployment
    headers = bearer(make_token())
    tag_id = _http("POST", f"{base}/api/tags", json={"name": "Harness"}, headers=headers).json()[
        "id"
    ]
    with ThreadPoolExecutor(CLIENTS) as pool:
        results = list(pool.map(lambda n: _client_session(base, n, tag_id), range(CLIENTS)))
    assert [problem for problems in results for problem in problems] == []
    expected = CLIENTS * WRITES_PER_CLIENT
    listed = _http(
        "GET", f"{base}/api/media-assets", params={"facets": "uploaded_by"}, headers=headers
    ).json()
    assert listed["total"] == expected
    assert {v["value"]: v["count"] for v in listed["facets"]["uploaded_by"]} == {
        f"user{n}": WRITES_PER_CLIENT for n in range(CLIENTS)
    }
    # A rename fans out to every holder, across processes, before the answer.
    renamed = _http(
        "PUT", f"{base}/api/tags/{tag_id}", json={"name": "Martingale"}, headers=headers
    )
    assert renamed.status_code == 200 and "x-index-status" not in renamed.headers
    found = _http(
        "GET", f"{base}/api/media-assets", params={"search": "martingale"}, headers=headers
    )
    assert found.json()["total"] == expected
    assert drift(settings) == 0


def test_a_second_indexer_is_refused_where_it_would_race(
    deployment: tuple[str, Settings],
) -> None:
    _, settings = deployment
    if settings.search_engine == "embedded":
        expected = "only one process may write the index"
    elif settings.resolved_database_url.startswith("sqlite"):
        expected = "on SQLite only one process may index"
    else:
        pytest.skip("PostgreSQL and Meilisearch take several indexers")
    env = {
        **os.environ,
        "MEDIA_DATA_DIR": str(settings.data_dir),
        "MEDIA_DATABASE_URL": settings.resolved_database_url,
        "MEDIA_SEARCH_ENGINE": settings.search_engine,
        "MEDIA_MEILISEARCH_URL": settings.meilisearch_url,
        "MEDIA_MEILISEARCH_API_KEY": settings.meilisearch_api_key or "",
        "MEDIA_MEILISEARCH_INDEX": settings.meilisearch_index,
    }
    second = subprocess.run(
        [sys.executable, "-m", "service.cli", "indexer"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert second.returncode == 2
    assert expected in second.stderr


def _swap_tag_sets(base: str, asset_id: str, tag_ids: list[str], step: int) -> list[int]:
    """Move the asset's single tag round the ring of tags, `step` places at a time: writers
    going opposite ways drop one tag and take another in opposite orders."""
    headers = bearer(make_token())
    statuses = []
    for number in range(40):
        chosen = [tag_ids[(number * step) % len(tag_ids)]]
        response = _http(
            "PUT", f"{base}/api/media-assets/{asset_id}", json={"tag_ids": chosen}, headers=headers
        )
        statuses.append(response.status_code)
    return statuses


def test_concurrent_tag_edits_keep_every_count_exact(deployment: tuple[str, Settings]) -> None:
    """Writers in several processes move overlapping tags in different orders: none fails
    (no deadlock on the counted tag rows), and each tag's count matches its holders."""
    base, _ = deployment
    headers = bearer(make_token())
    tag_ids = [
        _http("POST", f"{base}/api/tags", json={"name": f"t{n}"}, headers=headers).json()["id"]
        for n in range(2)
    ]
    assets = [
        _http(
            "POST", f"{base}/api/media-assets", json={"file_name": f"a{n}.pdf"}, headers=headers
        ).json()["id"]
        for n in range(CLIENTS)
    ]
    with ThreadPoolExecutor(CLIENTS) as pool:
        steps = [1 if n % 2 else -1 for n in range(CLIENTS)]
        statuses = list(pool.map(lambda a, s: _swap_tag_sets(base, a, tag_ids, s), assets, steps))
    assert {status for batch in statuses for status in batch} == {200}
    for tag_id in tag_ids:
        count = _http("GET", f"{base}/api/tags/{tag_id}/count", headers=headers).json()
        holders = _http("GET", f"{base}/api/tags/{tag_id}/assets", headers=headers).json()["total"]
        assert count == holders


def _deployment_env(settings: Settings) -> dict[str, str]:
    return {
        **os.environ,
        "MEDIA_DATA_DIR": str(settings.data_dir),
        "MEDIA_DATABASE_URL": settings.resolved_database_url,
        "MEDIA_AUTH_SECRET": settings.auth_secret or "",
        "MEDIA_SEARCH_ENGINE": settings.search_engine,
        "MEDIA_MEILISEARCH_URL": settings.meilisearch_url,
        "MEDIA_MEILISEARCH_API_KEY": settings.meilisearch_api_key or "",
        "MEDIA_MEILISEARCH_INDEX": settings.meilisearch_index,
    }


def _write_until(base: str, client_number: int, tag_id: str, running: subprocess.Popen[str]) -> int:
    """Create, rename, retag and delete assets for as long as `running` runs."""
    headers = bearer(make_token(sub=f"writer{client_number}"))
    writes = 0
    with httpx.Client(base_url=base, headers=headers, timeout=30) as http:
        while running.poll() is None:
            asset_id = http.post("/api/media-assets", json={"file_name": "draft.pdf"}).json()["id"]
            http.put(f"/api/media-assets/{asset_id}", json={"file_name": f"gusset {writes}.pdf"})
            http.post(f"/api/media-assets/{asset_id}/tags", json=[tag_id])
            if writes % 3 == 0:
                http.delete(f"/api/media-assets/{asset_id}")
            writes += 1
    return writes


def test_reindex_in_its_own_process_while_clients_write(
    deployment: tuple[str, Settings],
) -> None:
    """`media-assets reindex` as a process of its own beside the service's processes, with
    writers busy over HTTP throughout: once the indexer has caught up, `check` finds
    nothing missing, stale or orphaned."""
    base, settings = deployment
    db = make_engine(settings.resolved_database_url)
    try:
        generate(db, 3000, show_progress=False)  # enough for the rebuild to take a moment
    finally:
        db.dispose()
    headers = bearer(make_token())
    tag_id = _http("POST", f"{base}/api/tags", json={"name": "Replayed"}, headers=headers).json()[
        "id"
    ]
    reindexing = subprocess.Popen(
        [sys.executable, "-m", "service.cli", "reindex"],
        env=_deployment_env(settings),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    with ThreadPoolExecutor(CLIENTS) as pool:
        writes = list(pool.map(lambda n: _write_until(base, n, tag_id, reindexing), range(CLIENTS)))
    output, _ = reindexing.communicate(timeout=300)
    assert reindexing.returncode == 0, output
    assert "went into the new index at its swap" in output, output
    assert sum(writes) > 0
    deadline = time.monotonic() + 120
    while _http("GET", f"{base}/readyz", timeout=10).json()["index_lag"]["pending"]:
        assert time.monotonic() < deadline, "the indexer did not catch up"
        time.sleep(0.1)
    assert drift(settings) == 0
