"""Tag routes: create, read, update, delete, list with paging and sorting, and asset counts."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.config import Settings
from tests import samples
from tests.conftest import (
    assert_utc,
    create_record,
    create_tag,
    random_id,
    row_counts,
    tag_names,
    uploaded,
)


def listed(client: TestClient, **params: Any) -> dict[str, Any]:
    response = client.get("/api/tags", params=params)
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    return page


def names(page: dict[str, Any]) -> list[str]:
    return [tag["name"] for tag in page["items"]]


def tag_asset(client: TestClient, asset_id: str, *tag_ids: str) -> None:
    response = client.post(f"/api/media-assets/{asset_id}/tags", json={"tag_ids": list(tag_ids)})
    assert response.status_code == 200, response.text


# Create


def test_create_returns_the_tag(client: TestClient) -> None:
    response = client.post(
        "/api/tags", json={"name": "  Vegetable tanned ", "description": "Firm", "color": "#8B4513"}
    )
    assert response.status_code == 201
    tag = response.json()
    assert set(tag) == {
        "id",
        "name",
        "description",
        "color",
        "created_at",
        "updated_at",
        "asset_count",
    }
    assert tag["name"] == "Vegetable tanned"
    assert (tag["description"], tag["color"], tag["asset_count"]) == ("Firm", "#8B4513", 0)
    assert_utc(tag["created_at"])
    assert_utc(tag["updated_at"])
    assert client.get(f"/api/tags/{tag['id']}").json() == tag


def test_create_with_only_a_name_leaves_the_rest_null(client: TestClient) -> None:
    tag = create_tag(client, "Suede")
    assert (tag["description"], tag["color"]) == (None, None)


@pytest.mark.parametrize("color", ["#abc", "#ABC", "#a0522d", "#A0522D", "#000"])
def test_hex_colors_are_accepted(client: TestClient, color: str) -> None:
    assert create_tag(client, "Tan", color=color)["color"] == color


@pytest.mark.parametrize("color", ["abc", "#ab", "#abcd", "#abcdefa", "#ggg", "red", "", " #abc"])
def test_bad_colors_are_422(client: TestClient, settings: Settings, color: str) -> None:
    response = client.post("/api/tags", json={"name": "Tan", "color": color})
    assert response.status_code == 422
    assert isinstance(response.json()["detail"], list)
    assert row_counts(settings)["tag"] == 0


@pytest.mark.parametrize("name", ["", "   ", "\t\n", "x" * 101, " " + "x" * 101 + " "])
def test_empty_or_long_names_are_422(client: TestClient, settings: Settings, name: str) -> None:
    response = client.post("/api/tags", json={"name": name})
    assert response.status_code == 422
    assert row_counts(settings)["tag"] == 0


def test_name_of_100_characters_after_trimming_is_accepted(client: TestClient) -> None:
    assert create_tag(client, "  " + "x" * 100 + "  ")["name"] == "x" * 100


@pytest.mark.parametrize("body", [{}, {"name": None}, {"name": 5}, {"name": "A", "extra": 1}])
def test_malformed_bodies_are_422(client: TestClient, body: dict[str, Any]) -> None:
    assert client.post("/api/tags", json=body).status_code == 422


@pytest.mark.parametrize("body", [b'{"name": "A",', b'{"name": "\xff"}', b"\x0e\xf74\xc4"])
def test_malformed_json_is_422(client: TestClient, settings: Settings, body: bytes) -> None:
    response = client.post("/api/tags", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 422, response.text
    assert isinstance(response.json()["detail"], list)
    assert row_counts(settings)["tag"] == 0


@pytest.mark.parametrize("duplicate", ["Leather", " leather ", "LEATHER", "leather"])
def test_duplicate_name_is_409_case_insensitively(
    client: TestClient, settings: Settings, duplicate: str
) -> None:
    create_tag(client, "Leather")
    response = client.post("/api/tags", json={"name": duplicate})
    assert response.status_code == 409
    assert isinstance(response.json()["detail"], str)
    assert row_counts(settings)["tag"] == 1


# Get


def test_get_unknown_tag_is_404(client: TestClient) -> None:
    response = client.get(f"/api/tags/{random_id()}")
    assert response.status_code == 404
    assert isinstance(response.json()["detail"], str)


@pytest.mark.parametrize("bad", ["not-a-uuid", "123", "00000000-0000-0000-0000-00000000000g"])
def test_malformed_tag_id_is_422(client: TestClient, bad: str) -> None:
    assert client.get(f"/api/tags/{bad}").status_code == 422
    assert client.put(f"/api/tags/{bad}", json={"color": "#fff"}).status_code == 422
    assert client.delete(f"/api/tags/{bad}").status_code == 422
    assert client.get(f"/api/tags/{bad}/count").status_code == 422


# Update


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"name": "  Bridle "}, {"name": "Bridle", "description": "Firm", "color": "#fff"}),
        ({"description": "Soft"}, {"name": "Leather", "description": "Soft", "color": "#fff"}),
        ({"color": "#123456"}, {"name": "Leather", "description": "Firm", "color": "#123456"}),
        ({"description": None}, {"name": "Leather", "description": None, "color": "#fff"}),
        ({"color": None}, {"name": "Leather", "description": "Firm", "color": None}),
        ({}, {"name": "Leather", "description": "Firm", "color": "#fff"}),
    ],
)
def test_update_changes_only_the_given_fields(
    client: TestClient, change: dict[str, Any], expected: dict[str, Any]
) -> None:
    tag = create_tag(client, "Leather", description="Firm", color="#fff")
    response = client.put(f"/api/tags/{tag['id']}", json=change)
    assert response.status_code == 200, response.text
    updated = response.json()
    assert {key: updated[key] for key in expected} == expected
    assert updated["created_at"] == tag["created_at"]
    assert_utc(updated["updated_at"])
    assert client.get(f"/api/tags/{tag['id']}").json() == updated


def test_update_moves_updated_at(client: TestClient) -> None:
    tag = create_tag(client, "Leather")
    updated = client.put(f"/api/tags/{tag['id']}", json={"color": "#fff"}).json()
    assert assert_utc(updated["updated_at"]) > assert_utc(tag["updated_at"])


@pytest.mark.parametrize("target", ["Suede", " suede ", "SUEDE"])
def test_rename_onto_another_tag_is_409(client: TestClient, target: str) -> None:
    create_tag(client, "Suede")
    tag = create_tag(client, "Leather")
    response = client.put(f"/api/tags/{tag['id']}", json={"name": target})
    assert response.status_code == 409
    assert client.get(f"/api/tags/{tag['id']}").json()["name"] == "Leather"


def test_rename_to_own_name_in_another_case_is_allowed(client: TestClient) -> None:
    tag = create_tag(client, "Leather")
    response = client.put(f"/api/tags/{tag['id']}", json={"name": "LEATHER"})
    assert response.status_code == 200
    assert response.json()["name"] == "LEATHER"


@pytest.mark.parametrize(
    "body", [{"name": None}, {"name": "  "}, {"name": "x" * 101}, {"color": "blue"}, {"x": 1}]
)
def test_invalid_update_is_422_and_changes_nothing(
    client: TestClient, body: dict[str, Any]
) -> None:
    tag = create_tag(client, "Leather", color="#fff")
    response = client.put(f"/api/tags/{tag['id']}", json=body)
    assert response.status_code == 422
    assert client.get(f"/api/tags/{tag['id']}").json() == tag


def test_update_unknown_tag_is_404(client: TestClient) -> None:
    assert client.put(f"/api/tags/{random_id()}", json={"name": "X"}).status_code == 404


# Delete


def test_delete_removes_the_tag_and_its_links(client: TestClient, settings: Settings) -> None:
    keep = create_tag(client, "Suede")
    tag = create_tag(client, "Leather")
    asset = uploaded(client, "wallet.png", samples.png(), tag_ids=[tag["id"], keep["id"]])
    response = client.delete(f"/api/tags/{tag['id']}")
    assert response.status_code == 204
    assert response.content == b""
    assert client.get(f"/api/tags/{tag['id']}").status_code == 404
    assert client.get(f"/api/tags/{tag['id']}/count").status_code == 404
    assert client.delete(f"/api/tags/{tag['id']}").status_code == 404
    assert tag_names(client.get(f"/api/media-assets/{asset['id']}").json()) == ["Suede"]
    assert row_counts(settings)["media_asset_tag"] == 1
    # The name is free again.
    assert create_tag(client, "leather")["asset_count"] == 0


def test_delete_unknown_tag_is_404(client: TestClient) -> None:
    assert client.delete(f"/api/tags/{random_id()}").status_code == 404


# Counts


def test_asset_count_follows_links(client: TestClient) -> None:
    tag = create_tag(client, "Leather")
    first = create_record(client, "a.pdf", tag_ids=[tag["id"]])
    create_record(client, "b.pdf", tag_ids=[tag["id"]])
    create_record(client, "c.pdf")
    assert client.get(f"/api/tags/{tag['id']}").json()["asset_count"] == 2
    count = client.get(f"/api/tags/{tag['id']}/count")
    assert count.status_code == 200
    assert count.json() == 2
    assert count.text.strip() == "2"
    assert listed(client)["items"][0]["asset_count"] == 2
    assert client.delete(f"/api/media-assets/{first['id']}").status_code == 204
    assert client.get(f"/api/tags/{tag['id']}/count").json() == 1


def test_asset_count_stays_exact_through_every_link_change(client: TestClient) -> None:
    """The count is kept by the database: each way a link appears or goes moves it once."""
    first, second = create_tag(client, "Leather"), create_tag(client, "Suede")
    asset = create_record(client, "a.pdf", tag_ids=[first["id"]])

    def counts() -> tuple[int, int]:
        return (
            client.get(f"/api/tags/{first['id']}/count").json(),
            client.get(f"/api/tags/{second['id']}/count").json(),
        )

    tag_asset(client, asset["id"], first["id"], second["id"])  # one new, one already there
    assert counts() == (1, 1)
    body = {"tag_ids": [first["id"]]}
    assert client.request("DELETE", f"/api/media-assets/{asset['id']}/tags", json=body).json()
    assert counts() == (0, 1)
    assert client.request("DELETE", f"/api/media-assets/{asset['id']}/tags", json=body).json()
    assert counts() == (0, 1)  # removing an absent tag changes nothing
    replaced = client.put(f"/api/media-assets/{asset['id']}", json={"tag_ids": [first["id"]]})
    assert [tag["asset_count"] for tag in replaced.json()["tags"]] == [1]
    assert counts() == (1, 0)
    create_record(client, "b.pdf", tag_ids=[first["id"], second["id"]])
    assert [tag["asset_count"] for tag in listed(client)["items"]] == [2, 1]
    assert client.delete(f"/api/media-assets/{asset['id']}").status_code == 204
    assert counts() == (1, 1)


def test_count_of_unused_tag_is_zero(client: TestClient) -> None:
    tag = create_tag(client, "Leather")
    assert client.get(f"/api/tags/{tag['id']}/count").json() == 0


def test_count_of_unknown_tag_is_404(client: TestClient) -> None:
    response = client.get(f"/api/tags/{random_id()}/count")
    assert response.status_code == 404
    assert isinstance(response.json()["detail"], str)


# List


def test_list_page_shape_and_default_order(client: TestClient) -> None:
    for name in ["suede", "Bridle", "awl", "Leather"]:
        create_tag(client, name)
    page = listed(client)
    assert (page["total"], page["skip"], page["limit"]) == (4, 0, 100)
    assert names(page) == ["awl", "Bridle", "Leather", "suede"]
    for tag in page["items"]:
        assert_utc(tag["created_at"])
        assert tag["asset_count"] == 0


def test_list_of_no_tags_is_an_empty_page(client: TestClient) -> None:
    assert listed(client) == {"items": [], "total": 0, "skip": 0, "limit": 100}


@pytest.mark.parametrize(
    "params",
    [
        {"skip": -1},
        {"limit": 0},
        {"limit": 1001},
        {"limit": -5},
        {"skip": "x"},
        {"limit": "ten"},
        {"sort_by": "color"},
        {"sort_by": "NAME"},
        {"sort_by": ""},
        {"sort_dir": "up"},
        {"sort_dir": "ASC"},
        {"sort_dir": ""},
    ],
)
def test_list_parameters_outside_their_range_are_422(
    client: TestClient, params: dict[str, Any]
) -> None:
    response = client.get("/api/tags", params=params)
    assert response.status_code == 422
    assert isinstance(response.json()["detail"], list)


def test_list_limit_bounds_are_inclusive(client: TestClient) -> None:
    create_tag(client, "A")
    create_tag(client, "B")
    assert names(listed(client, limit=1)) == ["A"]
    assert listed(client, limit=1000)["limit"] == 1000


def test_skip_past_the_end_is_an_empty_page(client: TestClient) -> None:
    create_tag(client, "A")
    assert listed(client, skip=5) == {"items": [], "total": 1, "skip": 5, "limit": 100}


def test_skip_beyond_any_database_integer_is_not_a_server_error(client: TestClient) -> None:
    create_tag(client, "A")
    lenient = TestClient(client.app, headers=client.headers, raise_server_exceptions=False)
    response = lenient.get("/api/tags", params={"skip": 2**63})
    assert response.status_code == 200, response.text
    assert response.json()["items"] == []
    assert response.json()["total"] == 1


def test_pages_concatenate_without_overlap(client: TestClient) -> None:
    created = [create_tag(client, f"tag {index:02d}")["id"] for index in range(11)]
    seen: list[str] = []
    for skip in range(0, 12, 4):
        page = listed(client, skip=skip, limit=4)
        assert page["total"] == 11
        seen += [tag["id"] for tag in page["items"]]
    assert seen == [tag["id"] for tag in listed(client)["items"]]
    assert sorted(seen) == sorted(created)


def test_sort_by_created_at(client: TestClient) -> None:
    for name in ["b", "c", "a"]:
        create_tag(client, name)
    assert names(listed(client, sort_by="created_at")) == ["b", "c", "a"]
    assert names(listed(client, sort_by="created_at", sort_dir="desc")) == ["a", "c", "b"]


def test_sort_by_name_descending(client: TestClient) -> None:
    for name in ["b", "C", "a"]:
        create_tag(client, name)
    assert names(listed(client, sort_by="name", sort_dir="desc")) == ["C", "b", "a"]


def test_sort_by_asset_count_with_stable_ties(client: TestClient) -> None:
    tags = {name: create_tag(client, name)["id"] for name in ["one", "two", "none", "also one"]}
    first = create_record(client, "a.pdf")["id"]
    second = create_record(client, "b.pdf")["id"]
    tag_asset(client, first, tags["one"], tags["two"], tags["also one"])
    tag_asset(client, second, tags["two"])
    ascending = listed(client, sort_by="asset_count")
    assert [tag["asset_count"] for tag in ascending["items"]] == [0, 1, 1, 2]
    assert names(ascending)[0] == "none" and names(ascending)[-1] == "two"
    descending = listed(client, sort_by="asset_count", sort_dir="desc")
    assert [tag["asset_count"] for tag in descending["items"]] == [2, 1, 1, 0]
    # Tied tags keep one order across pages, so paging neither repeats nor skips.
    paged = [
        tag["id"]
        for skip in range(4)
        for tag in listed(client, sort_by="asset_count", skip=skip, limit=1)["items"]
    ]
    assert paged == [tag["id"] for tag in ascending["items"]]


def test_name_filter_is_case_insensitive_contains(client: TestClient) -> None:
    for name in ["Leather", "Heat press", "Wool", "PLEAT"]:
        create_tag(client, name)
    page = listed(client, name="EAT")
    assert names(page) == ["Heat press", "Leather", "PLEAT"]
    assert page["total"] == 3
    assert names(listed(client, name="wOoL")) == ["Wool"]
    assert listed(client, name="cotton")["total"] == 0


def test_name_filter_treats_like_wildcards_literally(client: TestClient) -> None:
    for name in ["100% cotton", "1000 stitches", "snake_skin", "snakeskin"]:
        create_tag(client, name)
    assert names(listed(client, name="%")) == ["100% cotton"]
    assert names(listed(client, name="_")) == ["snake_skin"]


def test_search_matches_name_or_description(client: TestClient) -> None:
    create_tag(client, "Wallet", description="Brown bifold designs")
    create_tag(client, "Belt", description="Brown and black")
    create_tag(client, "Bag")
    assert names(listed(client, search="brown")) == ["Belt", "Wallet"]
    assert names(listed(client, search="wallet")) == ["Wallet"]
    assert names(listed(client, search="brown bifold")) == ["Wallet"]
    page = listed(client, search="purple")
    assert (page["items"], page["total"]) == ([], 0)


def test_list_total_counts_beyond_the_page(client: TestClient) -> None:
    for index in range(5):
        create_tag(client, f"Leather {index}")
    create_tag(client, "Wool")
    page = listed(client, name="leather", limit=2, skip=1)
    assert (page["total"], len(page["items"]), page["skip"], page["limit"]) == (5, 2, 1, 2)


def test_no_trailing_slash_redirect(client: TestClient) -> None:
    response = client.get("/api/tags/", follow_redirects=False)
    assert not response.is_redirect
    assert response.status_code == 404
