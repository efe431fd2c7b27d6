"""Inputs at the edges that once produced a 5xx: each now gets a clear 4xx (or a 503
with a sentence while the search engine is down)."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
from fastapi.testclient import TestClient

from service.app import create_app
from service.assets.download import content_disposition
from service.config import Settings
from tests import malformed
from tests.conftest import (
    TEST_SECRET,
    SettingsFactory,
    bearer,
    make_token,
    row_counts,
    stored_files,
)


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


def _raw(client: TestClient, method: str, path: str, body: bytes, content_type: str) -> Any:
    return client.request(method, path, content=body, headers={"Content-Type": content_type})


def test_lone_surrogates_nan_and_undecodable_bodies_are_422_with_a_sentence(
    client: TestClient, settings: Settings
) -> None:
    tag = client.post("/api/tags", json={"name": "Saddle"}).json()
    asset = client.post("/api/media-assets", json={"file_name": "belt.pdf"}).json()
    before = row_counts(settings)
    for raw in malformed.undecodable_bodies(tag["id"], asset["id"]):
        response = _raw(client, raw.method, raw.path, raw.body, raw.content_type)
        assert response.status_code == 422, (raw, response.text)
        assert response.json()["detail"][0]["msg"], response.text
    # A surrogate pair is one valid character (U+1F600): it is kept.
    smile = client.post("/api/tags", json={"name": "grin \U0001f600"})
    assert smile.status_code == 201, smile.text
    assert row_counts(settings)["tag"] == before["tag"] + 1
    assert row_counts(settings)["media_asset"] == before["media_asset"]


def test_a_bare_array_of_tag_ids_has_the_same_cap_as_the_object_form(client: TestClient) -> None:
    tag = client.post("/api/tags", json={"name": "Saddle"}).json()
    asset = client.post("/api/media-assets", json={"file_name": "belt.pdf"}).json()
    path = f"/api/media-assets/{asset['id']}/tags"
    too_many = [tag["id"]] * 1001
    for body in (too_many, {"tag_ids": too_many}):
        response = client.post(path, json=body)
        assert response.status_code == 422, response.text
    assert client.post(path, json=[tag["id"]]).status_code == 200


def test_multipart_abuse_is_refused_and_leaves_no_staging_file(
    client: TestClient, settings: Settings
) -> None:
    raw = malformed.long_boundary_upload()
    response = _raw(client, raw.method, raw.path, raw.body, raw.content_type)
    assert response.status_code == 422, response.text
    assert "boundary" in response.json()["detail"][0]["msg"]

    response = client.post(
        "/api/media-assets/upload",
        content=malformed.many_empty_fields(),
        headers={"Content-Type": malformed.EMPTY_FIELDS_CONTENT_TYPE},
    )
    assert response.status_code == 422, response.text
    assert "at most" in response.json()["detail"][0]["msg"]
    assert stored_files(settings) == []


def test_a_chunked_upload_is_capped_by_the_bytes_that_arrive(
    settings_factory: SettingsFactory, tmp_path: Path
) -> None:
    small = settings_factory(tmp_path / "small", max_upload_bytes=1024)

    def padded_upload() -> Iterator[bytes]:
        # No Content-Length: the bytes must be counted as they come. A small file, then
        # 2 MiB after the closing boundary, where the parser reads nothing.
        yield b'--x\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n\r\n'
        yield b"a,b\r\n1,2\r\n--x--\r\n"
        for _ in range(2 * 1024):
            yield b"\0" * 1024

    with TestClient(create_app(small), headers=bearer(make_token())) as client:
        response = client.post(
            "/api/media-assets/upload",
            content=padded_upload(),
            headers={"Content-Type": "multipart/form-data; boundary=x"},
        )
        assert response.status_code == 413, response.text
        assert stored_files(small) == []


def test_a_subject_that_cannot_be_stored_is_refused_by_the_token_command_and_the_api(
    client: TestClient, settings: Settings
) -> None:
    undecodable = os.fsdecode(b"\xff")  # what a shell's $'\xff' arrives as
    done = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "service.cli", "token", "--sub", undecodable],
        env={**os.environ, "MEDIA_DATA_DIR": str(settings.data_dir)},
        capture_output=True,
        check=False,
    )
    assert done.returncode == 2
    assert b"valid Unicode" in done.stderr
    assert done.stdout == b""
    # A token minted elsewhere with such a sub is refused with a sentence, not a 500.
    forged = jwt.encode({"sub": "\udcff", "scope": "media:write"}, TEST_SECRET, algorithm="HS256")
    response = client.post(
        "/api/media-assets", json={"file_name": "belt.pdf"}, headers=bearer(forged)
    )
    assert response.status_code == 401
    assert "sub claim" in response.json()["detail"]


def test_options_names_every_method_of_the_path(client: TestClient) -> None:
    asset = client.post("/api/media-assets", json={"file_name": "belt.pdf"}).json()
    response = client.options(f"/api/media-assets/{asset['id']}")
    assert response.status_code == 204
    assert set(response.headers["allow"].split(", ")) == {"GET", "PUT", "DELETE", "OPTIONS"}
    # A fixed path names only its own routes' methods, not those of /{asset_id} beside it.
    assert client.options("/api/media-assets/upload").headers["allow"] == "OPTIONS, POST"


def test_another_method_on_a_fixed_path_is_405_not_a_malformed_id(client: TestClient) -> None:
    for method in ("GET", "PUT", "DELETE"):
        response = client.request(method, "/api/media-assets/upload")
        assert response.status_code == 405, response.text
        assert response.headers["allow"] == "OPTIONS, POST"
        assert response.json()["detail"]
    assert client.get("/api/media-assets/not-an-id").status_code == 422  # an id, malformed


def test_an_upload_names_at_most_1000_tag_ids(client: TestClient, settings: Settings) -> None:
    tag = client.post("/api/tags", json={"name": "Saddle"}).json()
    for tag_ids in ([tag["id"]] * 1001, [",".join([tag["id"]] * 1001)], [""] * 1001):
        response = client.post(
            "/api/media-assets/upload",
            files={"file": ("a.csv", b"a,b\r\n1,2\r\n", "text/csv")},
            data={"tag_ids": tag_ids},
        )
        assert response.status_code == 422, response.text
        assert "at most 1000 tag ids" in response.json()["detail"][0]["msg"]
    assert stored_files(settings) == []


def test_the_openapi_document_declares_both_error_shapes(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    assert document["components"]["schemas"]["ErrorMessage"]["required"] == ["detail"]
    created = document["paths"]["/api/tags"]["post"]["responses"]
    assert {
        ref["$ref"].rsplit("/", 1)[1]
        for ref in created["422"]["content"]["application/json"]["schema"]["anyOf"]
    } == {"HTTPValidationError", "ErrorMessage"}
    assert created["409"]["content"]["application/json"]["schema"]["$ref"].endswith("ErrorMessage")
    # What a rule-breaking request really gets: the one-sentence shape.
    tag = client.post("/api/tags", json={"name": "Saddle"}).json()
    asset = client.post("/api/media-assets", json={"file_name": "belt.pdf"}).json()
    unknown = client.post(
        f"/api/media-assets/{asset['id']}/tags", json={"tag_ids": [str(uuid.uuid4())]}
    )
    assert unknown.status_code == 422
    assert isinstance(unknown.json()["detail"], str)
    assert tag["name"] == "Saddle"
