"""One write at a time losing a race: a second request deletes the asset or tag that the
first has read and is about to write over. The first must answer as if it came a moment
later (404 for its asset, 422 naming a vanished tag) or, where PostgreSQL's locks made the
delete wait, succeed; never 500. Both requests go through the real app and database."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event

from tests.conftest import create_record, create_tag, row_counts, stored_files, upload
from tests.samples import png

# How long the racing statement lets the delete run first. On SQLite the delete finishes
# at once; on PostgreSQL a fixed write holds the row, so the delete waits for its commit
# and this bound only lets the first request go on.
DELETE_HEAD_START_SECONDS = 1.0
# That bound is a timing: run alone (scripts/test).
pytestmark = pytest.mark.serial


@contextmanager
def deleted_just_before(
    client: TestClient, statement_start: str, delete_path: str
) -> Iterator[list[httpx.Response]]:
    """DELETE `delete_path` through the app, from a thread of its own, at the moment the
    request under test first runs a statement starting with `statement_start`; the list
    yielded holds the delete's response once the block ends."""
    engine: Engine = client.app.state.engine  # type: ignore[attr-defined]
    answers: list[httpx.Response] = []
    racers: list[threading.Thread] = []

    def before_cursor_execute(*arguments: Any) -> None:
        statement: str = arguments[2]
        if racers or not statement.lstrip().startswith(statement_start):
            return
        racer = threading.Thread(target=lambda: answers.append(client.delete(delete_path)))
        racers.append(racer)  # first, so that the delete's own statements pass through
        racer.start()
        racer.join(timeout=DELETE_HEAD_START_SECONDS)

    event.listen(engine, "before_cursor_execute", before_cursor_execute)
    try:
        yield answers
    finally:
        event.remove(engine, "before_cursor_execute", before_cursor_execute)
        for racer in racers:
            racer.join()
    assert racers, f"the request ran no statement starting with {statement_start!r}"


def _assert_counts_exact(client: TestClient, tag_ids: list[str]) -> None:
    for tag_id in tag_ids:
        response = client.get(f"/api/tags/{tag_id}")
        if response.status_code == 404:
            continue
        holders = client.get(f"/api/tags/{tag_id}/assets").json()["total"]
        assert response.json()["asset_count"] == holders


def _answered(response: httpx.Response, *statuses: int) -> None:
    assert response.status_code in statuses, response.text
    if response.status_code >= 400:
        assert isinstance(response.json()["detail"], str)


def test_adding_a_tag_to_an_asset_deleted_meanwhile_is_404(client: TestClient) -> None:
    tag = create_tag(client, "Saddle")
    asset = create_record(client, "bridle.pdf")
    with deleted_just_before(
        client, "INSERT INTO media_asset_tag", f"/api/media-assets/{asset['id']}"
    ) as racing:
        response = client.post(f"/api/media-assets/{asset['id']}/tags", json=[tag["id"]])
    # 200 where the delete waited for the tag add to commit (PostgreSQL).
    _answered(response, 404, 200)
    assert [answer.status_code for answer in racing] == [204]
    assert client.get(f"/api/media-assets/{asset['id']}").status_code == 404
    assert client.get(f"/api/tags/{tag['id']}").json()["asset_count"] == 0


def test_retagging_and_renaming_an_asset_deleted_meanwhile_is_404(client: TestClient) -> None:
    old, new = create_tag(client, "Old"), create_tag(client, "New")
    asset = create_record(client, "bridle.pdf", tag_ids=[old["id"]])
    # The rename's UPDATE runs first, flushed by the tag lookups that follow it.
    with deleted_just_before(
        client, "UPDATE media_asset", f"/api/media-assets/{asset['id']}"
    ) as racing:
        response = client.put(
            f"/api/media-assets/{asset['id']}",
            json={"file_name": "halter.pdf", "tag_ids": [new["id"]]},
        )
    _answered(response, 404, 200)
    assert [answer.status_code for answer in racing] == [204]
    assert client.get(f"/api/media-assets/{asset['id']}").status_code == 404
    _assert_counts_exact(client, [old["id"], new["id"]])


def test_uploading_with_a_tag_deleted_meanwhile_is_422_and_keeps_nothing(
    client: TestClient,
) -> None:
    kept, doomed = create_tag(client, "Kept"), create_tag(client, "Doomed")
    # The asset row goes in after the tag ids were checked and before they are linked.
    with deleted_just_before(
        client, "INSERT INTO media_asset ", f"/api/tags/{doomed['id']}"
    ) as racing:
        response = upload(client, "girth.png", png(), tag_ids=[kept["id"], doomed["id"]])
    _answered(response, 422)
    assert [answer.status_code for answer in racing] == [204]
    assert doomed["id"] in response.json()["detail"]
    # All or nothing: no asset, no link, no count moved, no file left behind.
    assert row_counts(client.app.state.settings) == {  # type: ignore[attr-defined]
        "media_asset": 0,
        "tag": 1,
        "media_asset_tag": 0,
    }
    assert client.get(f"/api/tags/{kept['id']}").json()["asset_count"] == 0
    assert stored_files(client.app.state.settings) == []  # type: ignore[attr-defined]


def test_renaming_a_tag_deleted_meanwhile_is_404(client: TestClient) -> None:
    tag = create_tag(client, "Stirrup")
    with deleted_just_before(client, "UPDATE tag SET name", f"/api/tags/{tag['id']}") as racing:
        response = client.put(f"/api/tags/{tag['id']}", json={"name": "Spur"})
    _answered(response, 404, 200)
    assert [answer.status_code for answer in racing] == [204]
    assert client.get(f"/api/tags/{tag['id']}").status_code == 404


def test_deleting_a_tag_deleted_meanwhile_is_404(client: TestClient) -> None:
    tag = create_tag(client, "Stirrup")
    create_record(client, "bridle.pdf", tag_ids=[tag["id"]])
    with deleted_just_before(
        client, "INSERT INTO index_outbox", f"/api/tags/{tag['id']}"
    ) as racing:
        response = client.delete(f"/api/tags/{tag['id']}")
    # Exactly one of the two deletes deleted it; which one depends on the locks.
    assert sorted([response.status_code, *(answer.status_code for answer in racing)]) == [204, 404]
    _answered(response, 404, 204)


def test_deleting_an_asset_deleted_meanwhile_is_404(client: TestClient) -> None:
    asset = create_record(client, "bridle.pdf")
    path = f"/api/media-assets/{asset['id']}"
    with deleted_just_before(client, "INSERT INTO index_outbox", path) as racing:
        response = client.delete(path)
    assert sorted([response.status_code, *(answer.status_code for answer in racing)]) == [204, 404]
    _answered(response, 404, 204)
