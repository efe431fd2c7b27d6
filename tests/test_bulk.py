"""Bulk changes on every engine and database: tags and links added and removed and assets deleted,
selected by ids or by a query; all or nothing (unknown ids, a fault half-way leave the
database, the files and the index as they were); `expected_count`; MEDIA_BULK_MAX; bad
bodies; one statement per kind of row; read-your-writes; and on PostgreSQL a large bulk
that does not hold up writes to other assets. The library of `search_fixtures`: the PNG
has Leather and Wallet, the pattern PDF Wallet and Pattern, the guide Leather, the price
list no tag."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, event, insert, select, text
from sqlmodel import col

from service.app import create_app
from service.config import Settings
from store.models import AssetPreview, MediaAsset, MediaAssetLink, MediaAssetTag
from tests import samples
from tests.conftest import SettingsFactory, bearer, make_token, stored_files
from tests.search_fixtures import listing, names, settled, tag, upload

PNG = "leather_wallet-2.png"
PATTERN = "Bifold Wallet Pattern.pdf"
GUIDE = "saddle stitching guide.pdf"
PRICES = "price list.csv"
BULK = "/api/media-assets/bulk"


def ok(api: TestClient, **body: Any) -> dict[str, Any]:
    """A bulk change that must succeed, its change already searchable."""
    response = api.post(BULK, json=body)
    assert response.status_code == 200, response.text
    assert "x-index-status" not in response.headers
    result: dict[str, Any] = response.json()
    return result


def assets(api: TestClient, **params: Any) -> dict[str, dict[str, Any]]:
    """The list's items by file name (from the index)."""
    return {item["file_name"]: item for item in listing(api, limit=100, **params)["items"]}


def tagged(api: TestClient, tag_id: str) -> set[str]:
    return set(names(listing(api, tag_ids=tag_id, limit=100)))


def counts(api: TestClient) -> dict[str, int]:
    return {t["name"]: t["asset_count"] for t in api.get("/api/tags").json()["items"]}


def ids_of(api: TestClient, *file_names: str) -> list[str]:
    found = assets(api)
    return [found[name]["id"] for name in file_names]


def database(settings: Settings) -> Engine:
    return create_engine(settings.resolved_database_url)


def links(settings: Settings) -> set[tuple[uuid.UUID, uuid.UUID]]:
    db = database(settings)
    try:
        with db.connect() as connection:
            rows = connection.execute(
                select(col(MediaAssetTag.media_asset_id), col(MediaAssetTag.tag_id))
            ).all()
    finally:
        db.dispose()
    return {(asset, tag_id) for asset, tag_id in rows}


def entity_links(settings: Settings) -> set[tuple[uuid.UUID, str, str]]:
    db = database(settings)
    link = MediaAssetLink
    try:
        with db.connect() as connection:
            rows = connection.execute(
                select(col(link.asset_id), col(link.entity_type), col(link.entity_id))
            ).all()
    finally:
        db.dispose()
    return {(asset, entity_type, entity_id) for asset, entity_type, entity_id in rows}


def named_files(settings: Settings) -> set[str]:
    """The storage keys the rows name: every asset's file and its previews."""
    db = database(settings)
    try:
        with db.connect() as connection:
            files = connection.execute(select(col(MediaAsset.storage_location))).scalars()
            keys = {key for key in files if key}
            previews = connection.execute(
                select(col(AssetPreview.small_key), col(AssetPreview.large_key))
            ).all()
    finally:
        db.dispose()
    return keys | {key for row in previews for key in row if key}


def files_on_disk(settings: Settings) -> set[str]:
    return {str(path.relative_to(settings.files_dir)) for path in stored_files(settings)}


def snapshot(api: TestClient, settings: Settings) -> tuple[Any, ...]:
    """Everything a bulk change could touch: the index's items (tags, updated_at), the tag
    counts, the links in the database and the files on disk."""
    return (
        assets(api),
        counts(api),
        links(settings),
        entity_links(settings),
        files_on_disk(settings),
    )


@pytest.fixture
def previewed(api: TestClient, library: dict[str, str]) -> dict[str, str]:
    """The library once every text is extracted and every preview rendered: the workers
    then write nothing, and the files on disk stay still."""
    for asset_id in ids_of(api, PNG, PATTERN, GUIDE, PRICES):
        settled(api, asset_id, "content")
        settled(api, asset_id, "preview")
    return library


