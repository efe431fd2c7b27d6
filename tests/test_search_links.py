"""Links in the index, the same on every engine: the `linked` and entity-type filters, the
entity_type facet (plain and disjunctive), an entity's gallery, list pages that carry
the links, read-your-writes for link changes, and `check` and `reindex` over links."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from indexer.documents import load_documents
from indexer.maintenance import find_drift, reindex
from indexer.query import SearchQuery, open_engine
from tests import samples
from tests.search_fixtures import listing, names, settled


def link(entity_type: str, entity_id: str) -> dict[str, str]:
    return {"entity_type": entity_type, "entity_id": entity_id}


def linked_upload(api: TestClient, name: str, body: bytes, links: list[str]) -> dict[str, Any]:
    response = api.post(
        "/api/media-assets/upload",
        files={"file": (name, body, "application/octet-stream")},
        data={"links": links},
    )
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def indexed(api: TestClient, *, timeout: float = 60) -> None:
    """Wait until the index has every write (on a loaded machine a write may answer
    `pending`; read-your-writes itself is held by its own test)."""
    deadline = time.monotonic() + timeout
    while api.get("/readyz").json()["index_lag"]["pending"]:
        assert time.monotonic() < deadline, "the index did not catch up"
        time.sleep(0.05)


@pytest.fixture
def linked_library(api: TestClient) -> dict[str, str]:
    """Four assets, uploaded in this order (the last is the newest): three linked to
    products, projects and a customer, one linked to nothing; their text and previews
    done and indexed, so that no later write of the worker's races a test's reads."""
    assets = {
        "saddle": linked_upload(api, "saddle.png", samples.png(), ["product:1", "project:P1"]),
        "belt": linked_upload(api, "belt.pdf", samples.pdf(), ["product:2"]),
        "strap": linked_upload(api, "strap.pdf", samples.pdf(), ["customer:ACME", "product:1"]),
        "notes": linked_upload(api, "notes.csv", samples.csv(), []),
    }
    for asset in assets.values():
        settled(api, asset["id"], "content")
        settled(api, asset["id"], "preview")
    return {key: asset["id"] for key, asset in assets.items()}


def found(api: TestClient, **params: Any) -> set[str]:
    page = listing(api, **params)
    assert page["total"] == len(page["items"])
    return set(names(page))


def engine_finds(api: TestClient, **fields: Any) -> set[str]:
    """The file names the app's engine finds for a query asked of it directly."""
    search = api.app.state.search  # type: ignore[attr-defined]
    result = search.search(SearchQuery(limit=1000, with_items=False, **fields))
    assert result.total == len(result.ids)
    by_id = {item["id"]: item["file_name"] for item in listing(api, limit=1000)["items"]}
    return {by_id[asset_id] for asset_id in result.ids}


def test_linked_is_any_of_the_entities(api, linked_library) -> None:
    assert found(api, linked="product:1") == {"saddle.png", "strap.pdf"}
    assert found(api, linked=["product:1", "product:2"]) == {"saddle.png", "belt.pdf", "strap.pdf"}
    assert found(api, linked="product:3") == set()
    # Ids are trimmed as when stored, and otherwise exact: case tells them apart, and
    # the type is part of the link.
    assert found(api, linked="customer: ACME ") == {"strap.pdf"}
    assert found(api, linked="customer:acme") == set()
    assert found(api, linked="project:1") == set()


def test_linked_all_is_every_one_of_them(api, linked_library) -> None:
    # What a gallery adds for its entity, beside the list's own `linked`.
    assert engine_finds(api, linked_all=["product:1"], linked=["customer:ACME"]) == {"strap.pdf"}
    assert engine_finds(api, linked_all=["product:1", "project:P1"]) == {"saddle.png"}
    assert engine_finds(api, linked_all=["product:1", "product:2"]) == set()


def test_entity_type_is_any_of_the_types(api, linked_library) -> None:
    assert found(api, entity_type="customer") == {"strap.pdf"}
    assert found(api, entity_type=["project", "customer"]) == {"saddle.png", "strap.pdf"}
    assert found(api, entity_type="product") == {"saddle.png", "belt.pdf", "strap.pdf"}
    assert found(api, entity_type="documentation") == set()


def test_link_filters_combine_with_the_others(api, linked_library) -> None:
    assert found(api, linked="product:1", file_type="pdf") == {"strap.pdf"}
    assert found(api, entity_type="product", search="belt") == {"belt.pdf"}
    assert found(api, entity_type="project", linked="product:2") == set()
    assert found(api, entity_type="product", untagged="true") == {
        "saddle.png",
        "belt.pdf",
        "strap.pdf",
    }


