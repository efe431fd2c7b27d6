"""None-of and untagged filters on every engine, with the other tag filters, search,
types and facets (the library of `search_fixtures`: the PNG has Leather and Wallet, the
pattern PDF Wallet and Pattern, the guide Leather, the price list no tag)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.search_fixtures import listing, names

PNG = "leather_wallet-2.png"
PATTERN = "Bifold Wallet Pattern.pdf"
GUIDE = "saddle stitching guide.pdf"
PRICES = "price list.csv"


def found(api, **params: Any) -> set[str]:
    page = listing(api, **params)
    assert page["total"] == len(page["items"])
    return set(names(page))


def test_none_of_alone_and_with_all_of_and_any_of(api, library) -> None:
    assert found(api, exclude_tag_ids=library["leather"]) == {PATTERN, PRICES}
    both = [library["leather"], library["wallet"]]
    assert found(api, exclude_tag_ids=both) == {PRICES}
    assert found(api, tag_ids=library["wallet"], exclude_tag_ids=library["pattern"]) == {PNG}
    any_of = [library["leather"], library["pattern"]]
    assert found(api, tag_ids=any_of, tag_match="any", exclude_tag_ids=library["wallet"]) == {GUIDE}
    # A tag both wanted and excluded leaves nothing.
    assert found(api, tag_ids=library["leather"], exclude_tag_ids=library["leather"]) == set()


def test_none_of_combines_with_search_type_and_facets(api, library) -> None:
    assert found(api, search="wallet", exclude_tag_ids=library["pattern"]) == {PNG}
    assert found(api, file_type="pdf", exclude_tag_ids=library["wallet"]) == {GUIDE}
    page = listing(api, exclude_tag_ids=library["wallet"], facets="tags,file_type")
    tags = {value["name"]: value["count"] for value in page["facets"]["tags"]}
    assert tags == {"Leather": 1}
    types = {value["value"]: value["count"] for value in page["facets"]["file_type"]}
    assert types == {".pdf": 1, ".csv": 1}


def test_a_disjunctive_tag_facet_counts_without_any_tag_filter(api, library) -> None:
    page = listing(
        api,
        exclude_tag_ids=library["wallet"],
        facets="tags,file_type",
        disjunctive_facets="tags",
    )
    assert set(names(page)) == {GUIDE, PRICES}
    # Every tag of the whole library, so a "none of" tag stays in the panel to undo.
    tags = {value["name"]: value["count"] for value in page["facets"]["tags"]}
    assert tags == {"Leather": 2, "Wallet": 2, "Pattern": 1}
    types = {value["value"]: value["count"] for value in page["facets"]["file_type"]}
    assert types == {".pdf": 1, ".csv": 1}


def test_untagged_finds_assets_with_no_tag(api, library) -> None:
    assert found(api, untagged="true") == {PRICES}
    assert found(api, untagged="true", search="price") == {PRICES}
    assert found(api, untagged="true", file_type="pdf") == set()
    assert found(api, untagged="true", exclude_tag_ids=library["leather"]) == {PRICES}
    assert found(api, untagged="false") == {PNG, PATTERN, GUIDE, PRICES}
    page = listing(api, untagged="true", facets="tags,file_type")
    assert page["facets"]["tags"] == []
    assert page["facets"]["file_type"] == [{"value": ".csv", "count": 1}]


def test_untagged_follows_tag_changes(api, library) -> None:
    prices = listing(api, search="price")["items"][0]
    response = api.post(f"/api/media-assets/{prices['id']}/tags", json=[library["pattern"]])
    assert response.status_code == 200
    assert found(api, untagged="true") == set()
    assert found(api, exclude_tag_ids=library["pattern"]) == {PNG, GUIDE}
    assert api.delete(f"/api/tags/{library['pattern']}").status_code == 204
    assert found(api, untagged="true") == {PRICES}


@pytest.mark.parametrize(
    "params",
    [
        {"exclude_tag_ids": "not-a-uuid"},
        {"untagged": "maybe"},
        {"untagged": ["true", "false"]},  # one value, given twice
    ],
)
def test_bad_exclusions_are_422(api, params: dict[str, Any]) -> None:
    response = api.get("/api/media-assets", params=params)
    assert response.status_code == 422
    assert isinstance(response.json()["detail"], list)


def test_untagged_with_tag_ids_is_422_with_a_sentence(api, library) -> None:
    response = api.get(
        "/api/media-assets", params={"untagged": "true", "tag_ids": library["leather"]}
    )
    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert error["loc"] == ["query", "untagged"]
    assert "cannot be combined with tag_ids" in error["msg"]


def test_tag_ids_may_be_comma_separated_as_facets_may(api, library) -> None:
    leather, wallet, pattern = library["leather"], library["wallet"], library["pattern"]
    assert found(api, tag_ids=f"{leather},{wallet}") == {PNG}
    assert found(api, tag_ids=f"{leather}, {pattern}", tag_match="any") == found(
        api, tag_ids=[leather, pattern], tag_match="any"
    )
    assert found(api, tag_ids=[f"{leather},{wallet}", pattern], tag_match="any") == {
        PNG,
        PATTERN,
        GUIDE,
    }
    assert found(api, exclude_tag_ids=f"{leather},{wallet}") == {PRICES}


@pytest.mark.parametrize("bad", ["{id},", "{id},,{id}", "{id},not-an-id", ","])
def test_a_comma_separated_tag_ids_with_a_bad_piece_is_422(api, library, bad: str) -> None:
    for name in ("tag_ids", "exclude_tag_ids"):
        response = api.get("/api/media-assets", params={name: bad.format(id=library["leather"])})
        assert response.status_code == 422, response.text
        assert response.json()["detail"][0]["loc"][:2] == ["query", name]
