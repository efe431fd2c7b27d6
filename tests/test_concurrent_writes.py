"""Many clients writing the same few assets and tags at once, over real HTTP against
`media-assets serve`: uploads with tags, tag adds and removes, renames, tag-set
replacements, file replacements, asset deletes and tag creates, renames and deletes.
Every answer is a success or a 4xx with a sentence, never a 5xx; PostgreSQL detects no
deadlock; the tag counts are exact; and once the indexer has caught up, the index
agrees with the database."""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from service.config import Settings
from store.db import make_engine
from tests.conftest import SettingsFactory, bearer, make_token
from tests.deployment import drift, serve
from tests.samples import png

# PostgreSQL takes the full soak; SQLite, with one writer at a time, a shorter one.
CLIENTS = {"postgresql": 20, "sqlite": 10}
SECONDS = {"postgresql": 60, "sqlite": 15}
# So few rows in play that most writes collide with another on the same asset or tag.
ASSETS_IN_PLAY = 3
TAGS_IN_PLAY = 3
# Tag names come from a small set, so creates and renames also collide on names.
TAG_NAMES = [f"race{number}" for number in range(5)]
# What a write may answer when it races others: success, or gone, conflict, or (for
# tag ids that a concurrent delete removed) the contract's 422 naming them.
ACCEPTED = {200, 201, 204, 404, 409, 422}


@dataclass
class Rows:
    """The ids clients write to: the newest few, shared by all. A deleted id stays until
    newer ones push it out, so writes keep racing the deletes of their rows."""

    assets: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add_asset(self, asset_id: str) -> None:
        with self.lock:
            self.assets = [*self.assets, asset_id][-ASSETS_IN_PLAY:]

    def add_tag(self, tag_id: str) -> None:
        with self.lock:
            self.tags = [*self.tags, tag_id][-TAGS_IN_PLAY:]

    def asset(self, rng: random.Random) -> str | None:
        with self.lock:
            return rng.choice(self.assets) if self.assets else None

    def some_tags(self, rng: random.Random) -> list[str]:
        with self.lock:
            return rng.sample(self.tags, rng.randint(0, min(2, len(self.tags))))


Write = Callable[[httpx.Client, Rows, random.Random], httpx.Response | None]


def _upload_with_tags(http: httpx.Client, rows: Rows, rng: random.Random) -> httpx.Response:
    response = http.post(
        "/api/media-assets/upload",
        files={"file": (f"photo{rng.randrange(100)}.png", png(), "image/png")},
        data={"tag_ids": rows.some_tags(rng)},
    )
    if response.status_code == 201:
        rows.add_asset(response.json()["id"])
    return response


def _create_record_with_tags(http: httpx.Client, rows: Rows, rng: random.Random) -> httpx.Response:
    body = {"file_name": f"notes{rng.randrange(100)}.pdf", "tag_ids": rows.some_tags(rng)}
    response = http.post("/api/media-assets", json=body)
    if response.status_code == 201:
        rows.add_asset(response.json()["id"])
    return response


def _on_asset(
    send: Callable[[httpx.Client, str, Rows, random.Random], httpx.Response],
) -> Write:
    def write(http: httpx.Client, rows: Rows, rng: random.Random) -> httpx.Response | None:
        asset_id = rows.asset(rng)
        return None if asset_id is None else send(http, asset_id, rows, rng)

    return write


@_on_asset
def _add_tags(http: httpx.Client, asset_id: str, rows: Rows, rng: random.Random) -> httpx.Response:
    return http.post(f"/api/media-assets/{asset_id}/tags", json=rows.some_tags(rng))


@_on_asset
def _remove_tags(
    http: httpx.Client, asset_id: str, rows: Rows, rng: random.Random
) -> httpx.Response:
    return http.request("DELETE", f"/api/media-assets/{asset_id}/tags", json=rows.some_tags(rng))


@_on_asset
def _rename(http: httpx.Client, asset_id: str, _rows: Rows, rng: random.Random) -> httpx.Response:
    return http.put(
        f"/api/media-assets/{asset_id}", json={"file_name": f"r{rng.randrange(99)}.png"}
    )


@_on_asset
def _rename_and_retag(
    http: httpx.Client, asset_id: str, rows: Rows, rng: random.Random
) -> httpx.Response:
    body = {"file_name": f"r{rng.randrange(99)}.png", "tag_ids": rows.some_tags(rng)}
    return http.put(f"/api/media-assets/{asset_id}", json=body)


@_on_asset
def _replace_file(
    http: httpx.Client, asset_id: str, _rows: Rows, rng: random.Random
) -> httpx.Response:
    file = (f"new{rng.randrange(99)}.png", png(rng.randint(1, 4), 2), "image/png")
    return http.post(f"/api/media-assets/{asset_id}/upload", files={"file": file})


@_on_asset
def _delete_asset(
    http: httpx.Client, asset_id: str, _rows: Rows, _rng: random.Random
) -> httpx.Response:
    return http.delete(f"/api/media-assets/{asset_id}")


def _create_tag(http: httpx.Client, rows: Rows, rng: random.Random) -> httpx.Response:
    response = http.post("/api/tags", json={"name": rng.choice(TAG_NAMES)})
    if response.status_code == 201:
        rows.add_tag(response.json()["id"])
    return response


def _rename_tag(http: httpx.Client, rows: Rows, rng: random.Random) -> httpx.Response | None:
    tags = rows.some_tags(rng)
    return http.put(f"/api/tags/{tags[0]}", json={"name": rng.choice(TAG_NAMES)}) if tags else None


