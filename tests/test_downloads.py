"""Downloads: the stored bytes with safe headers, byte ranges, ETag revalidation, and 404s."""

from __future__ import annotations

import hashlib
import re
from typing import Any
from urllib.parse import unquote

import pytest
from fastapi.testclient import TestClient

from service.config import Settings
from tests import samples
from tests.conftest import create_record, random_id, uploaded

CONTENT = samples.png(width=8, height=8)


@pytest.fixture
def asset(client: TestClient) -> dict[str, Any]:
    return uploaded(client, "wallet.png", CONTENT)


def download_url(asset_id: str) -> str:
    return f"/api/media-assets/{asset_id}/download"


def disposition_params(header: str) -> dict[str, str]:
    """The parameters of a Content-Disposition header whose first token must be `attachment`."""
    kind, _, rest = header.partition(";")
    assert kind.strip().lower() == "attachment"
    params: dict[str, str] = {}
    for match in re.finditer(r'\s*([\w*]+)=("(?:[^"\\]|\\.)*"|[^;]*)\s*;?', rest):
        value = match.group(2)
        params[match.group(1).lower()] = value[1:-1] if value.startswith('"') else value
    return params


def test_download_returns_the_file_with_its_headers(
    client: TestClient, asset: dict[str, Any]
) -> None:
    response = client.get(download_url(asset["id"]))
    assert response.status_code == 200
    assert response.content == CONTENT
    assert response.headers["Content-Type"] == "image/png"
    assert response.headers["Content-Length"] == str(len(CONTENT))
    assert response.headers["ETag"] == f'"{hashlib.sha256(CONTENT).hexdigest()}"'
    assert response.headers["ETag"] == f'"{asset["checksum_sha256"]}"'
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Security-Policy"] == "sandbox"
    assert disposition_params(response.headers["Content-Disposition"])["filename"] == "wallet.png"


@pytest.mark.parametrize(
    ("name", "make", "media_type"),
    [
        ("prices.csv", samples.csv, "text/csv"),
        ("logo.svg", samples.svg, "image/svg+xml"),
        ("pattern.pdf", samples.pdf, "application/pdf"),
    ],
)
def test_content_type_is_the_stored_one(
    client: TestClient, name: str, make: Any, media_type: str
) -> None:
    stored = uploaded(client, name, make())
    response = client.get(download_url(stored["id"]))
    assert response.status_code == 200
    assert response.headers["Content-Type"] == stored["content_type"]  # no invented charset
    assert stored["content_type"] == media_type
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert response.content == make()


@pytest.mark.parametrize("name", ["Geldbörse 財布.png", "財布.png", "naïve café.png"])
def test_unicode_name_gets_ascii_filename_and_rfc5987_filename_star(
    client: TestClient, name: str
) -> None:
    stored = uploaded(client, name, CONTENT)
    assert stored["file_name"] == name
    header = client.get(download_url(stored["id"])).headers["Content-Disposition"]
    assert header.isascii()
    params = disposition_params(header)
    ascii_name = params["filename"]
    assert ascii_name.isascii() and ascii_name.strip()
    assert ascii_name.endswith(".png")
    charset, _, encoded = params["filename*"].partition("''")
    assert charset.upper() == "UTF-8"
    assert unquote(encoded, encoding="utf-8") == name


@pytest.mark.parametrize("name", ['say "hi";x=1.png', 'tab\tquote".png'])
def test_quotes_in_names_cannot_break_the_header(
    client: TestClient, asset: dict[str, Any], name: str
) -> None:
    # Multipart clients escape quotes in file names, so the name is set by a rename.
    renamed = client.put(f"/api/media-assets/{asset['id']}", json={"file_name": name}).json()
    header = client.get(download_url(asset["id"])).headers["Content-Disposition"]
    params = disposition_params(header)
    assert set(params) == {"filename", "filename*"}
    assert '"' not in params["filename"]
    assert params["filename"].isascii()
    assert unquote(params["filename*"].partition("''")[2]) == renamed["file_name"]


def test_range_gives_206_with_content_range(client: TestClient, asset: dict[str, Any]) -> None:
    response = client.get(download_url(asset["id"]), headers={"Range": "bytes=0-3"})
    assert response.status_code == 206
    assert response.content == CONTENT[:4]
    assert response.headers["Content-Range"] == f"bytes 0-3/{len(CONTENT)}"
    assert response.headers["Content-Length"] == "4"


