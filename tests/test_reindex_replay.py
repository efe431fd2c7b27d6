"""A reindex replays the writes the indexer applied to the old index while it rebuilt,
instead of comparing every document again; `check` proves the result."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, insert, select
from sqlmodel import Session, col

from indexer import maintenance, outbox, replay
from indexer.documents import SearchDocument
from indexer.engines.base import SearchEngine, SwapWindow
from indexer.maintenance import find_drift, reindex
from indexer.query import open_engine
from service.app import create_app
from service.config import Settings
from store.models import IndexOutbox, IndexRebuild, IndexReplay, utc_now
from tests.conftest import bearer, make_token


def _state(api: TestClient) -> Any:
    return api.app.state  # type: ignore[attr-defined]


def _count(db: Engine, table: type[Any]) -> int:
    with Session(db) as session:
        return int(session.execute(select(func.count()).select_from(table)).scalar_one())


def _create(api: TestClient, name: str, **fields: Any) -> str:
    response = api.post("/api/media-assets", json={"file_name": name, **fields})
    assert response.status_code == 201, response.text
    asset_id: str = response.json()["id"]
    return asset_id


def _tag(api: TestClient, name: str) -> str:
    response = api.post("/api/tags", json={"name": name})
    assert response.status_code == 201, response.text
    tag_id: str = response.json()["id"]
    return tag_id


def _own_engine(settings: Settings) -> SearchEngine:
    """The engine `media-assets reindex` would open: its own, on the same index."""
    return open_engine(settings.engine_config)


def _pause_before_swap(
    monkeypatch: pytest.MonkeyPatch,
    engine: SearchEngine,
    meanwhile: Callable[[], None],
    after_swap: Callable[[], None] = lambda: None,
) -> None:
    """Make the engine's rebuild read every document, run `meanwhile`, then swap, then run
    `after_swap` (before `reindex` goes on to its replay)."""
    original = engine.rebuild

    def rebuild(
        batches: Iterable[Sequence[SearchDocument]], swap_window: SwapWindow | None = None
    ) -> None:
        read = [list(batch) for batch in batches]
        meanwhile()
        original(read, swap_window)
        after_swap()

    monkeypatch.setattr(engine, "rebuild", rebuild)


def _found(api: TestClient, words: str) -> list[str]:
    answer = api.get("/api/media-assets", params={"search": words})
    assert answer.status_code == 200, answer.text
    return [item["id"] for item in answer.json()["items"]]


@pytest.fixture
def manual_api(engine_settings: Settings) -> Iterator[TestClient]:
    """An app whose indexer only runs when a test drains it, and whose writes do not wait."""
    quiet = engine_settings.model_copy(update={"run_indexer": False, "index_wait_ms": 0})
    with TestClient(create_app(quiet), headers=bearer(make_token())) as client:
        yield client


def test_writes_applied_to_the_old_index_during_a_rebuild_are_in_the_new_one_at_its_swap(
    manual_api: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each kind of write lands after the rebuild read its asset, and the indexer applies
    it to the old index and deletes its outbox row before the swap: their writers were
    answered, so the new index must hold all four the moment it is swapped in."""
    api = manual_api
    state = _state(api)
    tag_id = _tag(api, "Cordovan")
    renamed = _create(api, "wallet.pdf")
    tagged = _create(api, "belt.pdf")
    deleted = _create(api, "strap.pdf")
    state.indexer.drain()
    created: list[str] = []

    def writes_during_the_rebuild() -> None:
        assert api.put(f"/api/media-assets/{renamed}", json={"file_name": "bifold.pdf"}).is_success
        assert api.post(f"/api/media-assets/{tagged}/tags", json=[tag_id]).is_success
        assert api.delete(f"/api/media-assets/{deleted}").is_success
        created.append(_create(api, "satchel.pdf"))
        state.indexer.drain()  # applied to the old index; the outbox rows are gone
        assert _count(state.engine, IndexOutbox) == 0
        assert _count(state.engine, IndexReplay) == 4

    def searched_right_after_the_swap() -> None:
        assert _found(api, "bifold") == [renamed]
        assert _found(api, "satchel") == created
        assert _found(api, "strap") == []
        assert find_drift(state.engine, state.search).total == 0

    engine = _own_engine(state.settings)
    _pause_before_swap(
        monkeypatch, engine, writes_during_the_rebuild, after_swap=searched_right_after_the_swap
    )
    done = reindex(state.engine, engine, show_progress=False)
    # Queued once more as a safety net, though the new index has them already.
    assert done.replayed == 4
    assert find_drift(state.engine, state.search).total == 0
    assert _count(state.engine, IndexRebuild) == 0
    assert _count(state.engine, IndexReplay) == 0
    state.indexer.drain()
    assert find_drift(state.engine, state.search).total == 0
    found = api.get("/api/media-assets", params={"search": "bifold"}).json()
    assert [item["id"] for item in found["items"]] == [renamed]
    assert api.get("/api/media-assets", params={"tag_ids": tag_id}).json()["total"] == 1


