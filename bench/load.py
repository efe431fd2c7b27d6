"""Driving the queries: concurrent HTTP clients against the service, and the SQL way."""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import Engine

from bench.meilisearch_direct import DirectIndex
from bench.queries import BenchQuery, http_params, sql_way
from bench.server import Client, Request, Service, target
from bench.stats import Latency

WARMUP_REQUESTS = 5


class QueryFailed(RuntimeError):
    pass


def drive(
    open_client: Callable[[], Client],
    requests: Sequence[Request],
    *,
    count: int,
    clients: int,
    label: str,
) -> Latency:
    """`count` requests, cycling through `requests`, spread over `clients` keep-alive
    connections all at once, each timed from sending to the last byte of the answer.
    A few requests on a connection of their own warm up first."""
    warm = open_client()
    try:
        for method, target, payload in requests[:WARMUP_REQUESTS]:
            status, _, body = warm.send(method, target, payload)
            if status != 200:
                raise QueryFailed(f"{label}: HTTP {status}: {body[:300]!r}")
    finally:
        warm.close()
    numbers = itertools.count()
    samples: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()

    def client_loop() -> None:
        client = open_client()
        mine: list[float] = []
        try:
            while (number := next(numbers)) < count:
                method, target, payload = requests[number % len(requests)]
                started = time.perf_counter()
                status, _, body = client.send(method, target, payload)
                mine.append(time.perf_counter() - started)
                if status != 200:
                    errors.append(f"HTTP {status}: {body[:300]!r}")
        finally:
            client.close()
            with lock:
                samples.extend(mine)

    threads = [threading.Thread(target=client_loop) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    if errors:
        raise QueryFailed(f"{label}: {len(errors)} failed requests, first: {errors[0]}")
    return Latency.of(samples, wall)


def run_http(service: Service, query: BenchQuery, *, requests: int, clients: int) -> Latency:
    """The query's variants through `GET /api/media-assets`."""
    planned: list[Request] = [
        ("GET", target("/api/media-assets", http_params(params)), None) for params in query.variants
    ]
    return drive(service.client, planned, count=requests, clients=clients, label=query.name)


def run_floor(service: Service, *, requests: int, clients: int) -> Latency:
    """The HTTP floor: `GET /healthz` on the same service, the cheapest answer it gives."""
    planned: list[Request] = [("GET", "/healthz", None)]
    return drive(service.client, planned, count=requests, clients=clients, label="/healthz")


def run_meilisearch(
    direct: DirectIndex, query: BenchQuery, *, requests: int, clients: int
) -> tuple[Latency, str]:
    """The query's variants as Meilisearch search requests; with the pagination mode."""
    planned, mode = direct.requests(query)
    latency = drive(
        direct.meili.client,
        planned,
        count=requests,
        clients=clients,
        label=f"Meilisearch: {query.name}",
    )
    return latency, mode


@dataclass(frozen=True)
class FirstPage:
    """The first variant's answer: its total, and how many of its items carry highlights
    with a marked word (a highlight query that marked nothing measured nothing)."""

    total: int
    highlighted: int


def first_page(service: Service, query: BenchQuery) -> FirstPage:
    client = service.client()
    try:
        _, _, body = client.request(
            "GET", "/api/media-assets", query=http_params(query.variants[0])
        )
    finally:
        client.close()
    page = json.loads(body)
    highlighted = sum(
        any("<mark>" in html for html in item.get("highlights", {}).values())
        for item in page["items"]
    )
    return FirstPage(total=page["total"], highlighted=highlighted)


def run_sql(db: Engine, query: BenchQuery, *, runs: int) -> tuple[Latency, int]:
    """The SQL way, one request after another, on the variants in the service's order.
    Returns the latency and the total of the first variant, to compare with the index's."""
    samples: list[float] = []
    first_total = -1
    started = time.perf_counter()
    with db.connect() as connection:
        for number in range(runs):
            params = query.variants[number % len(query.variants)]
            begin = time.perf_counter()
            total = sql_way(connection, params)
            samples.append(time.perf_counter() - begin)
            if number == 0:
                first_total = total
    return Latency.of(samples, time.perf_counter() - started), first_total
