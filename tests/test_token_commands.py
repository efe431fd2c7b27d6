"""`media-assets token` and `sign-in-link`, run as processes: which secret they sign with
(and say so), refusing a new secret beside an existing database, refusing bad arguments;
and ./scripts/token and ./scripts/sign-in-link from another directory, against the service
./scripts/serve started."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest

from bench.meilisearch_server import free_port
from service.web.sign_in import SIGN_IN_HOURS
from tests.conftest import TEST_SECRET
from tests.deployment import wait_until_answering

ROOT = Path(__file__).resolve().parent.parent
CLI = [sys.executable, "-m", "service.cli"]


def _environment(**variables: str) -> dict[str, str]:
    env = {**os.environ, **variables}
    for name in ("MEDIA_AUTH_SECRET", "MEDIA_DATABASE_URL"):
        if name not in variables:
            env.pop(name, None)
    return env


def run(*arguments: str, data_dir: Path, **variables: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603  (our own argument list)
        [*CLI, *arguments],
        env=_environment(MEDIA_DATA_DIR=str(data_dir), **variables),
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )


def claims(token: str, secret: str) -> dict[str, object]:
    decoded: dict[str, object] = jwt.decode(token, secret, algorithms=["HS256"])
    return decoded


def test_a_fresh_data_dir_gets_a_secret_and_the_command_says_where(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    first = run("token", "--sub", "alice", data_dir=data_dir)
    assert first.returncode == 0, first.stderr
    secret_file = (data_dir / "auth_secret").resolve()
    assert first.stderr.strip() == (
        f"Signed with a new secret, created at {secret_file} (no service has run here yet)."
    )
    secret = secret_file.read_text().strip()
    assert claims(first.stdout.strip(), secret)["sub"] == "alice"

    again = run("token", "--sub", "bob", "--scope", "media:read", "--ttl", "60", data_dir=data_dir)
    assert again.returncode == 0, again.stderr
    assert again.stderr.strip() == f"Signed with the secret in {secret_file}."
    bob = claims(again.stdout.strip(), secret)
    assert bob["scope"] == "media:read"
    assert isinstance(bob["exp"], int) and 0 < bob["exp"] - time.time() <= 60


def test_a_configured_secret_is_named_as_the_source(tmp_path: Path) -> None:
    done = run("token", "--sub", "alice", data_dir=tmp_path, MEDIA_AUTH_SECRET=TEST_SECRET)
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip() == "Signed with MEDIA_AUTH_SECRET."
    assert claims(done.stdout.strip(), TEST_SECRET)["sub"] == "alice"
    assert not (tmp_path / "auth_secret").exists()


def test_no_new_secret_beside_an_existing_database(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    assert run("migrate", data_dir=data_dir).returncode == 0
    for command in (["token", "--sub", "alice"], ["sign-in-link"]):
        done = run(*command, data_dir=data_dir)
        assert done.returncode == 4, done.stderr
        assert done.stdout == ""
        assert "There is no auth secret at" in done.stderr
        assert f"but the database {(data_dir / 'media.db').resolve()} is there" in done.stderr
        assert "./scripts/token" in done.stderr
        assert not (data_dir / "auth_secret").exists()


@pytest.mark.parametrize(
    ("arguments", "sentence"),
    [
        (["--scope", "media:delete"], "--scope names unknown scopes (media:delete)"),
        (["--scope", "media:read media:sudo"], "--scope names unknown scopes (media:sudo)"),
        (["--scope", " "], "--scope names no scope"),
        (["--ttl", "0"], "--ttl must be a positive number of seconds (0 given)"),
        (["--ttl", "-3600"], "--ttl must be a positive number of seconds (-3600 given)"),
    ],
)
def test_bad_scopes_and_lifetimes_are_refused_before_any_secret(
    tmp_path: Path, arguments: list[str], sentence: str
) -> None:
    done = run("token", "--sub", "alice", *arguments, data_dir=tmp_path)
    assert done.returncode == 2
    assert sentence in done.stderr
    assert done.stdout == ""
    assert not (tmp_path / "auth_secret").exists()


def test_sign_in_link_is_fresh_and_lives_as_long_as_serves(tmp_path: Path) -> None:
    missing = run("sign-in-link", data_dir=tmp_path / "never-served")
    assert missing.returncode == 4
    assert "the service has not run with this data dir" in missing.stderr
    assert not (tmp_path / "never-served" / "auth_secret").exists()

    data_dir = tmp_path / "data"
    assert run("token", "--sub", "setup", data_dir=data_dir).returncode == 0
    secret = (data_dir / "auth_secret").read_text().strip()
    done = run("sign-in-link", "--port", "9000", data_dir=data_dir)
    assert done.returncode == 0, done.stderr
    assert f"Signed with the secret in {(data_dir / 'auth_secret').resolve()}." in done.stderr
    link = urlsplit(done.stdout.strip())
    assert (link.scheme, link.netloc, link.path) == ("http", "127.0.0.1:9000", "/")
    token = parse_qs(link.query)["token"][0]
    signed = claims(token, secret)
    assert (signed["sub"], signed["scope"]) == ("admin", "media:read media:write")
    assert isinstance(signed["exp"], int)
    assert abs(signed["exp"] - time.time() - SIGN_IN_HOURS * 3600) < 60

    proxied = run("sign-in-link", "--url", "https://media.example.org/library", data_dir=data_dir)
    assert proxied.stdout.startswith("https://media.example.org/library/?token=")
    bad = run("sign-in-link", "--url", "media.example.org", data_dir=data_dir)
    assert bad.returncode == 2 and "--url must start with http:// or https://" in bad.stderr


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A checkout with this repository's scripts, whose `.venv` is already installed: a
    stand-in whose `media-assets` runs this checkout's code with the suite's Python (the
    scripts install nothing while pyproject.toml matches the stamp, as after a first
    `./scripts/serve`)."""
    clone = tmp_path / "clone"
    (clone / "scripts").mkdir(parents=True)
    for name in ("_venv.sh", "serve", "token", "sign-in-link"):
        shutil.copy2(ROOT / "scripts" / name, clone / "scripts" / name)
    shutil.copy2(ROOT / "pyproject.toml", clone / "pyproject.toml")
    bin_dir = clone / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "python").symlink_to(sys.executable)
    launcher = bin_dir / "media-assets"
    launcher.write_text(
        f'#!/bin/sh\nPYTHONPATH="{ROOT}" exec "{sys.executable}" -m service.cli "$@"\n'
    )
    launcher.chmod(0o755)
    digest = hashlib.sha256((clone / "pyproject.toml").read_bytes()).hexdigest()
    (clone / ".venv" / ".installed").write_text(digest + "\n")
    return clone


