"""List pages are served from the index's stored items plus the tag directory: each item
is exactly the asset JSON that GET /{id} gives, tag details follow tag changes at once,
and facets come in the shapes the contract lists (limit=0, disjunctive facets)."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from indexer.documents import ITEM_FIELDS
from service.assets.schemas import MediaAssetPublic
from service.search.tag_directory import TAG_FIELDS
from service.tags.schemas import TagPublic
from tests import samples
from tests.search_fixtures import listing, settled, tag, upload


def test_the_stored_item_has_the_asset_json_fields_in_order() -> None:
    assert (*ITEM_FIELDS, "content", "preview", "image", "links", "tags") == tuple(
        MediaAssetPublic.model_fields
    )
    assert tuple(TagPublic.model_fields) == TAG_FIELDS


def _by_id(page: dict[str, Any]) -> dict[str, Any]:
    return {item["id"]: item for item in page["items"]}


def test_every_list_item_is_the_asset_json(api: TestClient, library: dict[str, str]) -> None:
    record = api.post("/api/media-assets", json={"file_name": "Ümlaut « draft ».pdf"})
    assert record.status_code == 201
    page = listing(api, limit=1000)
    assert page["total"] == 5
    # Text extraction and previews finish in the background: compare once both have
    # settled and the index has their results, or the single read can be a state ahead.
    for asset_id in _by_id(page):
        settled(api, asset_id, "content")
        settled(api, asset_id, "preview")
    page = listing(api, limit=1000)
    for asset_id, item in _by_id(page).items():
        single = api.get(f"/api/media-assets/{asset_id}")
        assert single.status_code == 200
        assert item == single.json()
        # Byte for byte, key order included: clients may cache or diff either.
        assert list(item) == list(single.json())


def test_tag_changes_show_on_list_items_at_once(api: TestClient, library: dict[str, str]) -> None:
    leather = library["leather"]
    assert api.put(f"/api/tags/{leather}", json={"color": "#123456"}).status_code == 200
    page = listing(api, tag_ids=leather, facets="tags")
    assert {t["color"] for item in page["items"] for t in item["tags"] if t["id"] == leather} == {
        "#123456"
    }
    assert next(v for v in page["facets"]["tags"] if v["id"] == leather)["color"] == "#123456"
    # Another asset takes the tag: every item that shows it shows the new count.
    upload(api, "belt.png", samples.png(), (leather,))
    page = listing(api, tag_ids=leather)
    counts = {
        t["asset_count"] for item in page["items"] for t in item["tags"] if t["id"] == leather
    }
    assert counts == {3}
    assert api.get(f"/api/tags/{leather}").json() == next(
        t for t in page["items"][0]["tags"] if t["id"] == leather
    )


def test_limit_zero_gives_the_total_and_facets_only(
    api: TestClient, library: dict[str, str]
) -> None:
    page = listing(api, limit=0, facets="file_type")
    assert page["items"] == [] and page["total"] == 4 and page["limit"] == 0
    assert page["facets"]["file_type"] == [
        {"value": ".pdf", "count": 2},
        {"value": ".csv", "count": 1},
        {"value": ".png", "count": 1},
    ]
    assert listing(api, limit=0, search="wallet")["total"] == 2


def test_disjunctive_facets_count_as_if_their_own_filter_were_absent(
    api: TestClient, library: dict[str, str]
) -> None:
    page = listing(
        api,
        file_type="pdf",
        facets="file_type,uploaded_by,tags",
        disjunctive_facets="file_type",
    )
    assert page["total"] == 2
    # The file-type panel still lists every type with what choosing it would add ...
    assert page["facets"]["file_type"] == [
        {"value": ".pdf", "count": 2},
        {"value": ".csv", "count": 1},
        {"value": ".png", "count": 1},
    ]
    # ... while the other panels count the filtered result.
    assert page["facets"]["uploaded_by"] == [{"value": "alice", "count": 2}]
    assert {v["name"]: v["count"] for v in page["facets"]["tags"]} == {
        "Leather": 1,
        "Pattern": 1,
        "Wallet": 1,
    }
    # Tags chosen as any-of: the tag panel counts without the tag filter.
    any_of = listing(
        api,
        tag_ids=[library["pattern"]],
        tag_match="any",
        facets="tags",
        disjunctive_facets="tags",
    )
    assert any_of["total"] == 1
    assert {v["name"]: v["count"] for v in any_of["facets"]["tags"]} == {
        "Leather": 2,
        "Wallet": 2,
        "Pattern": 1,
    }


def test_a_deleted_tag_never_shows_on_a_list_item(api: TestClient) -> None:
    doomed = tag(api, "Doomed", "#f00")
    kept = tag(api, "Kept")
    upload(api, "strap.png", samples.png(), (doomed, kept))
    assert api.delete(f"/api/tags/{doomed}").status_code == 204
    page = listing(api, facets="tags")
    assert [t["name"] for t in page["items"][0]["tags"]] == ["Kept"]
    assert [v["name"] for v in page["facets"]["tags"]] == ["Kept"]
