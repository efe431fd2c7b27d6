"""Which PostgreSQL and Meilisearch the suite uses, given the environment: configured
URLs first, then testcontainers where a container engine answers, then local binaries."""

from __future__ import annotations

import meilisearch
import pytest

from bench.meilisearch_server import HOW_TO_ENABLE
from tests.service_sources import (
    CONTAINERS_VARIABLE,
    MEILISEARCH_IMAGE,
    MEILISEARCH_URL_VARIABLE,
    POSTGRES_IMAGE,
    POSTGRES_URL_VARIABLE,
    Source,
    choose_source,
    compose_images,
    container_engine_reachable,
)

PG_URL = "postgresql+psycopg://media_test:media_test@127.0.0.1:5432/postgres"
MEILI_URL = "http://127.0.0.1:7700"


@pytest.mark.parametrize(
    ("environ", "engine", "expected"),
    [
        ({POSTGRES_URL_VARIABLE: PG_URL}, True, Source.CONFIGURED),
        ({POSTGRES_URL_VARIABLE: PG_URL}, False, Source.CONFIGURED),
        ({}, True, Source.CONTAINER),
        ({POSTGRES_URL_VARIABLE: ""}, True, Source.CONTAINER),  # set but empty: not a URL
        ({CONTAINERS_VARIABLE: "off"}, True, Source.NONE),
        ({}, False, Source.NONE),
        # The other service's URL changes nothing here.
        ({MEILISEARCH_URL_VARIABLE: MEILI_URL}, True, Source.CONTAINER),
    ],
)
def test_which_postgresql(environ: dict[str, str], engine: bool, expected: Source) -> None:
    assert choose_source("postgresql", environ, engine_reachable=engine) is expected


@pytest.mark.parametrize(
    ("environ", "engine", "binary", "expected"),
    [
        ({MEILISEARCH_URL_VARIABLE: MEILI_URL}, True, True, Source.CONFIGURED),
        ({MEILISEARCH_URL_VARIABLE: MEILI_URL}, False, False, Source.CONFIGURED),
        ({}, True, True, Source.CONTAINER),  # the pinned version over whatever is on PATH
        ({}, True, False, Source.CONTAINER),
        ({CONTAINERS_VARIABLE: "off"}, True, True, Source.LOCAL),
        ({CONTAINERS_VARIABLE: "OFF"}, True, False, Source.NONE),
        ({}, False, True, Source.LOCAL),
        ({}, False, False, Source.NONE),
        ({POSTGRES_URL_VARIABLE: PG_URL}, False, True, Source.LOCAL),
    ],
)
def test_which_meilisearch(
    environ: dict[str, str], engine: bool, binary: bool, expected: Source
) -> None:
    chosen = choose_source("meilisearch", environ, engine_reachable=engine, local_binary=binary)
    assert chosen is expected


def test_the_containers_run_the_versions_compose_runs() -> None:
    assert sorted(compose_images()) == sorted([POSTGRES_IMAGE, MEILISEARCH_IMAGE])


def test_an_engine_that_is_not_there_is_not_reachable(monkeypatch: pytest.MonkeyPatch) -> None:
    # A socket nobody listens on, as on a machine with the docker CLI but no daemon.
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    assert container_engine_reachable() is False


def test_the_meilisearch_the_suite_runs_is_the_version_compose_pins(
    meilisearch_endpoint: tuple[str, str | None] | None,
) -> None:
    """The settings (ranking rules that arrived in Meilisearch 1.36, say) are tested on
    this server only: compose must run the same minor version. It pinned 1.12 while the
    suite ran 1.50, and 1.12 refuses the ranking rules."""
    if meilisearch_endpoint is None:
        pytest.skip(HOW_TO_ENABLE)
    url, key = meilisearch_endpoint
    running = meilisearch.Client(url, key).get_version()["pkgVersion"]
    pinned = MEILISEARCH_IMAGE.rsplit(":v", 1)[1]
    assert running.split(".")[:2] == pinned.split(".")[:2], (running, MEILISEARCH_IMAGE)
