"""Shared fixtures: a real app on a fresh data dir, tokens, and an authorised client."""

from __future__ import annotations

import contextlib
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, make_url, text
from sqlalchemy.exc import DBAPIError

from service.app import create_app
from service.auth import issue_token
from service.config import Settings
from service.staging import LOCK_NAME as STAGING_LOCK_NAME
from store.migrate import upgrade
from tests.service_sources import POSTGRES_URL_VARIABLE, meilisearch_for_tests, postgres_for_tests

TEST_SECRET = "test-secret-that-is-long-enough-for-hs256-0123456789"
READ_WRITE = "media:read media:write"
ADMIN = "media:admin"


pytest_plugins = ["tests.search_fixtures"]


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_node_collection_finished(node: Any, ids: list[str]) -> None:
    """pytest-xdist runs one item per node id, so every item but one of a shared id would
    silently not run. Schemathesis gives all its operations one id: its module is
    `serial`, which scripts/test runs without workers."""
    shared = sorted(nodeid for nodeid, count in Counter(ids).items() if count > 1)
    if shared:
        pytest.exit(
            f"These tests share a node id, so pytest-xdist would run one of each: "
            f"{', '.join(shared)}. Run them without workers (mark them serial).",
            returncode=pytest.ExitCode.USAGE_ERROR,
        )


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture(scope="session")
def meilisearch_endpoint(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[str, str | None] | None]:
    """One Meilisearch for the whole run (see tests/service_sources.py for which); each
    test gets an index of its own."""
    with meilisearch_for_tests(tmp_path_factory.mktemp("meilisearch")) as server:
        yield server


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str | None]:
    """One PostgreSQL server for the whole run (see tests/service_sources.py for which),
    or None; each test gets a database of its own on it."""
    with postgres_for_tests() as server_url:
        yield server_url


@contextlib.contextmanager
def fresh_postgres_database(server_url: str) -> Iterator[str]:
    """A new, empty database on the server for one test, dropped afterwards."""
    name = f"media_test_{uuid.uuid4().hex[:12]}"
    admin_engine = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin_engine.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        drop_database(admin_engine, name)
        admin_engine.dispose()


def drop_database(admin_engine: Engine, name: str) -> None:
    """Drop a test database, retrying while a server process (say autovacuum) still holds it.

    WITH (FORCE) ends the test's own connections; ending an autovacuum worker also needs
    pg_signal_backend, which scripts/postgres-for-tests grants, and the retries cover a
    server set up without that grant: autovacuum leaves within moments.
    """
    for attempt in range(50):
        try:
            with admin_engine.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            return
        except DBAPIError:
            if attempt == 49:
                raise
            time.sleep(0.1)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> Iterator[str | None]:
    """None for the default SQLite file in the data dir, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield None
        return
    server_url: str | None = request.getfixturevalue("postgres_server")
    if not server_url:
        pytest.skip(
            f"no PostgreSQL: set {POSTGRES_URL_VARIABLE} (see scripts/postgres-for-tests), "
            "or run where a container engine answers (testcontainers)"
        )
    with fresh_postgres_database(server_url) as url:
        yield url


SettingsFactory = Callable[..., Settings]


def migrated_settings(data_dir: Path, **overrides: Any) -> Settings:
    """Settings for a test app (SQLite in `data_dir` unless overridden), schema migrated."""
    settings = Settings(**{"data_dir": data_dir, "auth_secret": TEST_SECRET, **overrides})
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.resolved_database_url)
    return settings


@pytest.fixture
def settings_factory(database_url: str | None) -> SettingsFactory:
    """Settings on this test's database, migrated to the current schema."""

    def make(data_dir: Path, **overrides: Any) -> Settings:
        if database_url is not None:
            overrides = {"database_url": database_url, **overrides}
        return migrated_settings(data_dir, **overrides)

    return make


@pytest.fixture
def settings(data_dir: Path, settings_factory: SettingsFactory) -> Settings:
    return settings_factory(data_dir)