def test_add_and_remove_tags_by_ids_and_by_query(api: TestClient, library: dict[str, str]) -> None:
    bulk = tag(api, "Bulk")
    png, prices = ids_of(api, PNG, PRICES)
    before = assets(api)

    assert ok(api, action="add_tags", ids=[png, prices, png], tag_ids=[bulk]) == {
        "matched": 2,
        "changed": 2,
    }
    # Read-your-writes: the list, answered from the index, shows it at once.
    assert tagged(api, bulk) == {PNG, PRICES}
    assert set(names(listing(api, search="bulk"))) == {PNG, PRICES}  # by the tag's name
    after = assets(api)
    assert after[PNG]["updated_at"] > before[PNG]["updated_at"]
    assert after[GUIDE]["updated_at"] == before[GUIDE]["updated_at"]
    assert counts(api)["Bulk"] == 2

    # By query: the wallets; the PNG has the tag already, so only the pattern changes.
    result = ok(api, action="add_tags", query={"search": "wallet"}, tag_ids=[bulk])
    assert result == {"matched": 2, "changed": 1}
    assert tagged(api, bulk) == {PNG, PRICES, PATTERN}
    assert ok(api, action="add_tags", query={"search": "wallet"}, tag_ids=[bulk])["changed"] == 0

    # Two tags at once, from a query that a single value of a list filter makes.
    result = ok(
        api,
        action="remove_tags",
        query={"tag_ids": f"{bulk}, {library['wallet']}", "file_type": ["png", "pdf"]},
        tag_ids=[bulk, library["wallet"]],
    )
    assert result == {"matched": 2, "changed": 2}
    assert tagged(api, bulk) == {PRICES}
    assert tagged(api, library["wallet"]) == set()
    assert counts(api) == {"Bulk": 1, "Leather": 2, "Pattern": 1, "Wallet": 0}

    assert ok(api, action="remove_tags", ids=[prices], tag_ids=[bulk]) == {
        "matched": 1,
        "changed": 1,
    }
    assert ok(api, action="add_tags", query={"untagged": True}, tag_ids=[bulk])["matched"] == 1
    assert tagged(api, bulk) == {PRICES}


PRODUCT = {"entity_type": "product", "entity_id": "123"}
PROJECT = {"entity_type": "project", "entity_id": "P-7"}


def linked_to(api: TestClient, link: str) -> set[str]:
    return set(names(listing(api, linked=link, limit=100)))


def test_link_and_unlink_by_ids_and_by_query(api: TestClient, library: dict[str, str]) -> None:
    png, prices = ids_of(api, PNG, PRICES)
    before = assets(api)
    padded = {**PROJECT, "entity_id": " P-7 "}
    result = ok(api, action="link", ids=[png, prices], links=[PROJECT, PRODUCT, padded])
    assert result == {"matched": 2, "changed": 2}
    # Read-your-writes: the list, the entity's gallery and the asset JSON show it at once.
    assert linked_to(api, "product:123") == linked_to(api, "project:P-7") == {PNG, PRICES}
    gallery = api.get("/api/links/product/123/assets")
    assert gallery.status_code == 200, gallery.text
    assert set(names(gallery.json())) == {PNG, PRICES}
    assert api.get(f"/api/media-assets/{png}").json()["links"] == [PRODUCT, PROJECT]
    after = assets(api)
    assert after[PNG]["links"] == [PRODUCT, PROJECT]
    assert after[PNG]["updated_at"] > before[PNG]["updated_at"]
    assert after[GUIDE]["updated_at"] == before[GUIDE]["updated_at"]

    # By query: the wallets; the PNG has the link already, so only the pattern changes.
    result = ok(api, action="link", query={"search": "wallet"}, links=[PRODUCT])
    assert result == {"matched": 2, "changed": 1}
    assert linked_to(api, "product:123") == {PNG, PRICES, PATTERN}
    assert ok(api, action="link", query={"search": "wallet"}, links=[PRODUCT])["changed"] == 0

    # Unlink by a query that a link filter makes, then by ids; a missing link is a no-op.
    result = ok(
        api, action="unlink", query={"linked": "product:123", "file_type": "pdf"}, links=[PRODUCT]
    )
    assert result == {"matched": 1, "changed": 1}
    assert linked_to(api, "product:123") == {PNG, PRICES}
    result = ok(api, action="unlink", ids=[prices, png], links=[PRODUCT, PROJECT])
    assert result == {"matched": 2, "changed": 2}
    assert ok(api, action="unlink", ids=[prices], links=[PRODUCT]) == {"matched": 1, "changed": 0}
    assert linked_to(api, "product:123") == linked_to(api, "project:P-7") == set()
    assert api.get(f"/api/media-assets/{png}").json()["links"] == []


