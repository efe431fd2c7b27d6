"""Fixtures and helpers of the list and search tests: an app on each engine and a small
tagged library. Registered as a plugin by conftest.py, so every test module has them."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bench.meilisearch_server import HOW_TO_ENABLE
from service.app import create_app
from service.config import Settings
from tests import samples
from tests.conftest import SettingsFactory, bearer, make_token


@pytest.fixture(params=["embedded", "meilisearch"])
def engine_settings(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    meilisearch_endpoint: tuple[str, str | None] | None,
    settings_factory: SettingsFactory,
) -> Settings:
    data_dir = tmp_path / "data"
    if request.param == "embedded":
        return settings_factory(data_dir)
    if meilisearch_endpoint is None:
        pytest.skip(HOW_TO_ENABLE)
    url, key = meilisearch_endpoint
    return settings_factory(
        data_dir,
        search_engine="meilisearch",
        meilisearch_url=url,
        meilisearch_api_key=key,
        meilisearch_index=f"test_{uuid.uuid4().hex[:10]}",
    )


@pytest.fixture
def api(engine_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(engine_settings), headers=bearer(make_token())) as client:
        yield client


def tag(api: TestClient, name: str, color: str | None = None) -> str:
    response = api.post("/api/tags", json={"name": name, "color": color})
    assert response.status_code == 201, response.text
    tag_id: str = response.json()["id"]
    return tag_id


def upload(
    api: TestClient, name: str, body: bytes, tag_ids: tuple[str, ...] = ()
) -> dict[str, Any]:
    response = api.post(
        "/api/media-assets/upload",
        files={"file": (name, body, "application/octet-stream")},
        data={"tag_ids": list(tag_ids)},
    )
    assert response.status_code == 201, response.text
    assert "x-index-status" not in response.headers
    return response.json()  # type: ignore[no-any-return]


def names(response_json: dict[str, Any]) -> list[str]:
    return [item["file_name"] for item in response_json["items"]]


def listing(api: TestClient, **params: Any) -> dict[str, Any]:
    response = api.get("/api/media-assets", params=params)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


@pytest.fixture
def library(api: TestClient) -> dict[str, str]:
    """Four assets with tags, as the HideSync workshop might have them."""
    ids = {
        "leather": tag(api, "Leather", "#8B4513"),
        "wallet": tag(api, "Wallet", "#000"),
        "pattern": tag(api, "Pattern"),
    }
    upload(api, "leather_wallet-2.png", samples.png(), (ids["leather"], ids["wallet"]))
    upload(api, "Bifold Wallet Pattern.pdf", samples.pdf(), (ids["wallet"], ids["pattern"]))
    upload(api, "saddle stitching guide.pdf", samples.pdf(), (ids["leather"],))
    upload(api, "price list.csv", samples.csv())
    return ids


def settled(
    api: TestClient, asset_id: str, part: str = "content", *, timeout: float = 90
) -> dict[str, Any]:
    """The asset once the worker is done with its `part` (its `content`, its `preview`)
    and the index has caught up with the result."""
    deadline = time.monotonic() + timeout
    while True:
        asset: dict[str, Any] = api.get(f"/api/media-assets/{asset_id}").json()
        indexed = api.get("/readyz").json()["index_lag"]["pending"] == 0
        if asset[part]["status"] != "pending" and indexed:
            return asset
        assert time.monotonic() < deadline, f"{part} not done in time: {asset[part]}"
        time.sleep(0.05)
