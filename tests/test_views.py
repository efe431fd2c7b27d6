"""Saved views: create, read, list, rename and replace, delete; the query validated as the
list validates its parameters, stored normalised, and giving the same page when sent back
to the list; unique names; who may change a view."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from service.views.schemas import MAX_QUERY_CHARACTERS
from tests.conftest import (
    assert_utc,
    bearer,
    create_record,
    create_tag,
    make_token,
    random_id,
)

VIEW_FIELDS = {"id", "name", "query", "created_by", "created_at", "updated_at"}


def create_view(
    client: TestClient, name: str = "Wallets", query: dict[str, Any] | None = None
) -> dict[str, Any]:
    response = client.post("/api/views", json={"name": name, "query": query or {}})
    assert response.status_code == 201, response.text
    view: dict[str, Any] = response.json()
    return view


def as_user(client: TestClient, sub: str, scope: str = "media:read media:write") -> TestClient:
    """Another client of the same running app, for `sub` with `scope`."""
    return TestClient(client.app, headers=bearer(make_token(sub=sub, scope=scope)))


def listed(client: TestClient, **params: Any) -> dict[str, Any]:
    response = client.get("/api/views", params=params)
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    return page


def assets_page(client: TestClient, params: dict[str, Any]) -> dict[str, Any]:
    response = client.get("/api/media-assets", params=params)
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    return page


# Create and read


def test_create_returns_the_view(client: TestClient) -> None:
    response = client.post("/api/views", json={"name": "  Saddles \u3000", "query": {}})
    assert response.status_code == 201, response.text
    view = response.json()
    assert set(view) == VIEW_FIELDS
    assert (view["name"], view["query"], view["created_by"]) == ("Saddles", {}, "alice")
    assert assert_utc(view["created_at"]) == assert_utc(view["updated_at"])
    assert client.get(f"/api/views/{view['id']}").json() == view


def test_the_query_is_kept_normalised_and_minimal(client: TestClient) -> None:
    tag = random_id()
    sent = {
        "file_type": "PDF",  # one value for a repeated parameter
        "uploaded_by": ["alice", "bob"],
        "tag_ids": tag.upper(),
        "exclude_tag_ids": [],  # no more than absent
        "facets": "tags, file_type",  # comma-separated, padded
        "uploaded_after": "2026-11-24",  # no time, no offset: UTC midnight
        "uploaded_before": "2026-11-25T12:00:00+02:00",
        "sort_by": "file_name",
        "sort_dir": "desc",  # the default
        "tag_match": "any",
        "untagged": False,  # the default
        "search": None,  # the default
        "limit": 20.0,  # an integer to JSON
        "skip": 0,
    }
    view = create_view(client, query=sent)
    assert view["query"] == {
        "file_type": ["PDF"],
        "uploaded_by": ["alice", "bob"],
        "tag_ids": [tag],
        "tag_match": "any",
        "uploaded_after": "2026-11-24T00:00:00Z",
        "uploaded_before": "2026-11-25T10:00:00Z",
        "limit": 20,
        "sort_by": "file_name",
        "facets": ["tags", "file_type"],
    }
    # The normalised form is itself a valid query, kept as it is.
    again = client.put(f"/api/views/{view['id']}", json={"query": view["query"]})
    assert again.status_code == 200, again.text
    assert again.json()["query"] == view["query"]
    assert again.json()["updated_at"] == view["updated_at"]  # nothing changed


def test_comma_separated_tag_ids_are_kept_one_id_an_item(client: TestClient) -> None:
    first, second, third = random_id(), random_id(), random_id()
    view = create_view(
        client, query={"tag_ids": f"{first}, {second}", "exclude_tag_ids": [f"{third}"]}
    )
    assert view["query"] == {"tag_ids": [first, second], "exclude_tag_ids": [third]}
    bad = client.post("/api/views", json={"name": "Bad", "query": {"tag_ids": f"{first},x"}})
    assert bad.status_code == 422, bad.text
    assert bad.json()["detail"][0]["loc"][:3] == ["body", "query", "tag_ids"]


def test_the_stored_query_sent_back_to_the_list_gives_the_same_page(client: TestClient) -> None:
    leather = create_tag(client, "Leather")["id"]
    suede = create_tag(client, "Suede")["id"]
    for name, tags in [
        ("wallet.pdf", [leather]),
        ("belt.pdf", [leather, suede]),
        ("saddle.pdf", [leather]),
        ("strap.csv", [leather]),
        ("glove.pdf", [suede]),
        ("bag.pdf", []),
    ]:
        create_record(client, name, tag_ids=tags)
    params: dict[str, Any] = {
        "tag_ids": [leather],
        "exclude_tag_ids": [suede],
        "file_type": ["PDF"],
        "sort_by": "file_name",
        "sort_dir": "asc",
        "limit": 1,
        "skip": 1,
        "facets": ["tags,file_type"],
        "disjunctive_facets": ["tags"],
    }
    expected = assets_page(client, params)
    assert [item["file_name"] for item in expected["items"]] == ["wallet.pdf"]
    assert expected["total"] == 2
    assert expected["facets"]

    view = create_view(client, "Leather PDFs", params)
    stored = client.get(f"/api/views/{view['id']}").json()["query"]
    assert assets_page(client, stored) == expected
    # And the same through the list of views.
    (listed_view,) = listed(client)["items"]
    assert assets_page(client, listed_view["query"]) == expected


def test_a_query_naming_an_unknown_tag_is_kept_and_matches_nothing(client: TestClient) -> None:
    create_record(client, "wallet.pdf")
    view = create_view(client, query={"tag_ids": [random_id()]})
    assert assets_page(client, view["query"])["total"] == 0


def test_every_reader_sees_every_view(client: TestClient) -> None:
    mine = create_view(client, "Mine")
    theirs = create_view(as_user(client, "bob"), "Theirs")
    reader = as_user(client, "carol", scope="media:read")
    page = listed(reader)
    assert [view["id"] for view in page["items"]] == [mine["id"], theirs["id"]]
    assert [view["created_by"] for view in page["items"]] == ["alice", "bob"]
    assert reader.get(f"/api/views/{theirs['id']}").json() == theirs


# The list of views


def test_list_is_by_name_case_insensitively_with_paging(client: TestClient) -> None:
    for name in ["beta", "Alpha", "delta", "Charlie", "echo"]:
        create_view(client, name)
    page = listed(client)
    assert [view["name"] for view in page["items"]] == ["Alpha", "beta", "Charlie", "delta", "echo"]
    assert (page["total"], page["skip"], page["limit"]) == (5, 0, 100)
    second = listed(client, skip=2, limit=2)
    assert [view["name"] for view in second["items"]] == ["Charlie", "delta"]
    assert (second["total"], second["skip"], second["limit"]) == (5, 2, 2)
    assert listed(client, skip=10)["items"] == []
    assert listed(client, skip=2**63)["items"] == []


def test_an_empty_list_is_an_empty_page(client: TestClient) -> None:
    assert listed(client) == {"items": [], "total": 0, "skip": 0, "limit": 100}


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 1001}, {"skip": -1}, {"limit": "x"}])
def test_list_parameters_outside_their_range_are_422(
    client: TestClient, params: dict[str, Any]
) -> None:
    assert client.get("/api/views", params=params).status_code == 422


# Update and delete


def test_rename_and_replace_the_query(client: TestClient) -> None:
    view = create_view(client, "Old", {"file_type": "pdf", "limit": 10})
    renamed = client.put(f"/api/views/{view['id']}", json={"name": " New "})
    assert renamed.status_code == 200, renamed.text
    assert (renamed.json()["name"], renamed.json()["query"]) == ("New", view["query"])
    assert assert_utc(renamed.json()["updated_at"]) > assert_utc(view["updated_at"])
    assert renamed.json()["created_at"] == view["created_at"]

    # The query is replaced as a whole, not merged.
    replaced = client.put(f"/api/views/{view['id']}", json={"query": {"search": "wallet"}})
    assert replaced.status_code == 200, replaced.text
    assert (replaced.json()["name"], replaced.json()["query"]) == ("New", {"search": "wallet"})

    both = client.put(f"/api/views/{view['id']}", json={"name": "Both", "query": {}})
    assert (both.json()["name"], both.json()["query"]) == ("Both", {})
    assert client.get(f"/api/views/{view['id']}").json() == both.json()


def test_an_update_that_changes_nothing_keeps_updated_at(client: TestClient) -> None:
    view = create_view(client, "Same", {"limit": 5})
    for body in [{}, {"name": "Same"}, {"query": {"limit": 5}}, {"query": {"limit": 5.0}}]:
        response = client.put(f"/api/views/{view['id']}", json=body)
        assert response.status_code == 200, response.text
        assert response.json() == view


def test_delete_removes_the_view(client: TestClient) -> None:
    view = create_view(client)
    assert client.delete(f"/api/views/{view['id']}").status_code == 204
    assert client.get(f"/api/views/{view['id']}").status_code == 404
    assert listed(client)["total"] == 0
    # The name is free again.
    create_view(client, view["name"])


# Names


@pytest.mark.parametrize("name", ["", "   ", "\t\u3000", "a" * 101, "two\nlines", "nul\x00"])
def test_bad_names_are_422(client: TestClient, name: str) -> None:
    response = client.post("/api/views", json={"name": name, "query": {}})
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == ["body", "name"]
    assert listed(client)["total"] == 0


def test_a_name_of_100_characters_after_trimming_is_accepted(client: TestClient) -> None:
    assert create_view(client, " " + "a" * 100 + "\t")["name"] == "a" * 100


@pytest.mark.parametrize("other", ["Wallets", "wallets", " WALLETS "])
def test_a_duplicate_name_is_409_case_insensitively(client: TestClient, other: str) -> None:
    create_view(client, "Wallets")
    response = as_user(client, "bob").post("/api/views", json={"name": other, "query": {}})
    assert response.status_code == 409, response.text
    assert "already exists" in response.json()["detail"]
    assert listed(client)["total"] == 1


def test_a_rename_onto_another_views_name_is_409(client: TestClient) -> None:
    create_view(client, "Wallets")
    belts = create_view(client, "Belts", {"search": "belt"})
    response = client.put(f"/api/views/{belts['id']}", json={"name": "WALLETS"})
    assert response.status_code == 409, response.text
    assert "already exists" in response.json()["detail"]
    assert client.get(f"/api/views/{belts['id']}").json() == belts


def test_a_rename_to_its_own_name_in_another_case_is_allowed(client: TestClient) -> None:
    view = create_view(client, "wallets")
    response = client.put(f"/api/views/{view['id']}", json={"name": "Wallets"})
    assert response.status_code == 200, response.text
    assert response.json()["name"] == "Wallets"


# The query's validation: as the list's, located under body.query


# A fixed id, not a random one: parameters name the tests, and pytest-xdist's workers
# must collect the same names.
NO_SUCH_TAG = "6c95d0be-34d0-49eb-b25e-2053281dbed2"
# Each is 422 from the list as a query string too.
LIST_PARAMETER_ERRORS: list[tuple[dict[str, Any], list[str | int]]] = [
    ({"sort_by": "size"}, ["sort_by"]),
    ({"sort_dir": "up"}, ["sort_dir"]),
    ({"tag_match": "some"}, ["tag_match"]),
    ({"facets": "tags,colour"}, ["facets"]),
    ({"orientation": "round"}, ["orientation", 0]),
    ({"search_in": ["names"]}, ["search_in"]),
    ({"limit": 1001}, ["limit"]),
    ({"limit": -1}, ["limit"]),
    ({"skip": -1}, ["skip"]),
    ({"limit": 2.5}, ["limit"]),
    ({"tag_ids": ["not-a-uuid"]}, ["tag_ids", 0]),
    ({"exclude_tag_ids": "1234"}, ["exclude_tag_ids", 0]),
    ({"facets": "file_type", "disjunctive_facets": "tags"}, ["disjunctive_facets"]),
    ({"untagged": True, "tag_ids": [NO_SUCH_TAG]}, ["untagged"]),
    ({"uploaded_after": "yesterday"}, ["uploaded_after"]),
    ({"uploaded_before": "2026-13-01T00:00:00Z"}, ["uploaded_before"]),
    ({"uploaded_after": 1764000000}, ["uploaded_after"]),  # a number is not a datetime
    ({"search": "w" * 1001}, ["search"]),
]
# Only a JSON object can say these: a key the list would ignore in a query string, and
# values of the wrong JSON type (the query string's text for a number or a boolean).
JSON_ERRORS: list[tuple[dict[str, Any], list[str | int]]] = [
    ({"tagIds": [NO_SUCH_TAG]}, ["tagIds"]),
    ({"file_type": [1]}, ["file_type", 0]),
    ({"limit": "5"}, ["limit"]),
    ({"limit": True}, ["limit"]),
    ({"untagged": "true"}, ["untagged"]),
    ({"highlight": 1}, ["highlight"]),
    ({"untagged": None}, ["untagged"]),
]


@pytest.mark.parametrize(("query", "loc"), LIST_PARAMETER_ERRORS + JSON_ERRORS, ids=str)
def test_a_bad_list_parameter_is_422_under_body_query(
    client: TestClient, query: dict[str, Any], loc: list[str | int]
) -> None:
    response = client.post("/api/views", json={"name": "Bad", "query": query})
    assert response.status_code == 422, response.text
    assert [error["loc"] for error in response.json()["detail"]] == [["body", "query", *loc]]
    assert response.json()["detail"][0]["msg"]

    view = create_view(client, "Good", {"limit": 7})
    response = client.put(f"/api/views/{view['id']}", json={"query": query})
    assert response.status_code == 422, response.text
    assert [error["loc"] for error in response.json()["detail"]] == [["body", "query", *loc]]
    assert listed(client)["items"] == [view]


@pytest.mark.parametrize(("query", "loc"), LIST_PARAMETER_ERRORS, ids=str)
def test_the_list_refuses_the_same_parameters(
    client: TestClient, query: dict[str, Any], loc: list[str | int]
) -> None:
    response = client.get("/api/media-assets", params=query)
    assert response.status_code == 422, response.text
    assert [error["loc"][1:] for error in response.json()["detail"]] == [loc]


def test_every_bad_parameter_is_named_at_once(client: TestClient) -> None:
    query = {"limit": "5", "sort_by": "size", "untagged": "yes"}
    response = client.post("/api/views", json={"name": "Bad", "query": query})
    assert response.status_code == 422, response.text
    locs = sorted(error["loc"][-1] for error in response.json()["detail"])
    assert locs == ["limit", "sort_by", "untagged"]


@pytest.mark.parametrize("query", [[], "tags", 5, None])
def test_a_query_that_is_not_an_object_is_422(client: TestClient, query: Any) -> None:
    response = client.post("/api/views", json={"name": "Bad", "query": query})
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"][:2] == ["body", "query"]


def test_a_query_past_its_size_is_422_with_a_sentence(client: TestClient) -> None:
    uploaders = ["u" * 200 for _ in range(MAX_QUERY_CHARACTERS // 200)]
    response = client.post("/api/views", json={"name": "Big", "query": {"uploaded_by": uploaders}})
    assert response.status_code == 422, response.text
    (error,) = response.json()["detail"]
    assert error["loc"] == ["body", "query"]
    assert "at most 16384 characters" in error["msg"]
    assert listed(client)["total"] == 0


@pytest.mark.parametrize(
    "body",
    [
        {"name": "No query"},
        {"query": {}},
        {"name": "Extra", "query": {}, "owner": "bob"},
        {"name": None, "query": {}},
    ],
    ids=str,
)
def test_malformed_create_bodies_are_422(client: TestClient, body: dict[str, Any]) -> None:
    assert client.post("/api/views", json=body).status_code == 422
    assert listed(client)["total"] == 0


@pytest.mark.parametrize(
    "body", [{"name": None}, {"query": None}, {"created_by": "bob"}, {"name": ""}], ids=str
)
def test_malformed_update_bodies_are_422(client: TestClient, body: dict[str, Any]) -> None:
    view = create_view(client)
    assert client.put(f"/api/views/{view['id']}", json=body).status_code == 422
    assert client.get(f"/api/views/{view['id']}").json() == view


def test_malformed_json_is_422(client: TestClient) -> None:
    response = client.post(
        "/api/views",
        content=b'{"name": "x", "query": ',
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 422


# Who may change a view


def test_another_user_may_not_change_or_delete_a_view(client: TestClient) -> None:
    view = create_view(client, "Alice's", {"search": "wallet"})
    bob = as_user(client, "bob")
    for response in [
        bob.put(f"/api/views/{view['id']}", json={"name": "Bob's"}),
        bob.put(f"/api/views/{view['id']}", json={"query": {}}),
        bob.delete(f"/api/views/{view['id']}"),
    ]:
        assert response.status_code == 403, response.text
        assert "creator (alice)" in response.json()["detail"]
    assert client.get(f"/api/views/{view['id']}").json() == view


def test_the_permission_is_checked_before_the_name(client: TestClient) -> None:
    create_view(client, "Taken")
    theirs = create_view(as_user(client, "bob"), "Theirs")
    response = client.put(f"/api/views/{theirs['id']}", json={"name": "taken"})
    assert response.status_code == 403, response.text


def test_an_admin_may_change_and_delete_any_view(client: TestClient, admin: TestClient) -> None:
    view = create_view(client, "Alice's")
    response = admin.put(f"/api/views/{view['id']}", json={"name": "Renamed by root"})
    assert response.status_code == 200, response.text
    assert (response.json()["name"], response.json()["created_by"]) == ("Renamed by root", "alice")
    assert admin.delete(f"/api/views/{view['id']}").status_code == 204
    assert client.get(f"/api/views/{view['id']}").status_code == 404


def test_a_view_created_by_an_admin_is_theirs(admin: TestClient, client: TestClient) -> None:
    view = create_view(admin, "Root's")
    assert view["created_by"] == "root"
    assert client.delete(f"/api/views/{view['id']}").status_code == 403


# Tokens and scopes


def _every_route(client: TestClient, view_id: str) -> list[httpx.Response]:
    return [
        client.get("/api/views"),
        client.get(f"/api/views/{view_id}"),
        client.post("/api/views", json={"name": "New", "query": {}}),
        client.put(f"/api/views/{view_id}", json={"name": "Renamed"}),
        client.delete(f"/api/views/{view_id}"),
    ]


def test_no_token_is_401_on_every_route(client: TestClient, anonymous: TestClient) -> None:
    view = create_view(client)
    for response in _every_route(anonymous, view["id"]):
        assert response.status_code == 401, response.text
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert listed(client)["items"] == [view]


def test_a_read_token_reads_and_may_not_write(client: TestClient) -> None:
    view = create_view(client)
    # Even a view of its own user: writing needs media:write.
    reader = as_user(client, "alice", scope="media:read")
    statuses = [response.status_code for response in _every_route(reader, view["id"])]
    assert statuses == [200, 200, 403, 403, 403]
    assert listed(client)["items"] == [view]


def test_a_token_without_a_known_scope_is_403(client: TestClient) -> None:
    view = create_view(client)
    nobody = as_user(client, "alice", scope="media:other")
    statuses = [response.status_code for response in _every_route(nobody, view["id"])]
    assert statuses == [403] * 5


# Unknown and malformed ids


def test_unknown_view_is_404(client: TestClient, admin: TestClient) -> None:
    unknown = random_id()
    for response in [
        client.get(f"/api/views/{unknown}"),
        client.put(f"/api/views/{unknown}", json={"name": "x"}),
        admin.put(f"/api/views/{unknown}", json={"query": {}}),
        client.delete(f"/api/views/{unknown}"),
    ]:
        assert response.status_code == 404, response.text
        assert unknown in response.json()["detail"]


@pytest.mark.parametrize("bad", ["not-a-uuid", "1234", "0" * 33])
def test_malformed_view_id_is_422(client: TestClient, bad: str) -> None:
    assert client.get(f"/api/views/{bad}").status_code == 422
    assert client.put(f"/api/views/{bad}", json={"name": "x"}).status_code == 422
    assert client.delete(f"/api/views/{bad}").status_code == 422


def test_no_trailing_slash_redirect(client: TestClient) -> None:
    response = client.get("/api/views/", follow_redirects=False)
    assert response.status_code == 404


@pytest.mark.parametrize("ids", [[None, None], False, [1], [True]])
def test_tag_ids_that_are_not_text_are_422(client: TestClient, ids: Any) -> None:
    for name in ("tag_ids", "exclude_tag_ids"):
        response = client.post("/api/views", json={"name": "Odd", "query": {name: ids}})
        assert response.status_code == 422, response.text
        assert response.json()["detail"][0]["loc"][:3] == ["body", "query", name]
