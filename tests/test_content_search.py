"""Search inside files, through the API on both engines and databases: the text of real
PDF, DOCX, XLSX, CSV and SVG files is extracted after the upload, searchable with typos
and as a prefix, ranked below matches in names and tags, narrowed by `search_in`, and
highlighted; failures leave the asset searchable by its name."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlmodel import Session

from service.app import create_app
from store.models import AssetContent
from tests import content_samples, samples
from tests.conftest import SettingsFactory, bearer, make_token
from tests.search_fixtures import listing, settled, upload

SAMPLES: list[tuple[str, Callable[[], bytes], str]] = [
    ("pattern.pdf", content_samples.pdf, content_samples.PDF_WORD),
    ("tools.docx", content_samples.docx_document, content_samples.DOCX_WORD),
    ("stock.xlsx", content_samples.xlsx_workbook, content_samples.XLSX_WORD),
    ("prices.csv", content_samples.windows_1252_csv, content_samples.CSV_WORD),
    ("mark.svg", content_samples.svg_drawing, content_samples.SVG_WORD),
]


def _state(api: TestClient) -> Any:
    return api.app.state  # type: ignore[attr-defined]


def found(api: TestClient, search: str, **params: Any) -> list[str]:
    return [item["file_name"] for item in listing(api, search=search, **params)["items"]]


def _typo(word: str) -> str:
    """The word with two of its middle letters swapped: one typo."""
    middle = len(word) // 2
    return word[: middle - 1] + word[middle] + word[middle - 1] + word[middle + 1 :]


@pytest.mark.parametrize(("name", "make", "word"), SAMPLES, ids=[s[0] for s in SAMPLES])
def test_a_word_inside_each_type_is_found_exactly_with_a_typo_and_as_a_prefix(
    api: TestClient, name: str, make: Callable[[], bytes], word: str
) -> None:
    asset = upload(api, name, make())
    content = settled(api, asset["id"])["content"]
    assert content["status"] == "extracted", content
    assert content["characters"] > 0 and content["error"] is None
    text = api.get(f"/api/media-assets/{asset['id']}/content").json()
    assert word.casefold() in text["text"].casefold()
    assert text["truncated"] is False and text["extracted_at"] is not None
    assert found(api, word) == [name]
    assert found(api, _typo(word)) == [name]
    assert found(api, word[:6]) == [name]
    marked = listing(api, search=word, highlight="true")["items"][0]["highlights"]
    assert "<mark>" in marked["content"] and word.casefold() in marked["content"].casefold()
    assert "file_name" not in marked


def test_an_asset_found_by_name_ranks_above_one_found_only_by_content(api: TestClient) -> None:
    word = content_samples.DOCX_WORD
    by_content = upload(api, "tools.docx", content_samples.docx_document())
    by_name = upload(api, f"{word} set.png", samples.png())
    settled(api, by_content["id"])
    assert found(api, word) == [by_name["file_name"], "tools.docx"]
    marks = [item.get("highlights") for item in listing(api, search=word, highlight=1)["items"]]
    assert marks[0] == {"file_name": f"<mark>{word}</mark> set.png"}
    assert set(marks[1]) == {"content"}


def test_search_in_narrows_the_fields_searched(api: TestClient) -> None:
    word = content_samples.SVG_WORD
    drawing = upload(api, "mark.svg", content_samples.svg_drawing())
    upload(api, f"{word}.png", samples.png())
    settled(api, drawing["id"])
    assert found(api, word, search_in="file_name") == [f"{word}.png"]
    assert found(api, word, search_in="content") == ["mark.svg"]
    assert sorted(found(api, word, search_in="tags,content")) == ["mark.svg"]
    assert len(found(api, word)) == 2
    # Facet counts follow search_in too (the embedded engine caches them per query).
    for narrowed, file_type in (("file_name", ".png"), ("content", ".svg")):
        facets = listing(api, search=word, search_in=narrowed, facets="file_type")["facets"]
        assert facets["file_type"] == [{"value": file_type, "count": 1}]
    refused = api.get("/api/media-assets", params={"search": word, "search_in": "body"})
    assert refused.status_code == 422


def test_a_replace_extracts_again_and_a_delete_removes_the_text(api: TestClient) -> None:
    asset = upload(api, "tools.docx", content_samples.docx_document())
    settled(api, asset["id"])
    replaced = api.post(
        f"/api/media-assets/{asset['id']}/upload",
        files={"file": ("mark.svg", content_samples.svg_drawing(), "image/svg+xml")},
    )
    assert replaced.status_code == 200, replaced.text
    settled(api, asset["id"])
    assert found(api, content_samples.SVG_WORD) == ["mark.svg"]
    assert found(api, content_samples.DOCX_WORD) == []
    assert api.delete(f"/api/media-assets/{asset['id']}").status_code == 204
    with Session(_state(api).engine) as session:
        rows = session.execute(select(func.count()).select_from(AssetContent)).scalar_one()
    assert rows == 0


def test_images_records_without_files_and_unknown_ids(api: TestClient) -> None:
    photo = upload(api, "wallet.png", samples.png())
    assert photo["content"] == {"status": "unsupported", "characters": 0, "error": None}
    record = api.post("/api/media-assets", json={"file_name": "later.pdf"}).json()
    assert record["content"] == {"status": "empty", "characters": 0, "error": None}
    text = api.get(f"/api/media-assets/{record['id']}/content").json()
    assert text["status"] == "empty" and text["text"] == ""
    unknown = api.get("/api/media-assets/00000000-0000-4000-8000-000000000000/content")
    assert unknown.status_code == 404


@pytest.mark.parametrize(
    ("name", "make"),
    [
        ("locked.pdf", content_samples.encrypted_pdf),
        ("cut.pdf", content_samples.truncated_pdf),
        ("bomb.xlsx", content_samples.zip_bomb_xlsx),
        ("laughs.svg", content_samples.billion_laughs_svg),
    ],
)
def test_a_file_that_cannot_be_read_fails_with_a_sentence_and_stays_findable_by_name(
    api: TestClient, name: str, make: Callable[[], bytes]
) -> None:
    response = api.post(
        "/api/media-assets/upload", files={"file": (name, make(), "application/octet-stream")}
    )
    if response.status_code == 415:
        return  # refused by the upload check: nothing to extract
    assert response.status_code == 201, response.text
    content = settled(api, response.json()["id"])["content"]
    assert content["status"] == "failed"
    assert content["error"] and content["error"].endswith(".")
    assert found(api, name.split(".")[0]) == [name]
    # The worker goes on with the next file.
    after = upload(api, "tools.docx", content_samples.docx_document())
    assert settled(api, after["id"])["content"]["status"] == "extracted"


@pytest.mark.serial  # the next file must extract within the same 0.3 s limit
def test_a_file_over_the_time_limit_fails_and_the_worker_goes_on(
    settings_factory: SettingsFactory, tmp_path: Path
) -> None:
    hurried = settings_factory(tmp_path / "data", content_timeout_s=0.3)
    with TestClient(create_app(hurried), headers=bearer(make_token())) as api:
        slow = upload(api, "catalogue.pdf", content_samples.long_pdf())
        content = settled(api, slow["id"])["content"]
        assert content["status"] == "failed"
        assert content["error"] == "Extraction took longer than 0.3 s, the limit."
        assert found(api, "catalogue") == ["catalogue.pdf"]
        after = upload(api, "tools.docx", content_samples.docx_document())
        assert settled(api, after["id"])["content"]["status"] == "extracted"
