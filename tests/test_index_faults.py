"""Index faults that must heal or say so: a full disk under the embedded index, damaged
segment files, an index deleted or never restored, and what a killed rebuild leaves."""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import tantivy
from fastapi.testclient import TestClient

from indexer.engines import embedded
from indexer.maintenance import find_drift
from service.app import create_app
from service.config import Settings
from tests.conftest import TEST_SECRET, bearer, create_record, create_tag, make_token
from tests.small_disk import SmallDisk, mount_tmpfs, unmount

ENOSPC_MESSAGE = "An IO error occurred: 'No space left on device (os error 28)'"


class FullDisk:
    """The index directory's disk, filled and freed on demand.

    As root, a real 16 MiB tmpfs mounted over the index directory (tests/small_disk);
    otherwise the engine's commits fail as Tantivy's do on ENOSPC (an injected fault)."""

    def __init__(self, index_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.index_dir = index_dir
        self.mounted = mount_tmpfs(index_dir) is None
        self._disk = SmallDisk(index_dir)
        self._full = False
        if not self.mounted:
            self._inject(monkeypatch)

    def _inject(self, monkeypatch: pytest.MonkeyPatch) -> None:
        disk = self
        real_writer = embedded.EmbeddedEngine._writer_for_write

        class _FailingWriter:
            def __init__(self, writer: tantivy.IndexWriter) -> None:
                self._writer = writer

            def commit(self) -> int:
                if disk._full:
                    raise ValueError(ENOSPC_MESSAGE)
                return int(self._writer.commit())

            def __getattr__(self, name: str) -> Any:
                return getattr(self._writer, name)

        def writer_for_write(engine: embedded.EmbeddedEngine) -> Any:
            return _FailingWriter(real_writer(engine))

        monkeypatch.setattr(embedded.EmbeddedEngine, "_writer_for_write", writer_for_write)

    def fill(self) -> None:
        self._full = True
        if self.mounted:
            self._disk.fill()

    def free(self) -> None:
        self._full = False
        if self.mounted:
            self._disk.free()

    def release(self) -> None:
        if self.mounted:
            unmount(self.index_dir)


@pytest.fixture
def full_disk(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[FullDisk]:
    disk = FullDisk(settings.index_dir, monkeypatch)
    try:
        yield disk
    finally:
        disk.release()


def _wait_until(condition: Any, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the condition did not hold in time"
        time.sleep(0.1)


def test_a_full_disk_fails_batches_whole_and_converges_once_space_returns(
    settings: Settings, full_disk: FullDisk
) -> None:
    # The index's disk is 16 MiB, below the default free-space floor of /readyz.
    quick = settings.model_copy(update={"index_wait_ms": 300, "min_free_bytes": 1024 * 1024})
    with TestClient(create_app(quick), headers=bearer(make_token())) as api:
        tag = create_tag(api, "saddle tan")
        assets = [create_record(api, f"belt-{n:02d}.csv", tag_ids=[tag["id"]]) for n in range(20)]
        assert api.get("/api/media-assets", params={"limit": 0}).json()["total"] == 20

        full_disk.fill()
        answers = []
        for round_number in range(30):
            renamed = api.put(f"/api/tags/{tag['id']}", json={"name": f"saddle tan {round_number}"})
            answers.append((renamed.status_code, renamed.headers.get("X-Index-Status")))
        uploaded_late = create_record(api, "late-arrival.csv", tag_ids=[tag["id"]])
        # Every write is kept and says the index has not caught up; none is a 500.
        assert {status for status, _ in answers} == {200}
        assert answers[-1][1] == "pending"
        ready = api.get("/readyz")
        assert ready.status_code == 503
        assert "could not be written" in ready.json()["checks"]["indexer"]
        # Nothing was dropped from the index meanwhile: the old state still answers.
        assert api.get("/api/media-assets", params={"limit": 0}).json()["total"] == 20

        full_disk.free()
        _wait_until(lambda: api.get("/readyz").status_code == 200)
        _wait_until(lambda: api.get("/readyz").json()["index_lag"]["pending"] == 0)
        page = api.get("/api/media-assets", params={"limit": 100}).json()
        assert page["total"] == 21
        assert {item["id"] for item in page["items"]} == {
            *(asset["id"] for asset in assets),
            uploaded_late["id"],
        }
        # The index holds the last name: the assets are found by its words.
        assert api.get("/api/media-assets", params={"search": "tan 29"}).json()["total"] == 21
        state = api.app.state  # type: ignore[attr-defined]
        assert find_drift(state.engine, state.search).total == 0


def _fill(api: TestClient, count: int) -> list[str]:
    tag = create_tag(api, "oxblood")
    return [
        create_record(api, f"wallet-{n:02d}.pdf", tag_ids=[tag["id"]])["id"] for n in range(count)
    ]


def _damage_segments(index_dir: Path) -> None:
    """Random bytes over every term dictionary and half of every document store."""
    current = index_dir / (index_dir / "CURRENT").read_text().strip()
    rng = random.Random(7)
    for path in current.iterdir():
        if path.suffix == ".term":
            path.write_bytes(rng.randbytes(path.stat().st_size))
        elif path.suffix == ".store":
            os.truncate(path, path.stat().st_size // 2)


def _converged(api: TestClient, expected: set[str]) -> None:
    def complete() -> bool:
        page = api.get("/api/media-assets", params={"limit": 1000})
        return page.status_code == 200 and {item["id"] for item in page.json()["items"]} == expected

    _wait_until(complete)
    _wait_until(lambda: api.get("/readyz").status_code == 200)
    state = api.app.state  # type: ignore[attr-defined]
    assert find_drift(state.engine, state.search).total == 0


def test_a_damaged_index_answers_503_keeps_writes_and_is_rebuilt_in_the_background(
    settings: Settings,
) -> None:
    with TestClient(create_app(settings), headers=bearer(make_token())) as api:
        ids = set(_fill(api, 30))
    _damage_segments(settings.index_dir)

    # Without an indexer: the service starts, says what is wrong, and keeps writes.
    quiet = settings.model_copy(update={"run_indexer": False, "index_wait_ms": 0})
    with TestClient(create_app(quiet), headers=bearer(make_token())) as api:
        for params in ({}, {"search": "wallet"}, {"file_type": "pdf"}):
            listed = api.get("/api/media-assets", params=params)
            assert listed.status_code == 503, listed.text
            assert "being rebuilt" in listed.json()["detail"]
        ready = api.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["checks"]["search"].startswith("error: The embedded index")
        ids.add(create_record(api, "late-wallet.pdf")["id"])

    # With its indexer, the index is rebuilt from the database and served whole again.
    with TestClient(create_app(settings), headers=bearer(make_token())) as api:
        _converged(api, ids)
        assert api.get("/api/media-assets", params={"search": "wallet"}).json()["total"] == 31


def test_an_index_deleted_while_serving_answers_503_then_is_rebuilt(settings: Settings) -> None:
    with TestClient(create_app(settings), headers=bearer(make_token())) as api:
        ids = set(_fill(api, 20))
        shutil.rmtree(settings.index_dir)
        listed = api.get("/api/media-assets")
        # 503 until the indexer notices (within seconds) and rebuilds; never a 500.
        assert listed.status_code in (200, 503), listed.text
        if listed.status_code == 503:
            assert "rebuilt" in listed.json()["detail"]
        _converged(api, ids)


def test_a_data_dir_restored_without_its_index_is_rebuilt_at_start(settings: Settings) -> None:
    with TestClient(create_app(settings), headers=bearer(make_token())) as api:
        ids = set(_fill(api, 20))
    shutil.rmtree(settings.index_dir)
    with TestClient(create_app(settings), headers=bearer(make_token())) as api:
        # A new empty index would have listed 0 of 20 as if complete.
        _converged(api, ids)


def test_reindex_builds_a_fresh_index_without_opening_the_damaged_one_and_removes_leftovers(
    settings: Settings,
) -> None:
    with TestClient(create_app(settings), headers=bearer(make_token())) as api:
        ids = set(_fill(api, 10))
    _damage_segments(settings.index_dir)
    # What a reindex killed half way leaves: a build directory nobody holds the lock of.
    abandoned = settings.index_dir / "building-killed0000"
    abandoned.mkdir()
    (abandoned / ".building.lock").touch()
    environment = {
        **os.environ,
        "MEDIA_DATA_DIR": str(settings.data_dir),
        "MEDIA_AUTH_SECRET": TEST_SECRET,
        **({"MEDIA_DATABASE_URL": settings.database_url} if settings.database_url else {}),
    }

    def run(command: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(  # noqa: S603
            [sys.executable, "-m", "service.cli", command],
            env=environment,
            capture_output=True,
            text=True,
            check=False,
        )

    damaged = run("check")
    # A sentence and a failing exit code, not a traceback.
    assert damaged.returncode != 0
    assert "Traceback" not in damaged.stderr, damaged.stderr
    assert "cannot be" in damaged.stderr + damaged.stdout
    rebuilt = run("reindex")
    assert rebuilt.returncode == 0, rebuilt.stderr
    checked = run("check")
    assert checked.returncode == 0, checked.stderr + checked.stdout
    assert not abandoned.exists()
    quiet = settings.model_copy(update={"run_indexer": False})
    with TestClient(create_app(quiet), headers=bearer(make_token())) as api:
        page = api.get("/api/media-assets", params={"limit": 100}).json()
        assert {item["id"] for item in page["items"]} == ids