def make_token(sub: str = "alice", scope: str = READ_WRITE, ttl: int | None = 3600) -> str:
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


@pytest.fixture
def admin(client: TestClient) -> TestClient:
    """A client of the same running app whose token for root carries only media:admin."""
    return TestClient(client.app, headers=bearer(make_token(sub="root", scope=ADMIN)))


def random_id() -> str:
    return str(uuid.uuid4())


def create_tag(client: TestClient, name: str = "Leather", **fields: Any) -> dict[str, Any]:
    """Create a tag through the API and return its JSON."""
    response = client.post("/api/tags", json={"name": name, **fields})
    assert response.status_code == 201, response.text
    tag: dict[str, Any] = response.json()
    return tag


def create_record(
    client: TestClient, file_name: str = "notes.pdf", **fields: Any
) -> dict[str, Any]:
    """Create a metadata-only asset (no file yet) and return its JSON."""
    response = client.post("/api/media-assets", json={"file_name": file_name, **fields})
    assert response.status_code == 201, response.text
    asset: dict[str, Any] = response.json()
    return asset


def upload(
    client: TestClient,
    file_name: str,
    content: bytes,
    *,
    tag_ids: Iterable[str] = (),
    url: str = "/api/media-assets/upload",
    declared_type: str = "application/octet-stream",
) -> httpx.Response:
    """POST a multipart upload: one `file` part and `tag_ids` as repeated form fields."""
    ids = list(tag_ids)
    response: httpx.Response = client.post(
        url,
        files={"file": (file_name, content, declared_type)},
        data={"tag_ids": ids} if ids else None,
    )
    return response


def uploaded(
    client: TestClient, file_name: str, content: bytes, *, tag_ids: Iterable[str] = ()
) -> dict[str, Any]:
    """Upload a file that must be accepted and return the new asset's JSON."""
    response = upload(client, file_name, content, tag_ids=tag_ids)
    assert response.status_code == 201, response.text
    asset: dict[str, Any] = response.json()
    return asset


def assert_same_asset(now: dict[str, Any], then: dict[str, Any]) -> None:
    """`now` is the asset `then` was, but for what the derived-data worker may have
    finished in between: a `content` or `preview` that was pending may have moved on (a
    preview's rendering also fills in `image`, the picture's size and orientation)."""
    moved = {part for part in ("content", "preview") if then[part]["status"] == "pending"}
    if "preview" in moved:
        moved.add("image")
    assert {k: v for k, v in now.items() if k not in moved} == {
        k: v for k, v in then.items() if k not in moved
    }


def stored_files(settings: Settings) -> list[Path]:
    """Every regular file under the files tree, the staging directories included (less the
    lock file by which each process holds its own)."""
    if not settings.files_dir.exists():
        return []
    return sorted(
        path
        for path in settings.files_dir.rglob("*")
        if path.is_file() and path.name != STAGING_LOCK_NAME
    )


def stored_originals(settings: Settings) -> list[Path]:
    """stored_files less the previews (WebP, a type no upload may have), which the
    derived-data worker writes in its own time."""
    return [path for path in stored_files(settings) if path.suffix != ".webp"]


def row_counts(settings: Settings) -> dict[str, int]:
    """Rows per table, read straight from the database the app writes."""
    engine = create_engine(settings.resolved_database_url)
    try:
        with engine.connect() as connection:
            return {
                table: connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()  # noqa: S608
                for table in ("media_asset", "tag", "media_asset_tag")
            }
    finally:
        engine.dispose()


def assert_utc(value: str) -> datetime:
    """A timestamp in the API's shape: ISO 8601 with an explicit UTC offset."""
    assert value.endswith(("Z", "+00:00")), value
    parsed = datetime.fromisoformat(value)
    assert parsed.utcoffset() is not None
    assert parsed.utcoffset().total_seconds() == 0  # type: ignore[union-attr]
    return parsed


def tag_names(asset: dict[str, Any]) -> list[str]:
    return [tag["name"] for tag in asset["tags"]]
