"""A full disk: every write that meets it answers 507 with a sentence and keeps nothing
half-written, /readyz says the disk is low, and DELETE still works or says why not."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from service.app import create_app
from service.config import Settings
from tests.conftest import (
    SettingsFactory,
    assert_same_asset,
    bearer,
    create_record,
    make_token,
    migrated_settings,
    row_counts,
    stored_files,
    upload,
    uploaded,
)
from tests.deployment import serve
from tests.small_disk import FILLER, SmallDisk, small_disk

FLOOR = 1024 * 1024  # MEDIA_MIN_FREE_BYTES for these tests: well under the 16 MiB disk
CSV = b"sku,price\n" + b"a1,2.50\n" * 60_000  # about 480 KB


def _files(settings: Settings) -> list[Path]:
    return [path for path in stored_files(settings) if path.name != FILLER]


@pytest.fixture
def files_on_small_disk(
    tmp_path: Path, settings_factory: SettingsFactory
) -> Iterator[tuple[Settings, SmallDisk]]:
    """Settings whose files directory, and only it, is a small disk."""
    settings = settings_factory(tmp_path / "data", min_free_bytes=FLOOR)
    with small_disk(settings.files_dir) as disk:
        yield settings, disk


def test_an_upload_onto_a_full_disk_is_507_leaves_nothing_and_readyz_says_why(
    files_on_small_disk: tuple[Settings, SmallDisk],
) -> None:
    settings, disk = files_on_small_disk
    with TestClient(create_app(settings), headers=bearer(make_token())) as api:
        assert api.get("/readyz").json()["checks"]["disk"] == "ok"
        disk.fill()

        refused = upload(api, "prices.csv", CSV)
        assert refused.status_code == 507, refused.text
        assert "disk is full" in refused.json()["detail"]
        assert _files(settings) == []
        assert row_counts(settings)["media_asset"] == 0
        ready = api.get("/readyz")
        assert ready.status_code == 503
        assert "low disk" in ready.json()["checks"]["disk"]
        assert "MEDIA_MIN_FREE_BYTES" in ready.json()["checks"]["disk"]

        disk.free()
        assert api.get("/readyz").json()["checks"]["disk"] == "ok"
        accepted = uploaded(api, "prices.csv", CSV)
        assert (settings.files_dir / accepted["storage_location"]).read_bytes() == CSV


def test_a_replacement_onto_a_full_disk_is_507_and_keeps_the_old_file(
    files_on_small_disk: tuple[Settings, SmallDisk],
) -> None:
    settings, disk = files_on_small_disk
    with TestClient(create_app(settings), headers=bearer(make_token())) as api:
        asset = uploaded(api, "prices.csv", b"sku,price\nold,1\n")
        disk.fill()

        refused = upload(api, "prices.csv", CSV, url=f"/api/media-assets/{asset['id']}/upload")
        assert refused.status_code == 507, refused.text
        assert "disk is full" in refused.json()["detail"]
        assert_same_asset(api.get(f"/api/media-assets/{asset['id']}").json(), asset)
        assert _files(settings) == [settings.files_dir / asset["storage_location"]]
        downloaded = api.get(f"/api/media-assets/{asset['id']}/download")
        assert downloaded.content == b"sku,price\nold,1\n"


def test_with_the_database_on_the_full_disk_writes_are_507_and_delete_works_or_says_why(
    tmp_path: Path,
) -> None:
    """The default layout: SQLite, the index and the files share the data dir's disk."""
    data_dir = tmp_path / "data"
    with small_disk(data_dir) as disk:
        settings = migrated_settings(data_dir, min_free_bytes=FLOOR)
        with TestClient(create_app(settings), headers=bearer(make_token())) as api:
            asset = uploaded(api, "prices.csv", b"sku,price\nold,1\n")
            disk.fill()

            refused = api.post("/api/media-assets", json={"file_name": "notes.pdf"})
            assert refused.status_code == 507, refused.text
            assert "disk is full" in refused.json()["detail"]

            deleted = api.delete(f"/api/media-assets/{asset['id']}")
            assert deleted.status_code in (204, 507), deleted.text
            if deleted.status_code == 507:
                assert "disk is full" in deleted.json()["detail"]
                # Nothing half-done: the asset and its file are both still there.
                assert api.get(f"/api/media-assets/{asset['id']}").status_code == 200
                assert _files(settings) == [settings.files_dir / asset["storage_location"]]
                disk.free()
                deleted = api.delete(f"/api/media-assets/{asset['id']}")
                assert deleted.status_code == 204, deleted.text
            assert api.get(f"/api/media-assets/{asset['id']}").status_code == 404
            assert _files(settings) == []
            if (data_dir / FILLER).exists():
                disk.free()
            create_record(api, "notes.pdf")


def test_a_large_upload_over_http_onto_a_full_disk_reads_507_not_a_reset(
    files_on_small_disk: tuple[Settings, SmallDisk],
) -> None:
    """The server stops storing at the first refused write, but reads the body to its end
    before answering: a client still sending would otherwise meet a reset, not the 507."""
    settings, disk = files_on_small_disk
    with serve(settings, {"MEDIA_MIN_FREE_BYTES": str(FLOOR)}, workers=1) as running:
        disk.fill()
        body = CSV * 16  # about 7.7 MB, sent while the server refuses to store it
        refused = httpx.post(
            f"{running.base}/api/media-assets/upload",
            files={"file": ("prices.csv", body, "text/csv")},
            headers=bearer(make_token()),
            timeout=60,
        )
        assert refused.status_code == 507, refused.text
        assert "disk is full" in refused.json()["detail"]
        assert _files(settings) == []
