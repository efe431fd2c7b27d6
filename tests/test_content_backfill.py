"""A library uploaded before search inside files: the migration asks for every file's
text, `media-assets extract --missing` fills it in with a progress bar, and `reindex` and
`check` carry the text without extracting again."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from typing import Any

from alembic import command
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlmodel import Session, col

from service.app import create_app
from service.config import Settings
from store.db import make_engine
from store.migrate import alembic_config
from store.models import AssetContent
from tests import content_samples, samples
from tests.conftest import bearer, make_token


def _cli(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "MEDIA_DATA_DIR": str(settings.data_dir),
        "MEDIA_DATABASE_URL": settings.resolved_database_url,
        "MEDIA_AUTH_SECRET": settings.auth_secret or "",
    }
    return subprocess.run(  # noqa: S603  (our own argument list)
        [sys.executable, "-m", "service.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _statuses(settings: Settings) -> dict[str, str]:
    db = make_engine(settings.resolved_database_url)
    try:
        with Session(db) as session:
            rows = session.execute(
                select(col(AssetContent.asset_id), col(AssetContent.status))
            ).all()
    finally:
        db.dispose()
    return {str(asset_id): status for asset_id, status in rows}


def _upload(api: TestClient, name: str, body: bytes) -> str:
    response = api.post("/api/media-assets/upload", files={"file": (name, body, "x/y")})
    assert response.status_code == 201, response.text
    asset_id: str = response.json()["id"]
    return asset_id


def _search(api: TestClient, words: str) -> list[str]:
    page = api.get("/api/media-assets", params={"search": words}).json()
    return [item["file_name"] for item in page["items"]]


def _eventually(check: Any, *, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "did not happen in time"
        time.sleep(0.05)


def test_a_library_from_before_the_feature_is_extracted_by_the_command(
    settings: Settings,
) -> None:
    # Uploaded with no worker running, then the schema taken back to before the feature.
    quiet = settings.model_copy(update={"run_indexer": False, "index_wait_ms": 0})
    with TestClient(create_app(quiet), headers=bearer(make_token())) as api:
        document = _upload(api, "tools.docx", content_samples.docx_document())
        photo = _upload(api, "wallet.png", samples.png())
        record = api.post("/api/media-assets", json={"file_name": "later.pdf"}).json()["id"]
    config = alembic_config(settings.resolved_database_url)
    command.downgrade(config, "0007")
    command.upgrade(config, "head")
    assert _statuses(settings) == {document: "pending", photo: "unsupported"}

    extracted = _cli(settings, "extract", "--missing")
    assert extracted.returncode == 0, extracted.stderr
    assert "extract: 1/1 (100%)" in extracted.stderr.splitlines()
    assert "Extracted 1 files" in extracted.stdout
    assert _statuses(settings) == {document: "extracted", photo: "unsupported"}
    assert record not in _statuses(settings)

    # The indexer adds the text; a reindex keeps it without extracting, and check agrees.
    with TestClient(create_app(settings), headers=bearer(make_token())) as api:
        word = content_samples.DOCX_WORD
        _eventually(lambda: _search(api, word) == ["tools.docx"])
    reindexed = _cli(settings, "reindex")
    assert reindexed.returncode == 0, reindexed.stderr
    checked = _cli(settings, "check")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    with TestClient(create_app(settings), headers=bearer(make_token())) as api:
        assert _search(api, content_samples.DOCX_WORD) == ["tools.docx"]


def test_extract_failed_and_all_ask_again(settings: Settings) -> None:
    quiet = settings.model_copy(update={"run_indexer": False, "index_wait_ms": 0})
    with TestClient(create_app(quiet), headers=bearer(make_token())) as api:
        broken = _upload(api, "cut.pdf", content_samples.truncated_pdf())
        document = _upload(api, "tools.docx", content_samples.docx_document())
    assert _cli(settings, "extract").returncode == 0
    assert _statuses(settings) == {broken: "failed", document: "extracted"}
    again = _cli(settings, "extract", "--failed")
    assert "1 files to do (1 asked for again)" in again.stderr
    everything = _cli(settings, "extract", "--all")
    assert "2 files to do (2 asked for again)" in everything.stderr
    assert _statuses(settings) == {broken: "failed", document: "extracted"}
