"""Where the suite's PostgreSQL and Meilisearch come from: a server the environment names,
containers started with testcontainers where a container engine answers, or what this
machine has (a `meilisearch` binary; no PostgreSQL, so those tests are skipped).

The choice is `choose_source`, a pure function of the environment, so it is tested
everywhere, including on machines without a container engine.
"""

from __future__ import annotations

import os
import re
import time
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path

from bench.meilisearch_server import (
    INDEXING_MEMORY,
    MASTER_KEY,
    meilisearch_binary,
    meilisearch_server,
)

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_URL_VARIABLE = "MEDIA_TEST_DATABASE_URL"
MEILISEARCH_URL_VARIABLE = "MEDIA_TEST_MEILISEARCH_URL"
# `off`: never start containers, even where an engine answers (use the local binaries).
CONTAINERS_VARIABLE = "MEDIA_TEST_CONTAINERS"
# The versions production runs: docker-compose.yml's images (a test checks they agree).
POSTGRES_IMAGE = "postgres:16.4-bookworm"
MEILISEARCH_IMAGE = "getmeili/meilisearch:v1.50.0"
POSTGRES_USER = "media_test"


class Source(StrEnum):
    CONFIGURED = "configured"  # the URL in the environment
    CONTAINER = "container"  # started with testcontainers for this run
    LOCAL = "local"  # a binary on PATH, started on a free port
    NONE = "none"  # nothing: the tests that need it are skipped with a hint


def choose_source(
    service: str,
    environ: Mapping[str, str],
    *,
    engine_reachable: bool,
    local_binary: bool = False,
) -> Source:
    """Which PostgreSQL (`service="postgresql"`) or Meilisearch (`"meilisearch"`) a run
    uses: a configured URL first, then containers when an engine answers and they are not
    turned off, then a local binary."""
    variable = {"postgresql": POSTGRES_URL_VARIABLE, "meilisearch": MEILISEARCH_URL_VARIABLE}[
        service
    ]
    if environ.get(variable):
        return Source.CONFIGURED
    containers_allowed = environ.get(CONTAINERS_VARIABLE, "").lower() not in {"off", "0", "no"}
    if containers_allowed and engine_reachable:
        return Source.CONTAINER
    if local_binary:
        return Source.LOCAL
    return Source.NONE


def container_engine_reachable() -> bool:
    """Whether a Docker-compatible engine answers (DOCKER_HOST, else the default socket):
    a ping with a short timeout, so a machine without one loses no time."""
    try:
        import docker

        client = docker.from_env(timeout=3)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except Exception:  # no client library, no socket, no daemon: no engine
        return False


def compose_images(compose_file: Path = ROOT / "docker-compose.yml") -> list[str]:
    return re.findall(r"^\s*image:\s*(\S+)\s*$", compose_file.read_text(), re.MULTILINE)


@contextmanager
def postgres_container() -> Iterator[str]:
    """A PostgreSQL of production's version; yields a server URL whose role may create
    databases (each test makes its own)."""
    from testcontainers.community.postgres import PostgresContainer

    with PostgresContainer(
        POSTGRES_IMAGE,
        username=POSTGRES_USER,
        password=POSTGRES_USER,
        dbname="postgres",
        driver="psycopg",
    ) as container:
        yield container.get_connection_url()


@contextmanager
def meilisearch_container() -> Iterator[tuple[str, str]]:
    """A Meilisearch of production's version; yields its URL and master key."""
    from testcontainers.core.container import DockerContainer

    container = (
        DockerContainer(MEILISEARCH_IMAGE)
        .with_env("MEILI_MASTER_KEY", MASTER_KEY)
        .with_env("MEILI_NO_ANALYTICS", "true")
        .with_env("MEILI_MAX_INDEXING_MEMORY", INDEXING_MEMORY)
        .with_exposed_ports(7700)
    )
    with container:
        url = f"http://{container.get_container_host_ip()}:{container.get_exposed_port(7700)}"
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=2):  # noqa: S310
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"Meilisearch in {MEILISEARCH_IMAGE} did not start"
                    ) from None
                time.sleep(0.2)
        yield url, MASTER_KEY


@contextmanager
def postgres_for_tests() -> Iterator[str | None]:
    """The server URL the PostgreSQL half of the suite uses, or None (skipped)."""
    source = choose_source(
        "postgresql", os.environ, engine_reachable=_engine_if_needed("postgresql")
    )
    if source is Source.CONFIGURED:
        yield os.environ[POSTGRES_URL_VARIABLE]
    elif source is Source.CONTAINER:
        with postgres_container() as url:
            yield url
    else:
        yield None


@contextmanager
def meilisearch_for_tests(data_dir: Path) -> Iterator[tuple[str, str | None] | None]:
    """(url, api key) of the Meilisearch the suite uses, or None (skipped)."""
    source = choose_source(
        "meilisearch",
        os.environ,
        engine_reachable=_engine_if_needed("meilisearch"),
        local_binary=meilisearch_binary() is not None,
    )
    if source is Source.CONTAINER:
        with meilisearch_container() as endpoint:
            yield endpoint
    else:
        # A configured URL, a local binary, or nothing: as before containers.
        with meilisearch_server(data_dir) as server:
            yield server


def _engine_if_needed(service: str) -> bool:
    # Asking the engine costs a connection attempt; a configured URL makes it moot.
    no_engine_needed = choose_source(service, os.environ, engine_reachable=False)
    return no_engine_needed is not Source.CONFIGURED and container_engine_reachable()