@pytest.fixture
def served(checkout: Path, tmp_path: Path) -> Iterator[str]:
    """./scripts/serve of the checkout, started from another directory."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("wb") as output:
        server = subprocess.Popen(  # noqa: S603  (our own argument list)
            [str(checkout / "scripts" / "serve"), "--port", str(port)],
            cwd=elsewhere,
            env=_environment(MEDIA_RUN_INDEXER="false"),
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_answering(f"{base}/healthz", server, log=log)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_the_scripts_sign_for_the_service_serve_started_from_any_directory(
    checkout: Path, served: str, tmp_path: Path
) -> None:
    other = tmp_path / "somewhere-else"
    other.mkdir()
    env = _environment()
    env.pop("MEDIA_DATA_DIR", None)
    token = subprocess.run(  # noqa: S603  (our own argument list)
        [str(checkout / "scripts" / "token"), "--sub", "alice"],
        cwd=other,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert token.returncode == 0, token.stderr
    assert f"Signed with the secret in {checkout / 'data' / 'auth_secret'}." in token.stderr
    assert not (other / "data").exists()
    headers = {"Authorization": f"Bearer {token.stdout.strip()}"}
    assert httpx.get(f"{served}/api/media-assets", headers=headers).status_code == 200

    port = urlsplit(served).port
    link = subprocess.run(  # noqa: S603  (our own argument list)
        [str(checkout / "scripts" / "sign-in-link"), "--port", str(port)],
        cwd=other,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert link.returncode == 0, link.stderr
    assert link.stdout.startswith(f"{served}/?token=")
    signed_in = parse_qs(urlsplit(link.stdout.strip()).query)["token"][0]
    answer = httpx.get(f"{served}/api/tags", headers={"Authorization": f"Bearer {signed_in}"})
    assert answer.status_code == 200