def test_an_unknown_link_type_is_422_naming_the_types_and_changes_nothing(
    api: TestClient, engine_settings: Settings, previewed: dict[str, str]
) -> None:
    before = snapshot(api, engine_settings)
    supplier = {"entity_type": "supplier", "entity_id": "9"}
    response = api.post(BULK, json={"action": "link", "query": {}, "links": [PRODUCT, supplier]})
    assert response.status_code == 422, response.text
    assert "project, product, customer, documentation" in response.json()["detail"]
    assert "'supplier' is not one of them" in response.json()["detail"]
    assert snapshot(api, engine_settings) == before


def test_delete_by_ids_and_by_query(
    api: TestClient, engine_settings: Settings, previewed: dict[str, str]
) -> None:
    png, prices = ids_of(api, PNG, PRICES)
    assert files_on_disk(engine_settings) == named_files(engine_settings)
    assert ok(api, action="delete", ids=[png, prices], expected_count=2) == {
        "matched": 2,
        "changed": 2,
    }
    assert set(assets(api)) == {PATTERN, GUIDE}
    assert api.get(f"/api/media-assets/{png}").status_code == 404
    assert counts(api) == {"Leather": 1, "Wallet": 1, "Pattern": 1}
    # The files and previews of the deleted assets went, after the commit; no other did.
    assert files_on_disk(engine_settings) == named_files(engine_settings)

    result = ok(api, action="delete", query={"file_type": ".pdf"}, expected_count=2)
    assert result == {"matched": 2, "changed": 2}
    assert assets(api) == {}
    assert counts(api) == {"Leather": 0, "Wallet": 0, "Pattern": 0}
    assert files_on_disk(engine_settings) == named_files(engine_settings) == set()
    # A query that selects nothing deletes nothing, when that was expected.
    assert ok(api, action="delete", query={}, expected_count=0) == {"matched": 0, "changed": 0}


def test_expected_count_refuses_a_mismatch_with_the_real_count(
    api: TestClient, engine_settings: Settings, previewed: dict[str, str]
) -> None:
    before = snapshot(api, engine_settings)
    for body in (
        {"action": "delete", "query": {"tag_ids": previewed["leather"]}, "expected_count": 3},
        {"action": "delete", "ids": ids_of(api, PNG), "expected_count": 0},
        {"action": "add_tags", "query": {}, "tag_ids": [previewed["pattern"]], "expected_count": 5},
    ):
        response = api.post(BULK, json=body)
        assert response.status_code == 409, response.text
        real = {"delete": 2 if "query" in body else 1, "add_tags": 4}[str(body["action"])]
        assert response.json()["matched"] == real
        assert f"the selection holds {real} asset" in response.json()["detail"]
    assert snapshot(api, engine_settings) == before


def test_unknown_tag_or_asset_ids_change_nothing(
    api: TestClient, engine_settings: Settings, previewed: dict[str, str]
) -> None:
    before = snapshot(api, engine_settings)
    ghost_tag, ghost_asset = str(uuid.uuid4()), str(uuid.uuid4())
    response = api.post(
        BULK, json={"action": "add_tags", "query": {}, "tag_ids": [previewed["leather"], ghost_tag]}
    )
    assert response.status_code == 422, response.text
    assert response.json()["detail"] == f"These tag ids name no tag: {ghost_tag}."
    for action in ("add_tags", "remove_tags", "delete"):
        response = api.post(
            BULK,
            json={
                "action": action,
                "ids": [*ids_of(api, PNG, GUIDE), ghost_asset],
                "tag_ids": [previewed["pattern"]],
                "expected_count": 3,
            }
            if action != "delete"
            else {"action": action, "ids": [ids_of(api, PNG)[0], ghost_asset], "expected_count": 2},
        )
        assert response.status_code == 422, response.text
        assert response.json()["detail"] == f"These ids name no asset: {ghost_asset}."
    assert snapshot(api, engine_settings) == before