def _delete_tag(http: httpx.Client, rows: Rows, rng: random.Random) -> httpx.Response | None:
    tags = rows.some_tags(rng)
    return http.delete(f"/api/tags/{tags[0]}") if tags else None


# Weighted so that links are written more often than their rows are deleted.
WRITES: dict[str, tuple[Write, int]] = {
    "upload with tags": (_upload_with_tags, 3),
    "create with tags": (_create_record_with_tags, 2),
    "add tags": (_add_tags, 4),
    "remove tags": (_remove_tags, 3),
    "rename": (_rename, 2),
    "rename and retag": (_rename_and_retag, 3),
    "replace file": (_replace_file, 2),
    "delete asset": (_delete_asset, 2),
    "create tag": (_create_tag, 2),
    "rename tag": (_rename_tag, 1),
    "delete tag": (_delete_tag, 1),
}


@dataclass
class Tally:
    statuses: Counter[tuple[str, int]] = field(default_factory=Counter)
    refused: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def note(self, name: str, response: httpx.Response) -> None:
        status = response.status_code
        detail = _detail(response) if status >= 400 else ""
        with self.lock:
            self.statuses[name, status] += 1
            # 4xx only with the contract's sentence: no 5xx, no stack trace, no empty body.
            if status not in ACCEPTED or (status >= 400 and not detail):
                self.refused.append(f"{name}: {status} {response.text[:300]}")


def _detail(response: httpx.Response) -> str:
    try:
        detail = response.json().get("detail")
    except ValueError:
        return ""
    return detail if isinstance(detail, str) else ""


def _client(base: str, number: int, rows: Rows, tally: Tally, until: float) -> None:
    rng = random.Random(number)  # a reproducible mix for each client
    names = list(WRITES)
    weights = [WRITES[name][1] for name in names]
    with httpx.Client(base_url=base, headers=bearer(make_token()), timeout=120) as http:
        while time.monotonic() < until:
            name = rng.choices(names, weights)[0]
            response = WRITES[name][0](http, rows, rng)
            if response is not None:
                tally.note(name, response)


def _column(settings: Settings, query: str) -> list[Any]:
    """The first column of a query's rows, read on a connection of its own."""
    engine = make_engine(settings.resolved_database_url)
    try:
        with engine.connect() as connection:
            return list(connection.execute(text(query)).scalars())
    finally:
        engine.dispose()


def _deadlocks(settings: Settings) -> int:
    """PostgreSQL's count of deadlocks it detected (and broke) in this test's database."""
    query = "SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()"
    return int(_column(settings, query)[0])


def _miscounted_tags(settings: Settings) -> list[str]:
    return _column(
        settings,
        "SELECT name FROM tag WHERE asset_count != "
        "(SELECT count(*) FROM media_asset_tag WHERE media_asset_tag.tag_id = tag.id)",
    )


def _derived_pending(settings: Settings) -> int:
    """Files whose text or previews the worker has still to make: each result it stores
    queues its asset for the indexer again."""
    query = (
        "SELECT (SELECT count(*) FROM asset_content WHERE status = 'pending')"
        " + (SELECT count(*) FROM asset_preview WHERE status = 'pending')"
    )
    return int(_column(settings, query)[0])


def _wait_for_the_workers(base: str, settings: Settings) -> None:
    """Until the derived-data worker has nothing left and the indexer has applied every
    write, the worker's results included. The worker is asked first: a result is
    committed with its outbox row, so the outbox asked after it already holds that row."""
    deadline = time.monotonic() + 300
    while (
        _derived_pending(settings)
        or httpx.get(f"{base}/readyz", timeout=30).json()["index_lag"]["pending"]
    ):
        assert time.monotonic() < deadline, "the workers did not catch up"
        time.sleep(0.2)


@pytest.mark.serial  # a soak: many connections and the machine's cores
def test_racing_writes_on_the_same_rows_answer_no_5xx_and_leave_no_drift(
    tmp_path: Path, settings_factory: SettingsFactory
) -> None:
    settings = settings_factory(tmp_path / "data")
    dialect = "sqlite" if settings.resolved_database_url.startswith("sqlite") else "postgresql"
    with serve(settings, {"MEDIA_SEARCH_ENGINE": "embedded"}) as deployment:
        base = deployment.base
        rows = Rows()
        with httpx.Client(base_url=base, headers=bearer(make_token()), timeout=60) as http:
            for name in TAG_NAMES[:TAGS_IN_PLAY]:
                rows.add_tag(http.post("/api/tags", json={"name": name}).json()["id"])
        tally = Tally()
        until = time.monotonic() + SECONDS[dialect]
        clients = [
            threading.Thread(target=_client, args=(base, number, rows, tally, until))
            for number in range(CLIENTS[dialect])
        ]
        for thread in clients:
            thread.start()
        for thread in clients:
            thread.join()
        _wait_for_the_workers(base, settings)
        index_drift = drift(settings)
    # Read once the server is gone: each backend reports its counts as it exits.
    deadlocks = _deadlocks(settings) if dialect == "postgresql" else 0
    requests = sum(tally.statuses.values())
    print(  # the soak's figures, for the record (pytest -s)
        f"\n{dialect}: {CLIENTS[dialect]} clients, {SECONDS[dialect]} s, {requests} writes, "
        f"{len(tally.refused)} refused, {deadlocks} deadlocks, drift {index_drift}; "
        f"{sorted(tally.statuses.items())}"
    )
    assert tally.refused == []
    # Every kind of write ran, and some lost a race: the mix did collide.
    assert {name for name, _ in tally.statuses} == set(WRITES)
    assert any(status in {404, 409, 422} for _, status in tally.statuses)
    assert deadlocks == 0
    assert _miscounted_tags(settings) == []
    assert index_drift == 0