@pytest.mark.parametrize(
    "params",
    [
        {"linked": "product"},  # no `:`
        {"linked": "product:"},
        {"linked": "supplier:1"},
        {"linked": "Product:1"},
        {"linked": "product:a\u200bb"},
        {"linked": "product:" + "x" * 101},
        {"entity_type": "supplier"},
        {"entity_type": ""},
        {"facets": "entity_types"},
    ],
)
def test_bad_link_parameters_are_422(api, params: dict[str, Any]) -> None:
    response = api.get("/api/media-assets", params=params)
    assert response.status_code == 422, response.text
    error = response.json()["detail"][0]
    assert error["loc"][0] == "query" and error["msg"]


def test_an_unknown_type_in_a_filter_is_named_with_the_allowed_ones(api) -> None:
    response = api.get("/api/media-assets", params={"linked": ["product:1", "supplier:1"]})
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["query", "linked", 1]
    assert "project, product, customer, documentation" in error["msg"]
    assert "supplier" in error["msg"]


def test_the_entity_type_facet_counts_assets_per_type(api, linked_library) -> None:
    page = listing(api, facets="entity_type,file_type", limit=0)
    assert page["total"] == 4
    assert page["facets"]["entity_type"] == [
        {"value": "product", "count": 3},
        {"value": "customer", "count": 1},
        {"value": "project", "count": 1},
    ]
    plain = listing(api, entity_type="customer", facets="entity_type")
    assert plain["total"] == 1
    assert plain["facets"]["entity_type"] == [
        {"value": "customer", "count": 1},
        {"value": "product", "count": 1},
    ]
    # Disjunctive: counted as if the type filter were absent, the other filters kept.
    either = listing(
        api,
        entity_type="customer",
        file_type="pdf",
        facets="entity_type,file_type",
        disjunctive_facets="entity_type",
    )
    assert names(either) == ["strap.pdf"]
    assert either["facets"]["entity_type"] == [
        {"value": "product", "count": 2},
        {"value": "customer", "count": 1},
    ]
    assert either["facets"]["file_type"] == [{"value": ".pdf", "count": 1}]
    # `linked` is not the facet's own filter: it narrows the counts either way.
    narrowed = listing(
        api,
        linked="product:2",
        entity_type="customer",
        facets="entity_type",
        disjunctive_facets="entity_type",
    )
    assert narrowed["total"] == 0
    assert narrowed["facets"]["entity_type"] == [{"value": "product", "count": 1}]


def test_list_pages_carry_the_links_as_the_asset_json_does(api, linked_library) -> None:
    page = listing(api, limit=1000)
    for item in page["items"]:
        single = api.get(f"/api/media-assets/{item['id']}").json()
        assert item == single
        assert list(item) == list(single)
    strap = next(item for item in page["items"] if item["file_name"] == "strap.pdf")
    assert strap["links"] == [link("customer", "ACME"), link("product", "1")]


# The gallery: GET /api/links/{entity_type}/{entity_id}/assets


def gallery(api: TestClient, entity_type: str, entity_id: str, **params: Any) -> dict[str, Any]:
    response = api.get(f"/api/links/{entity_type}/{entity_id}/assets", params=params)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def test_the_gallery_lists_an_entitys_assets_newest_first(api, linked_library) -> None:
    page = gallery(api, "product", "1")
    assert names(page) == ["strap.pdf", "saddle.png"]
    assert page["total"] == 2 and page["skip"] == 0 and page["limit"] == 100
    assert page["items"][0] == api.get(f"/api/media-assets/{linked_library['strap']}").json()
    assert names(gallery(api, "product", "1", sort_by="file_name", sort_dir="asc")) == [
        "saddle.png",
        "strap.pdf",
    ]
    second = gallery(api, "product", "1", skip=1, limit=1)
    assert names(second) == ["saddle.png"] and second["total"] == 2
    assert gallery(api, "product", "1", limit=0) == {
        "items": [],
        "total": 2,
        "skip": 0,
        "limit": 0,
    }
    assert names(gallery(api, "customer", "ACME")) == ["strap.pdf"]