def test_middle_and_open_ended_ranges(client: TestClient, asset: dict[str, Any]) -> None:
    size = len(CONTENT)
    middle = client.get(download_url(asset["id"]), headers={"Range": "bytes=8-15"})
    assert (middle.status_code, middle.content) == (206, CONTENT[8:16])
    tail = client.get(download_url(asset["id"]), headers={"Range": f"bytes={size - 5}-"})
    assert (tail.status_code, tail.content) == (206, CONTENT[-5:])
    assert tail.headers["Content-Range"] == f"bytes {size - 5}-{size - 1}/{size}"


def test_suffix_range_gives_the_last_bytes(client: TestClient, asset: dict[str, Any]) -> None:
    size = len(CONTENT)
    response = client.get(download_url(asset["id"]), headers={"Range": "bytes=-4"})
    assert response.status_code == 206
    assert response.content == CONTENT[-4:]
    assert response.headers["Content-Range"] == f"bytes {size - 4}-{size - 1}/{size}"


@pytest.mark.parametrize("first", [0, 1])
def test_unsatisfiable_range_is_416(client: TestClient, asset: dict[str, Any], first: int) -> None:
    start = len(CONTENT) + first
    response = client.get(download_url(asset["id"]), headers={"Range": f"bytes={start}-"})
    assert response.status_code == 416
    assert response.headers["Content-Range"] == f"bytes */{len(CONTENT)}"


def test_if_none_match_with_the_etag_is_304(client: TestClient, asset: dict[str, Any]) -> None:
    etag = client.get(download_url(asset["id"])).headers["ETag"]
    for value in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        response = client.get(download_url(asset["id"]), headers={"If-None-Match": value})
        assert response.status_code == 304, value
        assert response.content == b""
        assert response.headers["ETag"] == etag


def test_if_none_match_with_another_etag_is_200(client: TestClient, asset: dict[str, Any]) -> None:
    response = client.get(download_url(asset["id"]), headers={"If-None-Match": '"stale"'})
    assert response.status_code == 200
    assert response.content == CONTENT


def test_etag_changes_with_the_content(client: TestClient, asset: dict[str, Any]) -> None:
    old_etag = client.get(download_url(asset["id"])).headers["ETag"]
    files = {"file": ("wallet.jpg", samples.jpeg(), "image/jpeg")}
    assert client.post(f"/api/media-assets/{asset['id']}/upload", files=files).status_code == 200
    response = client.get(download_url(asset["id"]), headers={"If-None-Match": old_etag})
    assert response.status_code == 200
    assert response.content == samples.jpeg()
    assert response.headers["Content-Type"] == "image/jpeg"


def test_record_without_file_is_404(client: TestClient) -> None:
    record = create_record(client, "scan.png")
    response = client.get(download_url(record["id"]))
    assert response.status_code == 404
    assert isinstance(response.json()["detail"], str)


def test_file_missing_from_disk_is_404(
    client: TestClient, settings: Settings, asset: dict[str, Any]
) -> None:
    (settings.files_dir / asset["storage_location"]).unlink()
    assert client.get(download_url(asset["id"])).status_code == 404


def test_unknown_asset_is_404(client: TestClient) -> None:
    response = client.get(download_url(random_id()))
    assert response.status_code == 404
    assert isinstance(response.json()["detail"], str)


def test_malformed_asset_id_is_422(client: TestClient) -> None:
    assert client.get(download_url("not-a-uuid")).status_code == 422


def test_head_answers_like_get_without_the_body(client: TestClient, asset: dict[str, Any]) -> None:
    url = download_url(asset["id"])
    full = client.get(url)
    head = client.head(url)
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == str(len(CONTENT))
    assert head.headers["accept-ranges"] == "bytes"
    for name in (
        "content-type",
        "content-length",
        "etag",
        "accept-ranges",
        "content-disposition",
        "x-content-type-options",
        "cache-control",
    ):
        assert head.headers[name] == full.headers[name], name

    part = client.head(url, headers={"Range": "bytes=0-9"})
    assert part.status_code == 206 and part.content == b""
    assert part.headers["content-range"] == f"bytes 0-9/{len(CONTENT)}"
    assert part.headers["content-length"] == "10"
    unchanged = client.head(url, headers={"If-None-Match": full.headers["etag"]})
    assert unchanged.status_code == 304
    assert client.head(url, headers={"Range": f"bytes={len(CONTENT) + 5}-"}).status_code == 416


def test_head_of_a_missing_file_or_asset_is_404_and_needs_a_token(
    client: TestClient, anonymous: TestClient
) -> None:
    record = create_record(client, "later.png")
    assert client.head(download_url(record["id"])).status_code == 404
    assert client.head(download_url(random_id())).status_code == 404
    refused = anonymous.head(download_url(random_id()))
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"] == "Bearer"
