"""Files and rows agree: a delete removes the file its committed row named, and
`check --repair` removes what a killed process left (files no row names, staging)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, event, text

from service.cli import main
from service.config import Settings
from service.storage import STAGING_DIR_NAME
from tests.conftest import (
    SettingsFactory,
    bearer,
    make_token,
    row_counts,
    stored_files,
    upload,
    uploaded,
)
from tests.deployment import serve

# The query delete_asset makes between reading the asset and deleting it.
_TAGS_OF_ONE_ASSET = "SELECT media_asset_tag.tag_id \nFROM media_asset_tag"


@pytest.mark.serial  # the race waits 2 s for the replace
def test_a_delete_racing_a_replace_removes_the_file_the_deleted_row_named(
    client: TestClient, settings: Settings
) -> None:
    asset = uploaded(client, "prices.csv", b"sku,price\nold,1\n")
    replaced: list[httpx.Response] = []

    def replace() -> None:
        replaced.append(
            upload(
                client,
                "prices.csv",
                b"sku,price\nnew,2\n",
                url=f"/api/media-assets/{asset['id']}/upload",
            )
        )

    racer = threading.Thread(target=replace)

    def replace_meanwhile(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        # The delete has read the asset: a replace starts now. On SQLite it commits
        # before the delete goes on; on PostgreSQL the delete holds the asset's row lock,
        # so the replace waits for the delete and finds the asset gone.
        if statement.startswith(_TAGS_OF_ONE_ASSET) and not racer.is_alive() and not replaced:
            racer.start()
            racer.join(timeout=2)

    engine = client.app.state.engine  # type: ignore[attr-defined]
    event.listen(engine, "before_cursor_execute", replace_meanwhile)
    try:
        deleted = client.delete(f"/api/media-assets/{asset['id']}")
    finally:
        event.remove(engine, "before_cursor_execute", replace_meanwhile)
    racer.join(timeout=60)
    assert deleted.status_code == 204, deleted.text
    assert replaced[0].status_code in (200, 404), replaced[0].text
    assert row_counts(settings)["media_asset"] == 0
    assert stored_files(settings) == []


def _check(settings: Settings, monkeypatch: pytest.MonkeyPatch, *arguments: str) -> int:
    monkeypatch.setenv("MEDIA_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("MEDIA_DATABASE_URL", settings.resolved_database_url)
    return main(["check", *arguments])


def test_check_compares_files_with_rows_and_repair_removes_old_orphans(
    client: TestClient,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    kept = uploaded(client, "prices.csv", b"sku,price\nkept,1\n")
    lost = uploaded(client, "stock.csv", b"sku,count\nlost,1\n")
    (settings.files_dir / lost["storage_location"]).unlink()  # a row without its file
    orphan = settings.files_dir / "ff" / f"{uuid.uuid4().hex}.csv"  # promoted, never committed
    orphan.parent.mkdir(exist_ok=True)
    orphan.write_bytes(b"sku,price\norphan,1\n")
    leftover = settings.files_dir / STAGING_DIR_NAME / "upload-old.part"  # an older layout
    leftover.write_bytes(b"half")
    capsys.readouterr()

    # Within the grace period an unnamed file may be a write under way: reported, kept.
    assert _check(settings, monkeypatch, "--repair") == 1
    report = capsys.readouterr().out
    assert "files without rows: 0" in report
    assert "1 files without rows are younger than 3600s" in report
    assert f"rows without files: 1\n  {lost['id']} {lost['storage_location']}" in report
    assert orphan.exists() and leftover.exists()

    assert _check(settings, monkeypatch, "--repair", "--grace-seconds", "0") == 1
    report = capsys.readouterr().out
    assert f"files without rows: 1\n  ff/{orphan.name}" in report
    assert "abandoned staging: 1" in report
    assert not orphan.exists() and not leftover.exists()
    assert stored_files(settings) == [settings.files_dir / kept["storage_location"]]
    # The row without a file is reported, never "repaired" by deleting the asset.
    assert client.get(f"/api/media-assets/{lost['id']}").status_code == 200


def _writer(base: str, stop: threading.Event, writes: list[int]) -> None:
    """Upload, replace and delete until the server dies under it."""
    headers = bearer(make_token())
    body = b"sku,price\n" + b"a1,2.50\n" * 40_000  # about 320 KB: some die mid-stream
    while not stop.is_set():
        try:
            made = httpx.post(
                f"{base}/api/media-assets/upload",
                files={"file": ("prices.csv", body, "text/csv")},
                headers=headers,
            )
            asset_id = made.json()["id"]
            httpx.post(
                f"{base}/api/media-assets/{asset_id}/upload",
                files={"file": ("prices.csv", body[::-1] + b"\n", "text/csv")},
                headers=headers,
            )
            if len(writes) % 2:
                httpx.delete(f"{base}/api/media-assets/{asset_id}", headers=headers)
            writes.append(1)
        except (httpx.HTTPError, ValueError, KeyError):
            return  # the server is gone


def _stalled_upload(base: str, release: threading.Event) -> None:
    """An upload that sends half its file, then waits: killed, it leaves a staging file."""
    boundary = "half-an-upload"

    def body() -> Iterator[bytes]:
        yield (
            f"--{boundary}\r\n"
            'Content-Disposition: form-data; name="file"; filename="half.csv"\r\n'
            "Content-Type: text/csv\r\n\r\n"
        ).encode() + b"sku,price\n" * 1000
        release.wait()

    headers = {
        **bearer(make_token()),
        "Content-Type": f"multipart/form-data; boundary={boundary}",
    }
    with contextlib.suppress(httpx.HTTPError):
        httpx.post(f"{base}/api/media-assets/upload", content=body(), headers=headers, timeout=60)


def _staged_uploads(settings: Settings) -> list[Path]:
    return sorted((settings.files_dir / STAGING_DIR_NAME).rglob("upload-*.part"))


def _files_and_rows(settings: Settings) -> tuple[set[str], set[str], list[Path]]:
    """Stored keys on disk, keys the rows name, and upload files left in staging."""
    files = {
        path.relative_to(settings.files_dir).as_posix()
        for path in stored_files(settings)
        if STAGING_DIR_NAME not in path.parts
    }
    staging = [path for path in stored_files(settings) if STAGING_DIR_NAME in path.parts]
    engine = create_engine(settings.resolved_database_url)
    try:
        with engine.connect() as connection:
            named = connection.execute(text("SELECT storage_location FROM media_asset"))
            rows = {key for key in named.scalars() if key is not None}
    finally:
        engine.dispose()
    return files, rows, staging


def test_after_kill_9_during_writes_check_repair_leaves_files_and_rows_in_agreement(
    tmp_path: Path, settings_factory: SettingsFactory
) -> None:
    settings = settings_factory(tmp_path / "data")
    with serve(settings, {}, workers=1) as running:
        stop = threading.Event()
        writes: list[int] = []
        threads = [
            threading.Thread(target=_writer, args=(running.base, stop, writes)) for _ in range(4)
        ]
        threads.append(threading.Thread(target=_stalled_upload, args=(running.base, stop)))
        for thread in threads:
            thread.start()
        # Kill once writes are flowing and at least one upload is half received.
        while (len(writes) < 12 or not _staged_uploads(settings)) and all(
            thread.is_alive() for thread in threads
        ):
            stop.wait(0.05)
        os.kill(running.server.pid, signal.SIGKILL)
        stop.set()
        for thread in threads:
            thread.join()
        running.server.wait()

    env = {
        **os.environ,
        "MEDIA_DATA_DIR": str(settings.data_dir),
        "MEDIA_DATABASE_URL": settings.resolved_database_url,
    }
    repaired = subprocess.run(
        [sys.executable, "-m", "service.cli", "check", "--repair", "--grace-seconds", "0"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert "Traceback" not in repaired.stderr, repaired.stderr
    files, rows, staging = _files_and_rows(settings)
    assert files - rows == set(), "files no row names"
    assert rows - files == set(), "rows whose file is missing"
    assert staging == []