def test_the_gallery_takes_every_parameter_of_the_list(api, linked_library) -> None:
    assert names(gallery(api, "product", "1", file_type="png")) == ["saddle.png"]
    assert names(gallery(api, "product", "1", search="strap")) == ["strap.pdf"]
    # The list's `linked` is any of its own entities, on top of the gallery's one.
    assert names(gallery(api, "product", "1", linked=["customer:ACME", "product:2"])) == [
        "strap.pdf"
    ]
    page = gallery(api, "product", "1", facets="entity_type,file_type", limit=0)
    assert page["total"] == 2
    assert page["facets"]["entity_type"] == [
        {"value": "product", "count": 2},
        {"value": "customer", "count": 1},
        {"value": "project", "count": 1},
    ]
    assert page["facets"]["file_type"] == [
        {"value": ".pdf", "count": 1},
        {"value": ".png", "count": 1},
    ]
    for params in ({"sort_by": "colour"}, {"limit": 1001}, {"entity_type": "supplier"}):
        response = api.get("/api/links/product/1/assets", params=params)
        assert response.status_code == 422, response.text


def test_an_entity_without_assets_is_an_empty_page(api, linked_library) -> None:
    for entity_type, entity_id in [
        ("product", "404"),
        ("customer", "acme"),
        ("documentation", "1"),
    ]:
        assert gallery(api, entity_type, entity_id) == {
            "items": [],
            "total": 0,
            "skip": 0,
            "limit": 100,
        }


@pytest.mark.parametrize(
    "path",
    [
        "/api/links/supplier/1/assets",
        "/api/links/Product/1/assets",
        "/api/links/product/%20/assets",
        f"/api/links/product/{'x' * 101}/assets",
        "/api/links/product/a%00b/assets",
    ],
)
def test_a_gallery_of_an_unknown_type_or_a_bad_id_is_422(api, path: str) -> None:
    response = api.get(path)
    assert response.status_code == 422, response.text


def test_the_gallery_takes_ids_with_slashes_and_spaces(api) -> None:
    asset = linked_upload(api, "awl.png", samples.png(), ["documentation:guides/awl 2"])
    indexed(api)
    page = gallery(api, "documentation", "guides%2Fawl%202")
    assert [item["id"] for item in page["items"]] == [asset["id"]]
    # The same trimming as when it was stored.
    assert gallery(api, "documentation", "%20guides%2Fawl%202%20")["total"] == 1


def test_link_writes_are_visible_to_the_next_read(api, linked_library) -> None:
    notes = linked_library["notes"]
    added = api.post(f"/api/media-assets/{notes}/links", json={"links": [link("product", "2")]})
    assert added.status_code == 200 and "x-index-status" not in added.headers
    assert names(gallery(api, "product", "2")) == ["notes.csv", "belt.pdf"]
    api.request(
        "DELETE", f"/api/media-assets/{notes}/links", json={"links": [link("product", "2")]}
    )
    assert names(gallery(api, "product", "2")) == ["belt.pdf"]
    api.put(f"/api/media-assets/{linked_library['belt']}", json={"links": [link("project", "P1")]})
    assert gallery(api, "product", "2")["total"] == 0
    assert names(gallery(api, "project", "P1")) == ["belt.pdf", "saddle.png"]
    assert api.delete(f"/api/media-assets/{linked_library['saddle']}").status_code == 204
    assert names(gallery(api, "project", "P1")) == ["belt.pdf"]
    facet = listing(api, facets="entity_type", limit=0)["facets"]["entity_type"]
    assert facet == [
        {"value": "customer", "count": 1},
        {"value": "product", "count": 1},
        {"value": "project", "count": 1},
    ]


# check and reindex


def test_check_sees_a_link_change_the_index_missed(api, linked_library) -> None:
    state = api.app.state
    belt = linked_library["belt"]
    assert find_drift(state.engine, state.search).total == 0
    with Session(state.engine) as session:
        before = load_documents(session, [uuid.UUID(belt)])
    api.post(f"/api/media-assets/{belt}/links", json={"links": [link("customer", "ACME")]})
    assert find_drift(state.engine, state.search).total == 0
    # The index loses the new link (as if the indexer had applied an older state).
    state.search.apply(upserts=[doc for doc in before.values() if doc], deletes=[])
    assert find_drift(state.engine, state.search).stale == [belt]
    assert gallery(api, "customer", "ACME")["total"] == 1
    # A rebuild from the database brings the link back, searchable and in the JSON.
    reindex(state.engine, open_engine(state.settings.engine_config), show_progress=False)
    state.indexer.drain()
    assert find_drift(state.engine, state.search).total == 0
    page = gallery(api, "customer", "ACME")
    assert names(page) == ["strap.pdf", "belt.pdf"]
    assert page["items"][1]["links"] == [link("customer", "ACME"), link("product", "2")]
    assert listing(api, facets="entity_type", limit=0)["facets"]["entity_type"][1] == {
        "value": "customer",
        "count": 2,
    }
