"""Links from assets to other modules' entities over HTTP: the asset JSON, PUT, the add
and remove routes, the upload form, validation that changes nothing, and delete."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.exceptions import RequestValidationError
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import create_engine, text

from service.app import create_app
from service.config import Settings
from service.search.parameters import ListFilters
from tests import samples
from tests.conftest import (
    SettingsFactory,
    assert_same_asset,
    assert_utc,
    bearer,
    create_record,
    make_token,
    random_id,
    stored_files,
)


def link(entity_type: str, entity_id: str) -> dict[str, str]:
    return {"entity_type": entity_type, "entity_id": entity_id}


def fetch(client: TestClient, asset_id: str) -> dict[str, Any]:
    response = client.get(f"/api/media-assets/{asset_id}")
    assert response.status_code == 200, response.text
    asset: dict[str, Any] = response.json()
    return asset


def links_call(client: TestClient, method: str, asset_id: str, body: Any) -> Any:
    return client.request(method, f"/api/media-assets/{asset_id}/links", json=body)


def link_rows(settings: Settings) -> list[tuple[str, str]]:
    """Every link row, straight from the database the app writes."""
    engine = create_engine(settings.resolved_database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT entity_type, entity_id FROM media_asset_link")
            ).all()
            return sorted((row[0], row[1]) for row in rows)
    finally:
        engine.dispose()


def upload_with_links(client: TestClient, links: list[str], name: str = "wallet.png") -> Any:
    return client.post(
        "/api/media-assets/upload",
        files={"file": (name, samples.png(), "image/png")},
        data={"links": links},
    )


# The asset JSON


def test_links_are_in_the_asset_json_sorted_by_type_then_id(client: TestClient) -> None:
    asset = create_record(
        client,
        "a.pdf",
        links=[
            link("project", "b"),
            link("product", "10"),
            link("product", "9"),
            link("project", "B"),
        ],
    )
    expected = [
        link("product", "10"),
        link("product", "9"),
        link("project", "B"),
        link("project", "b"),
    ]
    assert asset["links"] == expected
    assert list(asset)[-2:] == ["links", "tags"]
    assert fetch(client, asset["id"])["links"] == expected
    assert create_record(client, "b.pdf")["links"] == []


def test_ids_are_trimmed_and_duplicates_kept_once(client: TestClient, settings: Settings) -> None:
    long_id = "x" * 100
    asset = create_record(
        client,
        "a.pdf",
        links=[
            link("customer", " ACME Ltd. "),
            link("customer", "ACME Ltd."),
            link("product", f"\t{long_id}\u3000"),
        ],
    )
    assert asset["links"] == [link("customer", "ACME Ltd."), link("product", long_id)]
    assert link_rows(settings) == [("customer", "ACME Ltd."), ("product", long_id)]


# PUT


def test_put_links_replaces_the_whole_set(client: TestClient, settings: Settings) -> None:
    asset = create_record(client, "a.pdf", links=[link("product", "1"), link("project", "2")])
    response = client.put(
        f"/api/media-assets/{asset['id']}",
        json={"links": [link("project", "2"), link("customer", "3")]},
    )
    assert response.status_code == 200, response.text
    changed = response.json()
    assert changed["links"] == [link("customer", "3"), link("project", "2")]
    assert assert_utc(changed["updated_at"]) > assert_utc(asset["updated_at"])
    assert fetch(client, asset["id"]) == changed
    # A rename alone leaves the links; the same set again changes nothing.
    renamed = client.put(f"/api/media-assets/{asset['id']}", json={"file_name": "b.pdf"}).json()
    assert renamed["links"] == changed["links"]
    same = client.put(f"/api/media-assets/{asset['id']}", json={"links": changed["links"]})
    assert same.json() == renamed
    cleared = client.put(f"/api/media-assets/{asset['id']}", json={"links": []}).json()
    assert cleared["links"] == [] and link_rows(settings) == []


# Adding and removing


def test_add_and_remove_links(client: TestClient) -> None:
    asset = create_record(client, "a.pdf", links=[link("product", "1")])
    added = links_call(
        client, "POST", asset["id"], {"links": [link("project", "P-7"), link("product", "1")]}
    )
    assert added.status_code == 200, added.text
    assert added.json()["links"] == [link("product", "1"), link("project", "P-7")]
    assert assert_utc(added.json()["updated_at"]) > assert_utc(asset["updated_at"])
    assert fetch(client, asset["id"]) == added.json()
    removed = links_call(client, "DELETE", asset["id"], {"links": [link("product", " 1 ")]})
    assert removed.status_code == 200, removed.text
    assert removed.json()["links"] == [link("project", "P-7")]
    assert fetch(client, asset["id"]) == removed.json()


@pytest.mark.parametrize("method", ["POST", "DELETE"])
def test_link_changes_that_change_nothing_are_no_ops(client: TestClient, method: str) -> None:
    asset = create_record(client, "a.pdf", links=[link("product", "1")])
    same = [link("product", "1")] if method == "POST" else [link("product", "2")]
    bodies: list[dict[str, Any]] = [{"links": same}, {"links": []}]
    for body in bodies:
        response = links_call(client, method, asset["id"], body)
        assert response.status_code == 200, response.text
        assert response.json() == asset


@pytest.mark.parametrize("method", ["POST", "DELETE"])
def test_links_on_an_unknown_asset_are_404(client: TestClient, method: str) -> None:
    response = links_call(client, method, random_id(), {"links": [link("product", "1")]})
    assert response.status_code == 404


# Validation: 422, and nothing changed


BAD_LINKS: list[Any] = [
    [link("supplier", "1")],  # not a configured type
    [link("Product", "1")],  # types are exact
    [link("product", "")],
    [link("product", " \t ")],
    [link("product", "x" * 101)],
    [link("product", "a\nb")],
    [link("product", "a\x00b")],
    [link("product", "a\u200bb")],  # a format character hides in an id
    [link("product", "a\u00a0b")],  # whitespace inside that is not a plain space
    [{"entity_type": "product"}],
    [{"entity_type": "product", "entity_id": "1", "extra": 1}],
    [{"entity_type": "product", "entity_id": 1}],
    "product:1",
    None,
    [link("product", "1")] * 1001,
]


@pytest.mark.parametrize("links", BAD_LINKS)
def test_bad_links_are_422_and_change_nothing(
    client: TestClient, settings: Settings, links: Any
) -> None:
    asset = create_record(client, "a.pdf", links=[link("product", "kept")])
    for method in ("POST", "DELETE"):
        assert links_call(client, method, asset["id"], {"links": links}).status_code == 422
    response = client.put(
        f"/api/media-assets/{asset['id']}", json={"file_name": "renamed.pdf", "links": links}
    )
    assert response.status_code == 422
    created = client.post("/api/media-assets", json={"file_name": "new.pdf", "links": links})
    assert created.status_code == 422
    assert fetch(client, asset["id"]) == asset
    assert link_rows(settings) == [("product", "kept")]
    assert len(client.get("/api/media-assets").json()["items"]) == 1


def test_an_unknown_type_is_a_sentence_naming_the_allowed_ones(client: TestClient) -> None:
    asset = create_record(client, "a.pdf")
    response = links_call(client, "POST", asset["id"], {"links": [link("supplier", "1")]})
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert isinstance(detail, str)
    assert "supplier" in detail
    assert "project, product, customer, documentation" in detail


# The upload form


def test_upload_takes_links_as_repeated_fields(client: TestClient) -> None:
    response = upload_with_links(client, ["product:123", "project: P:7 ", "product:123"])
    assert response.status_code == 201, response.text
    asset = response.json()
    # Split at the first `:`: the id may hold more.
    assert asset["links"] == [link("product", "123"), link("project", "P:7")]
    assert_same_asset(fetch(client, asset["id"]), asset)


@pytest.mark.parametrize(
    ("value", "said"),
    [
        ("product", "has no `:`"),
        ("supplier:1", "project, product, customer, documentation"),
        (" product:1", "project, product, customer, documentation"),
        ("product:", "must not be empty"),
        ("product:a\x7fb", "printable"),
        ("product:" + "x" * 101, "at most 100"),
    ],
)
def test_a_malformed_upload_link_is_422_with_a_sentence_and_keeps_nothing(
    client: TestClient, settings: Settings, value: str, said: str
) -> None:
    response = upload_with_links(client, ["product:1", value])
    assert response.status_code == 422, response.text
    error = response.json()["detail"][0]
    assert error["loc"] == ["body", "links"] and said in error["msg"]
    assert stored_files(settings) == []
    assert link_rows(settings) == []
    assert client.get("/api/media-assets").json()["total"] == 0


# Delete


def test_deleting_an_asset_removes_its_links(client: TestClient, settings: Settings) -> None:
    kept = create_record(client, "kept.pdf", links=[link("product", "1")])
    doomed = upload_with_links(client, ["product:1", "customer:9"]).json()
    assert len(link_rows(settings)) == 3
    assert client.delete(f"/api/media-assets/{doomed['id']}").status_code == 204
    assert link_rows(settings) == [("product", "1")]
    assert fetch(client, kept["id"])["links"] == [link("product", "1")]
    gallery = client.get("/api/links/customer/9/assets").json()
    assert gallery["items"] == [] and gallery["total"] == 0


# MEDIA_LINK_TYPES


def test_the_configured_types_are_the_only_ones(
    tmp_path: Path, settings_factory: SettingsFactory
) -> None:
    settings = settings_factory(tmp_path / "own", link_types=" order , invoice_line ")
    assert settings.entity_types == ("order", "invoice_line")
    with TestClient(create_app(settings), headers=bearer(make_token())) as client:
        asset = create_record(client, "a.pdf", links=[link("invoice_line", "7")])
        assert asset["links"] == [link("invoice_line", "7")]
        refused = links_call(client, "POST", asset["id"], {"links": [link("product", "1")]})
        assert refused.status_code == 422 and "order, invoice_line" in refused.json()["detail"]
        assert client.get("/api/links/product/1/assets").status_code == 422
        assert client.get("/api/links/order/1/assets").status_code == 200
        # The schema states this app's types, wherever a type is taken.
        document = client.get("/openapi.json").json()
        stated = document["components"]["schemas"]["LinkIn"]["properties"]["entity_type"]
        assert stated["pattern"] == "^(?:order|invoice_line)$"
        form = document["paths"]["/api/media-assets/upload"]["post"]["requestBody"]
        items = form["content"]["multipart/form-data"]["schema"]["properties"]["links"]["items"]
        assert items["pattern"].startswith("^(?:order|invoice_line):")


@pytest.mark.parametrize("value", ["", " , ", "a:b", "two words", "a,A", "x" * 51])
def test_unusable_link_types_are_refused_at_start(value: str) -> None:
    with pytest.raises(ValidationError, match="MEDIA_LINK_TYPES"):
        Settings(link_types=value)


# Saved views and bulk changes validate link filters as the list does


def test_link_filters_in_a_json_query_are_checked_against_the_types() -> None:
    types = ("project", "product")
    parsed = ListFilters.from_object(
        {"linked": "product: 7 ", "entity_type": ["project", "project"]},
        location=("body", "query"),
        link_types=types,
    )
    query = parsed.search_query(link_types=types)
    assert list(query.linked) == ["product:7"] and list(query.entity_types) == ["project"]
    with pytest.raises(RequestValidationError) as refused:
        ListFilters.from_object(
            {"linked": ["product:1", "customer:1"]}, location=("body", "query"), link_types=types
        )
    [error] = refused.value.errors()
    assert error["loc"] == ("body", "query", "linked", 1)
    assert "project, product" in error["msg"]
    with pytest.raises(RequestValidationError):
        ListFilters.from_object({"linked": "product"}, location=("body",), link_types=types)
