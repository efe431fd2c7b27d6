"""Shared fixtures: a real app on a fresh data dir, tokens, and an authorised client."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from service.app import create_app
from service.auth import issue_token
from service.config import Settings

TEST_SECRET = "test-secret-that-is-long-enough-for-hs256-0123456789"


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def settings(data_dir: Path) -> Settings:
    return Settings(data_dir=data_dir, auth_secret=TEST_SECRET)


def make_token(
    sub: str = "alice", scope: str = "media:read media:write", ttl: int | None = 3600
) -> str:
    return issue_token(secret=TEST_SECRET, subject=sub, scope=scope, ttl_seconds=ttl)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    """A client of a freshly started app whose requests carry a read-write token for alice."""
    with TestClient(create_app(settings), headers=bearer(make_token())) as test_client:
        yield test_client


@pytest.fixture
def anonymous(client: TestClient) -> TestClient:
    """A second client of the same running app that sends no Authorization header."""
    return TestClient(client.app)
