"""List and search from the index, the same behaviour on every engine: filters, sorts,
typos, prefixes, facets, tag fan-out, exact totals and stable pagination."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from store.models import MediaAsset
from store.outbox import record_assets
from tests import samples
from tests.conftest import bearer, make_token
from tests.search_fixtures import listing, names, upload


def test_default_listing_is_newest_upload_first_with_exact_total(api, library) -> None:
    page = listing(api)
    assert page["total"] == 4 and page["skip"] == 0 and page["limit"] == 100
    assert names(page) == [
        "price list.csv",
        "saddle stitching guide.pdf",
        "Bifold Wallet Pattern.pdf",
        "leather_wallet-2.png",
    ]
    assert "facets" not in page
    assert page["items"][-1]["tags"][0]["name"] == "Leather"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("wallet", {"leather_wallet-2.png", "Bifold Wallet Pattern.pdf"}),
        ("walet", {"leather_wallet-2.png", "Bifold Wallet Pattern.pdf"}),  # one typo at 5+
        ("stitchnig", {"saddle stitching guide.pdf"}),  # a transposition
        ("wal", {"leather_wallet-2.png", "Bifold Wallet Pattern.pdf"}),  # last word as prefix
        ("leather wal", {"leather_wallet-2.png"}),  # every word must match
        ("saddle gui", {"saddle stitching guide.pdf"}),
        (
            "alice",
            {
                "leather_wallet-2.png",
                "Bifold Wallet Pattern.pdf",
                "saddle stitching guide.pdf",
                "price list.csv",
            },
        ),
        ("csv", {"price list.csv"}),  # the file type is searchable
        ("pattern", {"Bifold Wallet Pattern.pdf"}),
        ("leathercraft wallet", set()),
        ("leathers", {"leather_wallet-2.png", "saddle stitching guide.pdf"}),  # one typo at 8
        ("lether", {"leather_wallet-2.png", "saddle stitching guide.pdf"}),  # via the tag name
        ("2", {"leather_wallet-2.png"}),
        ("cat", set()),  # short words allow no typo
    ],
)
def test_search_words_typos_and_prefix(api, library, query: str, expected: set[str]) -> None:
    page = listing(api, search=query)
    assert set(names(page)) == expected
    assert page["total"] == len(expected)


def test_file_name_matches_the_name_only(api, library) -> None:
    assert set(names(listing(api, file_name="leather"))) == {"leather_wallet-2.png"}
    assert names(listing(api, file_name="alice")) == []


def test_filters_by_type_uploader_tags_and_dates(api, library) -> None:
    for value in ("pdf", ".pdf", "PDF"):
        assert listing(api, file_type=value)["total"] == 2
    assert listing(api, file_type=["png", "csv"])["total"] == 2
    assert listing(api, uploaded_by="alice")["total"] == 4
    assert listing(api, uploaded_by="bob")["total"] == 0
    both = listing(api, tag_ids=[library["leather"], library["wallet"]])
    assert names(both) == ["leather_wallet-2.png"]
    either = listing(api, tag_ids=[library["leather"], library["pattern"]], tag_match="any")
    assert either["total"] == 3
    first = listing(api, sort_by="uploaded_at", sort_dir="asc")["items"][0]
    moment = first["uploaded_at"]
    inclusive = listing(api, uploaded_after=moment, uploaded_before=moment)
    assert names(inclusive) == [first["file_name"]]
    future = (datetime.now(UTC) + timedelta(days=1)).replace(tzinfo=None).isoformat()
    assert listing(api, uploaded_after=future)["total"] == 0  # no offset: read as UTC
    assert listing(api, uploaded_before=future)["total"] == 4


@pytest.mark.parametrize(
    ("sort_by", "sort_dir", "expected"),
    [
        (
            "file_name",
            "asc",
            [
                "Bifold Wallet Pattern.pdf",
                "leather_wallet-2.png",
                "price list.csv",
                "saddle stitching guide.pdf",
            ],
        ),
        (
            "file_name",
            "desc",
            [
                "saddle stitching guide.pdf",
                "price list.csv",
                "leather_wallet-2.png",
                "Bifold Wallet Pattern.pdf",
            ],
        ),
        (
            "uploaded_at",
            "asc",
            [
                "leather_wallet-2.png",
                "Bifold Wallet Pattern.pdf",
                "saddle stitching guide.pdf",
                "price list.csv",
            ],
        ),
    ],
)
def test_sorts(api, library, sort_by: str, sort_dir: str, expected: list[str]) -> None:
    assert names(listing(api, sort_by=sort_by, sort_dir=sort_dir)) == expected


def test_sort_by_size_and_type_break_ties_by_id(api, library) -> None:
    by_type = listing(api, sort_by="file_type", sort_dir="asc")["items"]
    keys = [(item["file_type"], item["id"]) for item in by_type]
    assert keys == sorted(keys)
    by_size = listing(api, sort_by="file_size_bytes", sort_dir="desc")["items"]
    sizes = [(item["file_size_bytes"], item["id"]) for item in by_size]
    assert sizes == sorted(sizes, reverse=True)


def test_facets_count_the_whole_filtered_result(api, library) -> None:
    page = listing(api, facets="tags,file_type", limit=1)
    assert len(page["items"]) == 1
    facets = page["facets"]
    assert facets["file_type"] == [
        {"value": ".pdf", "count": 2},
        {"value": ".csv", "count": 1},
        {"value": ".png", "count": 1},
    ]
    tags = {value["name"]: value for value in facets["tags"]}
    assert tags["Leather"]["count"] == 2 and tags["Leather"]["color"] == "#8B4513"
    assert tags["Leather"]["value"] == tags["Leather"]["id"] == library["leather"]
    assert [v["count"] for v in facets["tags"]] == [2, 2, 1]
    narrowed = listing(api, search="wallet", facets=["uploaded_by", "content_type"])["facets"]
    assert narrowed["uploaded_by"] == [{"value": "alice", "count": 2}]
    assert narrowed["content_type"] == [
        {"value": "application/pdf", "count": 1},
        {"value": "image/png", "count": 1},
    ]


@pytest.mark.parametrize(
    "params",
    [
        {"facets": "colour"},
        {"sort_by": "relevance"},
        {"sort_dir": "up"},
        {"tag_match": "some"},
        {"limit": -1},
        {"facets": "tags", "disjunctive_facets": "file_type"},
        {"disjunctive_facets": "colour"},
        {"facets": "tags,"},  # an empty entry
        {"limit": 1001},
        {"skip": -1},
        {"tag_ids": "not-a-uuid"},
        {"uploaded_after": "yesterday"},
        {"uploaded_before": "1700000000"},  # a Unix time is not ISO 8601
        {"limit": [5, 6]},  # one value, given twice: neither is ignored
    ],
)
def test_bad_parameters_are_422(api, params: dict[str, Any]) -> None:
    response = api.get("/api/media-assets", params=params)
    assert response.status_code == 422
    assert isinstance(response.json()["detail"], list)


def test_tag_rename_and_delete_reach_the_index(api, library) -> None:
    response = api.put(f"/api/tags/{library['pattern']}", json={"name": "Template"})
    assert response.status_code == 200 and "x-index-status" not in response.headers
    assert names(listing(api, search="template")) == ["Bifold Wallet Pattern.pdf"]
    assert listing(api, search="templ")["total"] == 1
    assert api.delete(f"/api/tags/{library['leather']}").status_code == 204
    # Only the file name still says leather; the saddle guide matched by its tag alone.
    assert names(listing(api, search="lether")) == ["leather_wallet-2.png"]
    assert listing(api, tag_ids=library["leather"])["total"] == 0
    facet_tags = listing(api, facets="tags")["facets"]["tags"]
    assert library["leather"] not in {value["value"] for value in facet_tags}


def test_asset_writes_are_visible_to_the_next_read(api, library) -> None:
    asset = listing(api, search="price")["items"][0]
    api.put(f"/api/media-assets/{asset['id']}", json={"file_name": "tariff.csv"})
    assert names(listing(api, search="tariff")) == ["tariff.csv"]
    api.post(f"/api/media-assets/{asset['id']}/tags", json=[library["wallet"]])
    assert listing(api, tag_ids=library["wallet"])["total"] == 3
    api.request(
        "DELETE", f"/api/media-assets/{asset['id']}/tags", json={"tag_ids": [library["wallet"]]}
    )
    assert listing(api, tag_ids=library["wallet"])["total"] == 2
    assert api.delete(f"/api/media-assets/{asset['id']}").status_code == 204
    assert listing(api, search="tariff")["total"] == 0
    ids = api.get(f"/api/tags/{library['wallet']}/assets").json()
    assert ids["total"] == 2 and len(ids["items"]) == 2


def test_tag_assets_route(api, library) -> None:
    assert api.get(f"/api/tags/{uuid.uuid4()}/assets").status_code == 404
    page = api.get(f"/api/tags/{library['leather']}/assets", params={"limit": 1}).json()
    assert page["total"] == 2 and len(page["items"]) == 1


def _bulk_assets(api: TestClient, count: int, *, run: int = 2) -> None:
    """Many records straight into the database, queued in the outbox like any write."""
    engine = api.app.state.engine  # type: ignore[attr-defined]
    base = datetime(2026, 1, 1, tzinfo=UTC)
    with Session(engine) as session:
        assets = [
            MediaAsset(
                file_name=f"strap {i}.pdf",
                file_type=".pdf",
                content_type="application/pdf",
                uploaded_by="bulk",
                # Runs of `run` share a timestamp, so only the id keeps pages apart.
                uploaded_at=base + timedelta(seconds=i // run),
            )
            for i in range(count)
        ]
        session.add_all(assets)
        session.flush()
        record_assets(session, [asset.id for asset in assets])
        session.commit()
    api.app.state.indexer.drain()  # type: ignore[attr-defined]


def test_exact_totals_and_pages_past_1000(api) -> None:
    _bulk_assets(api, 1205)
    assert listing(api)["total"] == 1205
    assert listing(api, search="strap")["total"] == 1205
    deep = listing(api, skip=1200, limit=100)
    assert len(deep["items"]) == 5 and deep["total"] == 1205
    seen: list[str] = []
    for skip in range(0, 1205, 250):
        seen += [item["id"] for item in listing(api, skip=skip, limit=250)["items"]]
    assert len(seen) == len(set(seen)) == 1205
    assert listing(api, facets="uploaded_by")["facets"]["uploaded_by"] == [
        {"value": "bulk", "count": 1205}
    ]


@pytest.mark.parametrize("sort_dir", ["asc", "desc"])
def test_runs_of_equal_values_page_by_id_across_page_edges(api, sort_dir: str) -> None:
    """37 assets in runs of 5 equal timestamps: with pages of 3, 4 and 7, runs cross page
    edges in every way; each page must be its slice of the (value, id) order."""
    _bulk_assets(api, 37, run=5)
    everything = listing(api, sort_by="uploaded_at", sort_dir=sort_dir, limit=1000)["items"]
    keys = [(item["uploaded_at"], item["id"]) for item in everything]
    assert keys == sorted(keys, reverse=sort_dir == "desc")
    for size in (3, 4, 7):
        paged = [
            item["id"]
            for skip in range(0, 37, size)
            for item in listing(
                api, sort_by="uploaded_at", sort_dir=sort_dir, skip=skip, limit=size
            )["items"]
        ]
        assert paged == [item["id"] for item in everything]
    narrowed = listing(
        api, sort_dir=sort_dir, search="strap", sort_by="uploaded_at", skip=6, limit=2
    )
    assert [item["id"] for item in narrowed["items"]] == [item["id"] for item in everything[6:8]]


def test_a_skip_past_the_end_is_an_empty_page_with_the_total(api, library) -> None:
    for skip in (4, 10**6, 10**20):
        page = listing(api, skip=skip)
        assert page["items"] == [] and page["total"] == 4 and page["skip"] == skip


def test_file_name_filter_keeps_the_default_newest_first_order(api) -> None:
    upload(api, "wallet.pdf", samples.pdf())
    upload(api, "walet_brown_leather_big_sample.pdf", samples.pdf())
    assert names(listing(api, file_name="wallet")) == [
        "walet_brown_leather_big_sample.pdf",
        "wallet.pdf",
    ]


def test_an_explicit_sort_orders_search_results_too(api) -> None:
    for name in ("buckle_zzz.pdf", "buckel_aaa.pdf", "buckle_mmm.pdf"):
        upload(api, name, samples.pdf())
    page = listing(api, search="buckle", sort_by="file_name", sort_dir="asc")
    assert names(page) == ["buckel_aaa.pdf", "buckle_mmm.pdf", "buckle_zzz.pdf"]


def test_file_names_sort_by_code_point_after_case_folding(api) -> None:
    for name in ("éclair.pdf", "Ärmel.pdf", "zebra.pdf", "Eclair2.pdf", "arm.pdf"):
        upload(api, name, samples.pdf())
    page = listing(api, sort_by="file_name", sort_dir="asc")
    assert names(page) == ["arm.pdf", "Eclair2.pdf", "zebra.pdf", "Ärmel.pdf", "éclair.pdf"]


def test_uploader_filter_and_facet_are_exact(api) -> None:
    admin = bearer(make_token(sub="root", scope="media:admin"))
    for uploader in ("Bob", "bob", "Böb"):
        response = api.post(
            "/api/media-assets",
            json={"file_name": "a.pdf", "uploaded_by": uploader},
            headers=admin,
        )
        assert response.status_code == 201
    page = listing(api, uploaded_by="bob", facets="uploaded_by")
    assert [item["uploaded_by"] for item in page["items"]] == ["bob"]
    assert page["facets"]["uploaded_by"] == [{"value": "bob", "count": 1}]
    everyone = listing(api, facets="uploaded_by")["facets"]["uploaded_by"]
    # Equal counts: by value, in code point order.
    assert everyone == [
        {"value": "Bob", "count": 1},
        {"value": "Böb", "count": 1},
        {"value": "bob", "count": 1},
    ]


@pytest.mark.parametrize(
    ("stored", "query"),
    [
        (
            "pferdelederportemonnaiereparaturanleitungen.pdf",
            "pferdelederportemonnaiereparaturanleitungen",
        ),
        ("हिन्दी निर्देश.pdf", "हिन्दी"),
        ("ΟΔΟΣ.pdf", "οδος"),
        ("cafe\u0301 menu.pdf", "café"),  # stored in NFD, searched in NFC
    ],
)
def test_words_match_in_any_script_and_length(api, stored: str, query: str) -> None:
    upload(api, stored, samples.pdf())
    assert listing(api, search=query)["total"] == 1
