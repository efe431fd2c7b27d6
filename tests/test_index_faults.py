"""Index faults that must heal or say so: a full disk under the embedded index."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
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
from tests.conftest import bearer, create_record, create_tag, make_token

ENOSPC_MESSAGE = "An IO error occurred: 'No space left on device (os error 28)'"


class FullDisk:
    """The index directory's disk, filled and freed on demand.

    As root, a real 16 MiB tmpfs mounted over the index directory, filled with a file;
    otherwise the engine's commits fail as Tantivy's do on ENOSPC (an injected fault)."""

    FILLER = ".filler"

    def __init__(self, index_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.index_dir = index_dir
        self.mounted = _mount_tmpfs(index_dir)
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
            free = shutil.disk_usage(self.index_dir).free
            with (self.index_dir / self.FILLER).open("wb") as filler:
                with contextlib.suppress(OSError):
                    filler.write(b"\0" * free)

    def free(self) -> None:
        self._full = False
        if self.mounted:
            (self.index_dir / self.FILLER).unlink()

    def release(self) -> None:
        if self.mounted:
            subprocess.run(["umount", "-l", str(self.index_dir)], check=False)  # noqa: S607


def _mount_tmpfs(directory: Path) -> bool:
    if os.geteuid() != 0 or shutil.which("mount") is None:
        return False
    directory.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(  # noqa: S603
        ["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(directory)],  # noqa: S607
        capture_output=True,
        check=False,
    )
    return done.returncode == 0


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
    quick = settings.model_copy(update={"index_wait_ms": 300})
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