def test_a_batch_acknowledged_after_the_swap_is_written_into_the_new_index_first(
    manual_api: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The indexer applies a rename to the old index, and its acknowledgement (which
    answers the writer) comes only after the swap: it must write the batch again, into
    the new index, before it deletes the outbox row."""
    api = manual_api
    state = _state(api)
    renamed = _create(api, "wallet.pdf")
    state.indexer.drain()
    applied_to_the_old_index, swapped = threading.Event(), threading.Event()
    acknowledge = outbox.acknowledge

    def acknowledge_after_the_swap(*args: Any, **kwargs: Any) -> None:
        applied_to_the_old_index.set()
        assert swapped.wait(30)
        acknowledge(*args, **kwargs)

    monkeypatch.setattr(outbox, "acknowledge", acknowledge_after_the_swap)
    indexing = threading.Thread(target=state.indexer.run_once)

    def rename_during_the_rebuild() -> None:
        assert api.put(f"/api/media-assets/{renamed}", json={"file_name": "bifold.pdf"}).is_success
        indexing.start()
        assert applied_to_the_old_index.wait(30)
        assert _found(api, "bifold") == [renamed]  # in the old index

    def acknowledged_after_the_swap() -> None:
        swapped.set()
        indexing.join(30)
        assert _count(state.engine, IndexOutbox) == 0  # its writer would be answered now
        assert _found(api, "bifold") == [renamed]

    engine = _own_engine(state.settings)
    _pause_before_swap(
        monkeypatch,
        engine,
        rename_during_the_rebuild,
        after_swap=acknowledged_after_the_swap,
    )
    reindex(state.engine, engine, show_progress=False)
    state.indexer.drain()
    assert find_drift(state.engine, state.search).total == 0


def _rename_and_search(api: TestClient, asset_id: str, word: str) -> str | None:
    """Rename an asset to `word`, then search for it: what went wrong, if anything."""
    written = api.put(f"/api/media-assets/{asset_id}", json={"file_name": f"{word}.pdf"})
    if written.status_code != 200:
        return f"rename answered {written.status_code}: {written.text}"
    if written.headers.get("X-Index-Status") == "pending":
        return None  # not promised to be searchable yet (the indexer is slow here)
    found = _found(api, word)
    return None if asset_id in found else f"{word} acknowledged but not found: {found}"


def test_every_acknowledged_write_is_found_by_the_next_search_across_reindexes(
    engine_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Writers rename assets and search for each new name as soon as the write answers,
    while reindexes swap new indexes in, one after another."""
    with TestClient(create_app(engine_settings), headers=bearer(make_token())) as api:
        state = _state(api)
        assets = [_create(api, f"asset {n}.pdf") for n in range(24)]
        monkeypatch.setattr(maintenance, "BATCH_SIZE", 4)  # rebuilds that take a while
        stop = threading.Event()
        checked: list[int] = []
        problems: list[str] = []

        def keep_renaming(own: list[str], writer: int) -> None:
            number = 0
            while not stop.is_set():
                number += 1
                problem = _rename_and_search(api, own[number % len(own)], f"w{writer}x{number}")
                checked.append(number)
                if problem:
                    problems.append(problem)

        writers = [threading.Thread(target=keep_renaming, args=(assets[n::3], n)) for n in range(3)]
        for writer in writers:
            writer.start()
        reindexes = 0
        deadline = time.monotonic() + 120
        try:
            # Writes interleave with several swaps whatever the speed of either side.
            while (reindexes < 3 or len(checked) < 20) and time.monotonic() < deadline:
                reindex(state.engine, _own_engine(state.settings), show_progress=False)
                reindexes += 1
        finally:
            stop.set()
            for writer in writers:
                writer.join()
        assert problems == []
        assert reindexes >= 3 and len(checked) >= 20
        _wait_for_the_indexer(state.engine)
        assert find_drift(state.engine, state.search).total == 0


def _keep_writing(
    api: TestClient, assets: list[str], tag_ids: list[str], stop: threading.Event, done: list[int]
) -> None:
    """Rename, retag, delete and create assets until told to stop, counting in `done`."""
    while not stop.is_set():
        writes = len(done)
        slot = writes % len(assets)
        kind = writes % 4
        if kind == 0:
            api.put(
                f"/api/media-assets/{assets[slot]}", json={"file_name": f"renamed {writes}.pdf"}
            )
        elif kind == 1:
            chosen = [tag_ids[writes % len(tag_ids)]]
            api.put(f"/api/media-assets/{assets[slot]}", json={"tag_ids": chosen})
        elif kind == 2:
            api.delete(f"/api/media-assets/{assets[slot]}")
            assets[slot] = _create(api, f"replacement {writes}.pdf")
        else:
            assets.append(_create(api, f"new {writes}.pdf", tag_ids=tag_ids[:1]))
        done.append(writes)


def _wait_for_the_indexer(db: Engine, *, timeout: float = 120) -> None:
    """Until the app's own indexer thread has applied everything. (`drain` from the test's
    thread would race it: on SQLite two claimers can apply one asset out of order.)"""
    deadline = time.monotonic() + timeout
    while _count(db, IndexOutbox) or _count(db, IndexRebuild):
        assert time.monotonic() < deadline, "the indexer did not catch up"
        time.sleep(0.05)


def test_reindex_while_a_writer_renames_tags_and_deletes(
    engine_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The app's indexer thread runs; a writer thread changes assets through the API for
    as long as the rebuild reads; afterwards the index has no drift at all. Writes do
    not wait for the index here, so the indexer works through a backlog meanwhile."""
    busy = engine_settings.model_copy(update={"index_wait_ms": 0})
    with TestClient(create_app(busy), headers=bearer(make_token())) as api:
        state = _state(api)
        tag_ids = [_tag(api, name) for name in ("Bridle", "Latigo", "Pueblo")]
        assets = [_create(api, f"asset {n}.pdf", tag_ids=tag_ids[: n % 3]) for n in range(40)]
        # Small batches, each read only once the writer has written again since the last:
        # writes interleave with the reads whatever the speed of either.
        monkeypatch.setattr(maintenance, "BATCH_SIZE", 4)
        written: list[int] = []
        engine = _own_engine(state.settings)
        original = engine.rebuild

        def interleaved(
            batches: Iterable[Sequence[SearchDocument]], swap_window: SwapWindow | None = None
        ) -> None:
            def after_each_write() -> Iterator[Sequence[SearchDocument]]:
                for number, batch in enumerate(batches):
                    deadline = time.monotonic() + 30
                    while len(written) <= number and time.monotonic() < deadline:
                        time.sleep(0.01)
                    yield batch

            original(after_each_write(), swap_window)

        monkeypatch.setattr(engine, "rebuild", interleaved)
        stop = threading.Event()
        writer = threading.Thread(target=_keep_writing, args=(api, assets, tag_ids, stop, written))
        writer.start()
        try:
            done = reindex(state.engine, engine, show_progress=False)
        finally:
            stop.set()
            writer.join()
        assert len(written) >= 10
        assert done.replayed is not None and done.replayed > 0
        _wait_for_the_indexer(state.engine)
        drift = find_drift(state.engine, state.search)
        assert (drift.missing, drift.stale, drift.orphans) == ([], [], [])
        assert _count(state.engine, IndexRebuild) == 0
        assert _count(state.engine, IndexReplay) == 0


def test_the_indexer_records_replays_only_while_a_rebuild_is_registered(
    manual_api: TestClient,
) -> None:
    api = manual_api
    state = _state(api)
    db = state.engine
    _create(api, "before.pdf")
    state.indexer.drain()
    assert _count(db, IndexReplay) == 0
    rebuild_id = replay.begin(db)
    during = _create(api, "during.pdf")
    state.indexer.drain()
    with Session(db) as session:
        recorded = session.execute(select(col(IndexReplay.asset_id))).scalars().all()
    assert [str(asset_id) for asset_id in recorded] == [during]
    replay.abandon(db, rebuild_id)  # it never swapped: its row and the replays go
    assert (_count(db, IndexRebuild), _count(db, IndexReplay)) == (0, 0)
    _create(api, "after.pdf")
    state.indexer.drain()
    assert _count(db, IndexReplay) == 0


def test_without_an_indexer_the_replay_is_left_to_it(manual_api: TestClient) -> None:
    """Nobody applies the rows pending at the swap: reindex stops waiting, and the
    indexer, once it runs, applies them to the new index and then queues the replay."""
    api = manual_api
    state = _state(api)
    pending = [_create(api, f"pending {n}.pdf") for n in range(3)]
    started = time.monotonic()
    done = reindex(state.engine, _own_engine(state.settings), replay_wait_seconds=0.3)
    assert time.monotonic() - started < 30
    assert done.replayed is None and done.waiting_for == 3
    assert _count(state.engine, IndexRebuild) == 1  # handed over
    state.indexer.drain()
    assert _count(state.engine, IndexRebuild) == 0
    assert find_drift(state.engine, state.search).total == 0
    assert api.get("/api/media-assets", params={"search": "pending"}).json()["total"] == len(
        pending
    )


def _register(db: Engine, *, built: bool, alive_minutes_ago: float, asset_id: uuid.UUID) -> None:
    """A rebuild row left by a process that died, and one asset it recorded."""
    moment = utc_now() - timedelta(minutes=alive_minutes_ago)
    with db.begin() as connection:
        connection.execute(
            insert(IndexRebuild).values(
                started_at=moment, alive_at=moment, built_at=moment if built else None
            )
        )
        connection.execute(insert(IndexReplay).values(asset_id=asset_id))


def test_a_rebuild_that_died_before_its_swap_is_discarded(manual_api: TestClient) -> None:
    api = manual_api
    state = _state(api)
    _register(state.engine, built=False, alive_minutes_ago=1, asset_id=uuid.uuid4())
    assert replay.tidy(state.engine) == 0  # alive a minute ago: still its owner's
    assert _count(state.engine, IndexRebuild) == 1
    _register(state.engine, built=False, alive_minutes_ago=60, asset_id=uuid.uuid4())
    # The next reindex settles the dead one (the living one stays, with the replays).
    done = reindex(state.engine, _own_engine(state.settings), show_progress=False)
    assert done.replayed == 2
    assert (_count(state.engine, IndexRebuild), _count(state.engine, IndexReplay)) == (1, 2)


def test_a_rebuild_that_died_after_reading_everything_is_finished(
    manual_api: TestClient,
) -> None:
    """It may have swapped before dying: its replays are queued, by the indexer."""
    api = manual_api
    state = _state(api)
    asset_id = _create(api, "flap.pdf")
    state.indexer.drain()
    _register(state.engine, built=True, alive_minutes_ago=60, asset_id=uuid.UUID(asset_id))
    state.indexer.drain()  # tidies once the outbox is empty
    assert (_count(state.engine, IndexRebuild), _count(state.engine, IndexReplay)) == (0, 0)
    assert _count(state.engine, IndexOutbox) == 0  # the queued replay was applied too
    assert find_drift(state.engine, state.search).total == 0