@contextmanager
def refusing(settings: Settings, *, table: str, column: str, asset_id: str) -> Iterator[None]:
    """A real fault half-way through a bulk change: the database refuses to write `table`
    for one asset (a trigger), after the rows of others were written in the same
    transaction."""
    db = database(settings)
    postgresql = db.dialect.name == "postgresql"
    event_name = "DELETE" if table == "media_asset" else "INSERT"
    row = "OLD" if event_name == "DELETE" else "NEW"
    value = asset_id if postgresql else uuid.UUID(asset_id).hex
    if postgresql:
        create = [
            f"""CREATE FUNCTION refuse_one() RETURNS trigger AS $$ BEGIN
                IF {row}.{column} = '{value}' THEN RAISE EXCEPTION 'refused by the test'; END IF;
                RETURN {row}; END $$ LANGUAGE plpgsql""",
            f"""CREATE TRIGGER refuse_one BEFORE {event_name} ON {table}
                FOR EACH ROW EXECUTE FUNCTION refuse_one()""",
        ]
        drop = [f"DROP TRIGGER refuse_one ON {table}", "DROP FUNCTION refuse_one()"]
    else:
        create = [
            f"""CREATE TRIGGER refuse_one BEFORE {event_name} ON {table}
                WHEN {row}.{column} = '{value}'
                BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"""
        ]
        drop = ["DROP TRIGGER refuse_one"]
    try:
        with db.begin() as connection:
            for statement in create:
                connection.execute(text(statement))
        yield
        with db.begin() as connection:
            for statement in drop:
                connection.execute(text(statement))
    finally:
        db.dispose()


@pytest.mark.parametrize(
    ("body", "table", "column", "refused"),
    [
        # The outbox rows are written after the links and the assets' updated_at.
        ({"action": "add_tags", "query": {}}, "index_outbox", "asset_id", GUIDE),
        ({"action": "remove_tags", "query": {}}, "index_outbox", "asset_id", PATTERN),
        ({"action": "link", "query": {}}, "index_outbox", "asset_id", GUIDE),
        ({"action": "unlink", "query": {}}, "index_outbox", "asset_id", PATTERN),
        # The previews' rows go first, then the assets, one of which is refused.
        ({"action": "delete", "query": {}, "expected_count": 4}, "media_asset", "id", GUIDE),
    ],
    ids=["add_tags", "remove_tags", "link", "unlink", "delete"],
)
def test_a_fault_half_way_leaves_database_files_and_index_as_they_were(
    api: TestClient,
    engine_settings: Settings,
    previewed: dict[str, str],
    body: dict[str, Any],
    table: str,
    column: str,
    refused: str,
) -> None:
    if body["action"] in ("add_tags", "remove_tags"):
        # Pattern and Wallet: each on two assets and missing from two.
        body = {**body, "tag_ids": [previewed["pattern"], previewed["wallet"]]}
    if body["action"] in ("link", "unlink"):
        # Linked to two assets, unlinked from two.
        ok(api, action="link", ids=ids_of(api, PNG, PATTERN), links=[PRODUCT])
        body = {**body, "links": [PRODUCT, PROJECT]}
    before = snapshot(api, engine_settings)
    failing = TestClient(api.app, headers=bearer(make_token()), raise_server_exceptions=False)
    with refusing(engine_settings, table=table, column=column, asset_id=ids_of(api, refused)[0]):
        response = failing.post(BULK, json=body)
    assert response.status_code == 500, response.text
    assert snapshot(api, engine_settings) == before
    assert api.get("/readyz").json()["index_lag"]["pending"] == 0
    # Without the fault, the same change goes through.
    assert ok(api, **body)["changed"] > 1


