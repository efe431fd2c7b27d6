"""Driving the queries: concurrent HTTP clients against the service, and the SQL way."""

from __future__ import annotations

import itertools
import json
import threading
import time

from sqlalchemy import Engine

from bench.queries import BenchQuery, http_params, sql_way
from bench.server import Service
from bench.stats import Latency

WARMUP_REQUESTS = 5


class QueryFailed(RuntimeError):
    pass


def run_http(service: Service, query: BenchQuery, *, requests: int, clients: int) -> Latency:
    """`requests` requests spread over `clients` keep-alive connections, all at once."""
    warm = service.client()
    for params in query.variants[:WARMUP_REQUESTS]:
        status, _, body = warm.request("GET", "/api/media-assets", query=http_params(params))
        if status != 200:
            raise QueryFailed(f"{query.name}: HTTP {status}: {body[:300]!r}")
    warm.close()
    numbers = itertools.count()
    samples: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()

    def client_loop() -> None:
        client = service.client()
        mine: list[float] = []
        try:
            while (number := next(numbers)) < requests:
                params = http_params(query.variants[number % len(query.variants)])
                started = time.perf_counter()
                status, _, body = client.request("GET", "/api/media-assets", query=params)
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
        raise QueryFailed(f"{query.name}: {len(errors)} failed requests, first: {errors[0]}")
    return Latency.of(samples, wall)


def http_total(service: Service, query: BenchQuery) -> int:
    client = service.client()
    try:
        _, _, body = client.request(
            "GET", "/api/media-assets", query=http_params(query.variants[0])
        )
    finally:
        client.close()
    total: int = json.loads(body)["total"]
    return total


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
