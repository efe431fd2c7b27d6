"""Bearer tokens and scopes on every asset and tag route, and the routes that need no token."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from fastapi.testclient import TestClient

from bench.meilisearch_server import free_port
from service.app import create_app
from service.config import Settings
from tests import samples
from tests.conftest import (
    ADMIN,
    TEST_SECRET,
    bearer,
    create_tag,
    make_token,
    migrated_settings,
    row_counts,
    stored_files,
    uploaded,
)


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # `{asset}` and `{tag}` are filled in with ids
    body: str  # "none", "json:<kind>" or "file"
    writes: bool
    success: int

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


ROUTES = [
    Route("GET", "/api/media-assets/{asset}", "none", False, 200),
    Route("GET", "/api/media-assets/{asset}/download", "none", False, 200),
    Route("POST", "/api/media-assets", "json:record", True, 201),
    Route("POST", "/api/media-assets/upload", "file", True, 201),
    Route("PUT", "/api/media-assets/{asset}", "json:rename", True, 200),
    Route("POST", "/api/media-assets/{asset}/upload", "file", True, 200),
    Route("DELETE", "/api/media-assets/{asset}", "none", True, 204),
    Route("POST", "/api/media-assets/{asset}/tags", "json:tag_ids", True, 200),
    Route("DELETE", "/api/media-assets/{asset}/tags", "json:tag_ids", True, 200),
    Route("GET", "/api/tags", "none", False, 200),
    Route("GET", "/api/tags/{tag}", "none", False, 200),
    Route("GET", "/api/tags/{tag}/count", "none", False, 200),
    Route("POST", "/api/tags", "json:tag", True, 201),
    Route("PUT", "/api/tags/{tag}", "json:recolor", True, 200),
    Route("DELETE", "/api/tags/{tag}", "none", True, 204),
    Route("POST", "/api/media-assets/bulk", "json:bulk", True, 200),
]
READS = [route for route in ROUTES if not route.writes]
WRITES = [route for route in ROUTES if route.writes]


def send(
    client: TestClient, route: Route, ids: dict[str, str], headers: dict[str, str] | None = None
) -> httpx.Response:
    """Send a well-formed request for `route`, so only the credentials decide the outcome."""
    url = route.path.format(**ids)
    tag = ids["tag"]
    kwargs: dict[str, Any] = {"headers": headers or {}}
    if route.body == "file":
        kwargs["files"] = {"file": ("wallet.png", samples.png(), "image/png")}
    elif route.body.startswith("json:"):
        kwargs["json"] = {
            "json:record": {"file_name": "pattern.pdf"},
            "json:rename": {"file_name": "renamed.png"},
            "json:tag_ids": {"tag_ids": [tag]},
            "json:tag": {"name": "Suede"},
            "json:recolor": {"color": "#a0522d"},
            "json:bulk": {"action": "remove_tags", "ids": [ids["asset"]], "tag_ids": [tag]},
        }[route.body]
    response: httpx.Response = client.request(route.method, url, **kwargs)
    return response


def signed(claims: dict[str, Any], secret: str = TEST_SECRET, algorithm: str = "HS256") -> str:
    return jwt.encode(claims, secret, algorithm=algorithm)


def in_an_hour() -> int:
    return int(time.time()) + 3600


BAD_CREDENTIALS: dict[str, dict[str, str]] = {
    "missing": {},
    "not a jwt": {"Authorization": "Bearer not-a-jwt"},
    "three garbage segments": {"Authorization": "Bearer aaa.bbb.ccc"},
    "empty bearer": {"Authorization": "Bearer "},
    "basic scheme": {"Authorization": "Basic YWxpY2U6c2VjcmV0"},
    "token without scheme": {"Authorization": make_token()},
    "bad signature": bearer(
        signed({"sub": "alice", "scope": ADMIN, "exp": in_an_hour()}, secret="x" * 48)
    ),
    "alg none": bearer(jwt.encode({"sub": "alice", "scope": ADMIN}, key=None, algorithm="none")),
    "expired": bearer(make_token(scope=ADMIN, ttl=-60)),
    "no sub": bearer(signed({"scope": ADMIN, "exp": in_an_hour()})),
    "empty sub": bearer(signed({"sub": "", "scope": ADMIN, "exp": in_an_hour()})),
    "blank sub": bearer(signed({"sub": "   ", "scope": ADMIN, "exp": in_an_hour()})),
    "null sub": bearer(signed({"sub": None, "scope": ADMIN, "exp": in_an_hour()})),
}


def seed(client: TestClient) -> dict[str, str]:
    """A tag and an uploaded asset that carries it, so allowed requests can succeed."""
    tag = create_tag(client, "Leather")
    asset = uploaded(client, "wallet.png", samples.png(), tag_ids=[tag["id"]])
    return {"asset": asset["id"], "tag": tag["id"]}


@pytest.fixture
def ids(client: TestClient) -> dict[str, str]:
    return seed(client)


@dataclass
class Shared:
    """One app for the tests whose requests must all be refused, so they change nothing."""

    anonymous: TestClient
    settings: Settings
    ids: dict[str, str]


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shared]:
    data_dir: Path = tmp_path_factory.mktemp("auth") / "data"
    settings = migrated_settings(data_dir)
    with TestClient(create_app(settings), headers=bearer(make_token())) as owner:
        yield Shared(TestClient(owner.app), settings, seed(owner))


def assert_unauthenticated(response: httpx.Response) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    detail = response.json()["detail"]
    assert isinstance(detail, str)
    assert detail


@pytest.mark.parametrize("route", ROUTES, ids=str)
@pytest.mark.parametrize("credentials", BAD_CREDENTIALS.values(), ids=BAD_CREDENTIALS.keys())
def test_bad_credentials_are_401_on_every_route(
    shared: Shared, route: Route, credentials: dict[str, str]
) -> None:
    before = row_counts(shared.settings)
    response = send(shared.anonymous, route, shared.ids, headers=credentials)
    assert_unauthenticated(response)
    assert row_counts(shared.settings) == before


@pytest.mark.parametrize(
    ("path", "body"),
    [("/api/tags", b'{"name": '), ("/api/media-assets", b"{not json")],
)
def test_missing_token_is_401_even_when_the_body_is_malformed(
    anonymous: TestClient, path: str, body: bytes
) -> None:
    response = anonymous.post(path, content=body, headers={"Content-Type": "application/json"})
    assert_unauthenticated(response)


def test_missing_token_is_401_even_when_the_id_is_malformed(anonymous: TestClient) -> None:
    assert_unauthenticated(anonymous.get("/api/media-assets/not-a-uuid"))
    assert_unauthenticated(anonymous.get("/api/tags/not-a-uuid/count"))


@pytest.mark.parametrize("route", WRITES, ids=str)
def test_read_only_token_is_403_on_writes_and_changes_nothing(shared: Shared, route: Route) -> None:
    before = row_counts(shared.settings)
    files_before = stored_files(shared.settings)
    headers = bearer(make_token(scope="media:read"))
    response = send(shared.anonymous, route, shared.ids, headers=headers)
    assert response.status_code == 403, response.text
    assert isinstance(response.json()["detail"], str)
    assert row_counts(shared.settings) == before
    assert stored_files(shared.settings) == files_before


@pytest.mark.parametrize("scope", ["", "media:unknown", "read write", "MEDIA:READ"])
@pytest.mark.parametrize("route", ROUTES, ids=str)
def test_token_without_a_known_scope_is_403(shared: Shared, route: Route, scope: str) -> None:
    response = send(shared.anonymous, route, shared.ids, headers=bearer(make_token(scope=scope)))
    assert response.status_code == 403, response.text
    assert isinstance(response.json()["detail"], str)


@pytest.mark.parametrize("route", READS, ids=str)
def test_read_token_may_read(anonymous: TestClient, ids: dict[str, str], route: Route) -> None:
    response = send(anonymous, route, ids, headers=bearer(make_token(scope="media:read")))
    assert response.status_code == route.success, response.text


@pytest.mark.parametrize("route", READS, ids=str)
def test_write_implies_read(anonymous: TestClient, ids: dict[str, str], route: Route) -> None:
    response = send(anonymous, route, ids, headers=bearer(make_token(scope="media:write")))
    assert response.status_code == route.success, response.text


@pytest.mark.parametrize("route", WRITES, ids=str)
def test_write_token_may_write(anonymous: TestClient, ids: dict[str, str], route: Route) -> None:
    response = send(anonymous, route, ids, headers=bearer(make_token(scope="media:write")))
    assert response.status_code == route.success, response.text


@pytest.mark.parametrize("route", ROUTES, ids=str)
def test_admin_implies_read_and_write(admin: TestClient, ids: dict[str, str], route: Route) -> None:
    response = send(admin, route, ids)
    assert response.status_code == route.success, response.text


def test_token_without_exp_is_accepted(anonymous: TestClient, ids: dict[str, str]) -> None:
    token = make_token(scope="media:read", ttl=None)
    response = anonymous.get(f"/api/tags/{ids['tag']}", headers=bearer(token))
    assert response.status_code == 200


def test_a_token_accepted_before_is_refused_once_it_expires(
    anonymous: TestClient, ids: dict[str, str]
) -> None:
    """Verified tokens are remembered per process; their expiry is still checked on use."""
    token = make_token(scope="media:read", ttl=2)
    path = f"/api/tags/{ids['tag']}"
    assert anonymous.get(path, headers=bearer(token)).status_code == 200
    assert anonymous.get(path, headers=bearer(token)).status_code == 200
    expires = jwt.decode(token, options={"verify_signature": False})["exp"]
    time.sleep(max(0.0, expires - time.time()))
    response = anonymous.get(path, headers=bearer(token))
    assert response.status_code == 401
    assert "expired" in response.json()["detail"]


def test_sub_becomes_the_uploader(anonymous: TestClient) -> None:
    response = anonymous.post(
        "/api/media-assets",
        json={"file_name": "pattern.pdf"},
        headers=bearer(make_token(sub="bob", scope="media:write")),
    )
    assert response.status_code == 201
    assert response.json()["uploaded_by"] == "bob"


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/docs", "/openapi.json"])
@pytest.mark.parametrize("credentials", [{}, {"Authorization": "Bearer not-a-jwt"}])
def test_open_routes_need_no_token(
    anonymous: TestClient, path: str, credentials: dict[str, str]
) -> None:
    response = anonymous.get(path, headers=credentials)
    assert response.status_code == 200, response.text


def test_openapi_declares_bearer_security(anonymous: TestClient) -> None:
    schema = anonymous.get("/openapi.json").json()
    schemes = schema["components"]["securitySchemes"].values()
    assert any(s["type"] == "http" and s["scheme"].lower() == "bearer" for s in schemes)


def _serve_configured(
    data_dir: Path, port: int, *, stdout: int, **env: str
) -> subprocess.Popen[str]:
    """`media-assets serve` on a migrated data dir with MEDIA_AUTH_SECRET set, as deployed."""
    environment = {
        **os.environ,
        "MEDIA_DATA_DIR": str(data_dir),
        "MEDIA_AUTH_SECRET": TEST_SECRET,
        "MEDIA_RUN_INDEXER": "false",
        **env,
    }
    subprocess.run([sys.executable, "-m", "service.cli", "migrate"], env=environment, check=True)
    return subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "service.cli", "serve", "--port", str(port)],
        env=environment,
        stdout=stdout,
        stderr=subprocess.STDOUT,
        text=True,
    )


def test_serve_prints_no_token_when_the_secret_is_configured(tmp_path: Path) -> None:
    """A configured secret is a deployment (compose): its logs must not hold a token."""
    server = _serve_configured(tmp_path, free_port(), stdout=subprocess.PIPE)
    try:
        assert server.stdout is not None
        printed = []
        for line in server.stdout:
            printed.append(line)
            if line.startswith("API docs"):
                break
    finally:
        server.terminate()
        server.wait(timeout=30)
    output = "".join(printed)
    assert "MEDIA_AUTH_SECRET" in output
    assert "token=" not in output
    assert "eyJ" not in output  # no JWT at all


@pytest.mark.serial  # gives the server 0.3 s to take the held connections
def test_serve_answers_503_past_its_connection_limit(tmp_path: Path) -> None:
    """MEDIA_LIMIT_CONCURRENCY reaches uvicorn: past it a request is refused at once."""
    port = free_port()
    server = _serve_configured(
        tmp_path, port, stdout=subprocess.DEVNULL, MEDIA_LIMIT_CONCURRENCY="2"
    )
    held: list[socket.socket] = []
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                    break
            except OSError:
                assert time.monotonic() < deadline, "the service did not start"
                time.sleep(0.1)
        for _ in range(2):  # two idle keep-alive connections fill the limit
            held.append(socket.create_connection(("127.0.0.1", port)))
        time.sleep(0.3)
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5)
        assert refused.value.code == 503
    finally:
        for connection in held:
            connection.close()
        server.terminate()
        server.wait(timeout=30)