def test_one_statement_per_kind_of_row_however_many_assets(
    api: TestClient, previewed: dict[str, str]
) -> None:
    bulk = tag(api, "Bulk")
    statements: list[str] = []

    def seen(_connection: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(" ".join(statement.split()))

    engine: Engine = api.app.state.engine  # type: ignore[attr-defined]
    event.listen(engine, "before_cursor_execute", seen)
    try:
        ok(api, action="add_tags", query={}, tag_ids=[bulk, previewed["pattern"]])
        added = list(statements)
        statements.clear()
        ok(api, action="link", query={}, links=[PRODUCT, PROJECT])
        linked = list(statements)
        statements.clear()
        ok(api, action="delete", query={}, expected_count=4)
        deleted = list(statements)
    finally:
        event.remove(engine, "before_cursor_execute", seen)

    def writes(found: list[str], start: str) -> int:
        return sum(statement.startswith(start) for statement in found)

    assert writes(added, "INSERT INTO media_asset_tag") == 1
    assert writes(added, "UPDATE media_asset ") == 1
    assert writes(added, "INSERT INTO index_outbox") == 1
    # PostgreSQL: one count update per tag, at the end; SQLite's triggers counted.
    assert writes(added, "UPDATE tag ") in (0, 2)
    assert writes(linked, "INSERT INTO media_asset_link") == 1
    assert writes(linked, "UPDATE media_asset ") == 1
    assert writes(linked, "INSERT INTO index_outbox") == 1
    assert writes(deleted, "DELETE FROM media_asset ") == 1
    assert writes(deleted, "INSERT INTO index_outbox") == 1
    assert writes(deleted, "UPDATE tag ") in (0, 4)  # Bulk, Leather, Pattern, Wallet


def test_a_selection_over_media_bulk_max_is_422(engine_settings: Settings) -> None:
    small = engine_settings.model_copy(update={"bulk_max": 2})
    with TestClient(create_app(small), headers=bearer(make_token())) as api:
        made = [upload(api, f"photo {n}.png", samples.png())["id"] for n in range(3)]
        leather = tag(api, "Leather")
        for body in (
            {"action": "add_tags", "query": {}, "tag_ids": [leather]},
            {"action": "add_tags", "ids": made, "tag_ids": [leather]},
            {"action": "delete", "query": {"file_type": "png"}, "expected_count": 3},
        ):
            response = api.post(BULK, json=body)
            assert response.status_code == 422, response.text
            detail = response.json()["detail"]
            assert "holds 3 assets; one bulk change takes at most 2 (MEDIA_BULK_MAX)" in detail
        assert listing(api, tag_ids=leather)["total"] == 0
        assert ok(api, action="add_tags", query={"search": "photo 1"}, tag_ids=[leather]) == {
            "matched": 1,
            "changed": 1,
        }


BAD_BODIES: dict[str, Any] = {
    "both ids and query": {
        "action": "delete",
        "ids": ["{asset}"],
        "query": {},
        "expected_count": 1,
    },
    "neither": {"action": "add_tags", "tag_ids": ["{tag}"]},
    "unknown action": {"action": "rename", "ids": ["{asset}"]},
    "no action": {"ids": ["{asset}"], "tag_ids": ["{tag}"]},
    "tag_ids missing": {"action": "add_tags", "ids": ["{asset}"]},
    "tag_ids empty": {"action": "remove_tags", "ids": ["{asset}"], "tag_ids": []},
    "tag_ids null": {"action": "add_tags", "ids": ["{asset}"], "tag_ids": None},
    "links missing": {"action": "link", "ids": ["{asset}"]},
    "links empty": {"action": "unlink", "ids": ["{asset}"], "links": []},
    "link without an id": {
        "action": "link",
        "ids": ["{asset}"],
        "links": [{"entity_type": "product"}],
    },
    "link with a blank id": {
        "action": "link",
        "ids": ["{asset}"],
        "links": [{"entity_type": "product", "entity_id": "  "}],
    },
    "tag_ids on link": {
        "action": "link",
        "ids": ["{asset}"],
        "links": [{"entity_type": "product", "entity_id": "1"}],
        "tag_ids": ["{tag}"],
    },
    "links on add_tags": {
        "action": "add_tags",
        "ids": ["{asset}"],
        "tag_ids": ["{tag}"],
        "links": [{"entity_type": "product", "entity_id": "1"}],
    },
    "expected_count missing for delete": {"action": "delete", "ids": ["{asset}"]},
    "negative expected_count": {"action": "delete", "ids": ["{asset}"], "expected_count": -1},
    "tag_ids on delete": {
        "action": "delete",
        "ids": ["{asset}"],
        "expected_count": 1,
        "tag_ids": ["{tag}"],
    },
    "ids empty": {"action": "add_tags", "ids": [], "tag_ids": ["{tag}"]},
    "ids null": {"action": "add_tags", "ids": None, "query": {}, "tag_ids": ["{tag}"]},
    "malformed id": {"action": "add_tags", "ids": ["not-a-uuid"], "tag_ids": ["{tag}"]},
    "over 10,000 ids": {"action": "add_tags", "ids": "many", "tag_ids": ["{tag}"]},
    "unknown field": {"action": "add_tags", "ids": ["{asset}"], "tag_ids": ["{tag}"], "x": 1},
    "query not an object": {"action": "add_tags", "query": "leather", "tag_ids": ["{tag}"]},
    "query with paging": {"action": "add_tags", "query": {"limit": 10}, "tag_ids": ["{tag}"]},
    "query with sort": {
        "action": "add_tags",
        "query": {"sort_by": "file_name"},
        "tag_ids": ["{tag}"],
    },
    "query with facets": {"action": "add_tags", "query": {"facets": "tags"}, "tag_ids": ["{tag}"]},
    "query with a bad filter": {
        "action": "add_tags",
        "query": {"uploaded_after": "yesterday"},
        "tag_ids": ["{tag}"],
    },
    "query boolean as text": {
        "action": "delete",
        "query": {"untagged": "yes"},
        "expected_count": 0,
    },
    "query untagged with tag_ids": {
        "action": "delete",
        "query": {"untagged": True, "tag_ids": "{tag}"},
        "expected_count": 0,
    },
}


def _filled(value: Any, ids: dict[str, str]) -> Any:
    if value == "many":
        return [str(uuid.uuid4()) for _ in range(10_001)]
    if isinstance(value, str):
        return value.format(**ids)
    if isinstance(value, list):
        return [_filled(item, ids) for item in value]
    if isinstance(value, dict):
        return {key: _filled(item, ids) for key, item in value.items()}
    return value


@pytest.mark.parametrize("body", BAD_BODIES.values(), ids=BAD_BODIES.keys())
def test_bad_bodies_are_422_and_change_nothing(client: TestClient, body: dict[str, Any]) -> None:
    leather = client.post("/api/tags", json={"name": "Leather"}).json()["id"]
    asset = client.post("/api/media-assets", json={"file_name": "a.pdf"}).json()["id"]
    response = client.post(BULK, json=_filled(body, {"asset": asset, "tag": leather}))
    assert response.status_code == 422, response.text
    errors = response.json()["detail"]
    assert isinstance(errors, list) and errors[0]["msg"], errors
    assert client.get(f"/api/tags/{leather}").json()["asset_count"] == 0
    assert client.get(f"/api/media-assets/{asset}").status_code == 200


def test_a_query_error_is_located_in_the_body(client: TestClient) -> None:
    response = client.post(
        BULK,
        json={
            "action": "delete",
            "query": {"skip": 1, "orientation": "round"},
            "expected_count": 0,
        },
    )
    assert response.status_code == 422, response.text
    assert [error["loc"] for error in response.json()["detail"]] == [["body", "query", "skip"]]
    response = client.post(
        BULK, json={"action": "delete", "query": {"orientation": "round"}, "expected_count": 0}
    )
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"][:3] == ["body", "query", "orientation"]


def test_without_an_indexer_ids_answer_pending_and_a_query_is_503(settings: Settings) -> None:
    quiet = settings.model_copy(update={"run_indexer": False, "index_wait_ms": 0})
    with TestClient(create_app(quiet), headers=bearer(make_token())) as api:
        leather = api.post("/api/tags", json={"name": "Leather"}).json()["id"]
        asset = api.post("/api/media-assets", json={"file_name": "a.pdf"}).json()["id"]
        response = api.post(BULK, json={"action": "add_tags", "ids": [asset], "tag_ids": [leather]})
        assert response.status_code == 200, response.text
        assert response.headers["x-index-status"] == "pending"
        response = api.post(BULK, json={"action": "delete", "query": {}, "expected_count": 1})
        assert response.status_code == 503, response.text
        assert "has not caught up" in response.json()["detail"]
        assert api.get(f"/api/media-assets/{asset}").json()["tags"][0]["id"] == leather


# -- PostgreSQL: a large bulk change holds up no write to another asset -----------------

MANY = 10_000


def _seed_assets(db: Engine, count: int) -> list[str]:
    """`count` records straight into the database (the index learns of them from the
    bulk change's outbox rows)."""
    now = datetime.now(UTC)
    rows = [
        {
            "id": uuid.uuid4(),
            "file_name": f"seeded {number}.pdf",
            "file_type": ".pdf",
            "content_type": "application/pdf",
            "file_size_bytes": 0,
            "uploaded_by": "alice",
            "uploaded_at": now,
            "created_at": now,
            "updated_at": now,
        }
        for number in range(count)
    ]
    with db.begin() as connection:
        connection.execute(insert(MediaAsset), rows)
    return [str(row["id"]) for row in rows]


def _waiting_on_a_lock(db: Engine, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    with db.connect() as connection:
        while time.monotonic() < deadline:
            waiting = connection.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
            ).scalar_one()
            connection.rollback()
            if waiting:
                return
            time.sleep(0.02)
    raise AssertionError("the bulk change never reached its outbox rows")


# Test scaffolding, not the service's: a statement that writes more than a thousand outbox
# rows (only a bulk change does) waits for an advisory lock the test holds. The bulk
# change is then held half-way, its links inserted and its assets stamped, with every
# lock it takes before the tag counts at its very end.
HOLD_KEY = 4242
HOLD_BULK = (
    """CREATE FUNCTION hold_bulk() RETURNS trigger AS $$ BEGIN
        IF (SELECT count(*) FROM added) > 1000 THEN PERFORM pg_advisory_xact_lock(4242);
        END IF; RETURN NULL; END $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER hold_bulk AFTER INSERT ON index_outbox REFERENCING NEW TABLE AS added
        FOR EACH STATEMENT EXECUTE FUNCTION hold_bulk()""",
)


def test_a_large_bulk_holds_up_no_write_to_other_assets_on_postgresql(
    settings_factory: SettingsFactory, database_url: str | None, tmp_path: Path
) -> None:
    """While a bulk change of 10,000 assets is held half-way, a write that adds its very
    tag to an asset outside it, a tag created and a list all complete (in a thread that
    must end: were they waiting for the bulk change, they never would), and the bulk only
    after them."""
    if database_url is None:
        pytest.skip("PostgreSQL only: SQLite has one writer at a time")
    settings = settings_factory(tmp_path / "data")
    with TestClient(create_app(settings), headers=bearer(make_token())) as api:
        bulk_tag = tag(api, "Bulk")
        outside = api.post("/api/media-assets", json={"file_name": "outside.pdf"}).json()["id"]
        db: Engine = api.app.state.engine  # type: ignore[attr-defined]
        selected = _seed_assets(db, MANY)
        with db.begin() as connection:
            for statement in HOLD_BULK:
                connection.execute(text(statement))
        done: list[str] = []
        answers: dict[str, httpx.Response] = {}

        def run_bulk() -> None:
            client = TestClient(api.app, headers=bearer(make_token()))
            body = {"action": "add_tags", "ids": selected, "tag_ids": [bulk_tag]}
            answers["bulk"] = client.post(BULK, json=body)
            done.append("bulk")

        def meanwhile() -> None:
            client = TestClient(api.app, headers=bearer(make_token()))
            path = f"/api/media-assets/{outside}/tags"
            answers["write"] = client.post(path, json={"tag_ids": [bulk_tag]})
            done.append("write")
            answers["tag"] = client.post("/api/tags", json={"name": "Created meanwhile"})
            done.append("tag")
            answers["list"] = client.get("/api/media-assets", params={"tag_ids": bulk_tag})
            done.append("list")

        holder = db.connect()
        holder.execute(text(f"SELECT pg_advisory_lock({HOLD_KEY})"))
        holder.commit()
        bulk = threading.Thread(target=run_bulk)
        other = threading.Thread(target=meanwhile)
        bulk.start()
        try:
            _waiting_on_a_lock(db)
            other.start()
            other.join(timeout=60)
            assert not other.is_alive(), f"requests waited for the bulk change: {done}"
            assert bulk.is_alive()
        finally:
            holder.execute(text(f"SELECT pg_advisory_unlock({HOLD_KEY})"))
            holder.close()
            bulk.join(timeout=300)
            other.join(timeout=60)
        assert done == ["write", "tag", "list", "bulk"]
        assert answers["write"].status_code == 200, answers["write"].text
        assert "x-index-status" not in answers["write"].headers
        assert answers["tag"].status_code == 201, answers["tag"].text
        assert names(answers["list"].json()) == ["outside.pdf"]  # the bulk not committed
        assert answers["bulk"].status_code == 200, answers["bulk"].text
        assert "x-index-status" not in answers["bulk"].headers
        assert answers["bulk"].json() == {"matched": MANY, "changed": MANY}
        assert listing(api, tag_ids=bulk_tag, limit=0)["total"] == MANY + 1
        assert api.get(f"/api/tags/{bulk_tag}").json()["asset_count"] == MANY + 1
