"""Inputs at the edges that once produced a 5xx: each now gets a clear 4xx (or a 503
with a sentence while the search engine is down)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from fastapi.testclient import TestClient

from service.app import create_app
from service.assets.download import content_disposition
from tests.conftest import SettingsFactory, bearer, make_token


def test_datetimes_without_a_utc_equivalent_are_422(client: TestClient) -> None:
    for name, value in (
        ("uploaded_after", "0001-01-01T00:00:00+14:00"),
        ("uploaded_before", "9999-12-31T23:59:59-14:00"),
    ):
        response = client.get("/api/media-assets", params={name: value})
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["query", name]


def test_an_unreadable_office_container_is_415(client: TestClient) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("word/document.xml", b"<w:document/>")
    # Flag the entry name as UTF-8 while its bytes are not: zipfile cannot decode it.
    body = buffer.getvalue().replace(b"word/document.xml", b"word/docu\xffent.xml")
    body = body.replace(b"PK\x03\x04\x14\x00\x00\x00", b"PK\x03\x04\x14\x00\x00\x08", 1)
    body = body.replace(
        b"PK\x01\x02\x14\x03\x14\x00\x00\x00", b"PK\x01\x02\x14\x03\x14\x00\x00\x08", 1
    )
    response = client.post(
        "/api/media-assets/upload", files={"file": ("plan.docx", body, "application/zip")}
    )
    assert response.status_code == 415, response.text


def test_tag_queries_that_no_database_could_run_are_422_or_answered(client: TestClient) -> None:
    assert client.get("/api/tags", params={"search": " ".join(["ab"] * 60)}).status_code == 200
    assert client.get("/api/tags", params={"search": "ab " * 200}).status_code == 422
    assert client.get("/api/tags", params={"name": "a\x00b"}).status_code == 422
    assert client.get("/api/tags", params={"search": "a\x00b"}).status_code == 422
    created = client.post("/api/tags", json={"name": "Welt", "description": "a\x00b"})
    assert created.status_code == 422


def test_an_uploader_that_cannot_be_stored_is_refused(client: TestClient) -> None:
    admin = bearer(make_token(scope="media:admin"))
    response = client.post(
        "/api/media-assets", json={"file_name": "a.pdf", "uploaded_by": "a\x00b"}, headers=admin
    )
    assert response.status_code == 422
    too_long = bearer(make_token(sub="x" * 256))
    response = client.post("/api/media-assets", json={"file_name": "a.pdf"}, headers=too_long)
    assert response.status_code == 401
    assert "sub" in response.json()["detail"]


def test_search_while_the_engine_is_down_is_503_with_a_sentence(
    settings_factory: SettingsFactory, tmp_path: Path
) -> None:
    settings = settings_factory(
        tmp_path / "data",
        search_engine="meilisearch",
        meilisearch_url="http://127.0.0.1:9",  # nothing listens on the discard port
        index_wait_ms=0,
    )
    with TestClient(create_app(settings), headers=bearer(make_token())) as client:
        created = client.post("/api/media-assets", json={"file_name": "a.pdf"})
        assert created.status_code == 201  # the database is the source of truth
        assert created.headers["X-Index-Status"] == "pending"
        for url in ("/api/media-assets", f"/api/tags/{_tag(client)}/assets"):
            response = client.get(url)
            assert response.status_code == 503
            assert "search index" in response.json()["detail"]


def _tag(client: TestClient) -> str:
    tag_id: str = client.post("/api/tags", json={"name": "Cordovan"}).json()["id"]
    return tag_id


def test_download_names_stay_safe_in_ascii(client: TestClient) -> None:
    assert content_disposition("🙂.pdf").startswith('attachment; filename="download.pdf"; ')
    assert 'filename="a_b.pdf"' in content_disposition("a\uff0fb.pdf")  # fullwidth slash
    response = client.post("/api/media-assets", json={"file_name": "invoice\u202efdp.exe.pdf"})
    assert response.json()["file_name"] == "invoicefdp.exe.pdf"  # no right-to-left override


def test_tag_search_folds_any_script(client: TestClient) -> None:
    client.post("/api/tags", json={"name": "Sattlerei", "description": "ÉCOLE Straße"})
    for query in ("école", "STRASSE", "straße"):
        page = client.get("/api/tags", params={"search": query}).json()
        assert [tag["name"] for tag in page["items"]] == ["Sattlerei"], query
