"""Generated requests for every operation in the OpenAPI schema: none may get a 5xx answer."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.python.asgi import shutdown_lifespans

from service.app import create_app
from service.config import Settings
from tests import samples
from tests.conftest import ADMIN, TEST_SECRET, bearer, make_token, migrated_settings

HEADERS = bearer(make_token(sub="fuzzer", scope=ADMIN))


def _operations() -> list[tuple[str, str]]:
    # Only the schema is read here; no app starts and nothing touches the disk.
    app = create_app(Settings(data_dir=Path("unused"), auth_secret=TEST_SECRET))
    paths: dict[str, dict[str, Any]] = app.openapi()["paths"]
    return sorted((path, method.upper()) for path, item in paths.items() for method in item)


OPERATIONS = _operations()


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The schema of one app, served on a fresh data dir for the whole module."""
    data_dir = tmp_path_factory.mktemp("schemathesis") / "data"
    app = create_app(migrated_settings(data_dir))
    # Loading starts the app's lifespan; it keeps running for the generated requests.
    yield schemathesis.openapi.from_asgi("/openapi.json", app)
    shutdown_lifespans()


def call(
    api_schema: Any,
    method: str,
    path: str,
    *,
    path_parameters: dict[str, str] | None = None,
    **kwargs: Any,
) -> dict[str, Any]:
    case = api_schema[path][method].Case(path_parameters=path_parameters or {})
    response = case.call(headers=HEADERS, **kwargs)
    assert response.status_code in (200, 201), response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.fixture
def existing(api_schema: Any) -> dict[str, str]:
    """Path parameters naming a tag and an asset that exist, so not every case is a 404."""
    # Seeded through schemathesis' own transport, on the event loop that runs the app.
    tag = call(api_schema, "POST", "/api/tags", json={"name": f"seed {uuid.uuid4().hex}"})
    record = call(api_schema, "POST", "/api/media-assets", json={"file_name": "a.png"})
    asset = call(
        api_schema,
        "POST",
        "/api/media-assets/{asset_id}/upload",
        path_parameters={"asset_id": record["id"]},
        files={"file": ("wallet.png", samples.png(), "image/png")},
    )
    call(
        api_schema,
        "POST",
        "/api/media-assets/{asset_id}/tags",
        path_parameters={"asset_id": asset["id"]},
        json={"tag_ids": [tag["id"]]},
    )
    return {"asset_id": asset["id"], "tag_id": tag["id"]}


def _strategy(operation: Any, existing: dict[str, str]) -> Any:
    names = {parameter.name for parameter in operation.path_parameters}
    fixed = {name: value for name, value in existing.items() if name in names}
    strategies = [operation.as_strategy()]
    if fixed:
        strategies.append(operation.as_strategy(path_parameters=fixed))
    if operation.path_parameters or operation.query or operation.body:
        strategies.append(operation.as_strategy(schemathesis.GenerationMode.NEGATIVE))
    return st.one_of(strategies)


@pytest.mark.parametrize(("path", "method"), OPERATIONS, ids=[f"{m} {p}" for p, m in OPERATIONS])
def test_no_request_gets_a_server_error(
    api_schema: Any, existing: dict[str, str], path: str, method: str
) -> None:
    @given(case=_strategy(api_schema[path][method], existing))
    @settings(
        max_examples=25, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    def check(case: Any) -> None:
        response = case.call(headers=HEADERS)
        assert response.status_code < 500, (
            f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:300]}"
        )

    check()
