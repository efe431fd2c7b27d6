"""File uploads: type detection, names, storage on disk, size limits, tags and replacement."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.app import create_app
from service.config import Settings
from tests import content_samples, samples
from tests.conftest import (
    SettingsFactory,
    assert_same_asset,
    assert_utc,
    bearer,
    create_record,
    create_tag,
    make_token,
    random_id,
    row_counts,
    stored_files,
    stored_originals,
    tag_names,
    upload,
    uploaded,
)

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SMALL_LIMIT = 4096


def assert_stored(settings: Settings, asset: dict[str, Any], content: bytes) -> Path:
    """The asset's file exists under the files dir, by a relative key, with exactly `content`."""
    key = asset["storage_location"]
    assert isinstance(key, str)
    assert not PurePosixPath(key).is_absolute()
    assert ".." not in PurePosixPath(key).parts
    assert str(settings.data_dir) not in key
    path = settings.files_dir / key
    assert path.read_bytes() == content
    return path


@pytest.mark.parametrize(
    ("name", "make", "content_type"),
    [
        ("wallet.png", samples.png, "image/png"),
        ("wallet.jpg", samples.jpeg, "image/jpeg"),
        ("wallet.jpeg", samples.jpeg, "image/jpeg"),
        ("stitch.gif", samples.gif, "image/gif"),
        ("pattern.pdf", samples.pdf, "application/pdf"),
        ("care guide.docx", samples.docx, DOCX),
        ("prices.xlsx", samples.xlsx, XLSX),
        ("old notes.doc", samples.doc, "application/msword"),
        ("prices.csv", samples.csv, "text/csv"),
        ("logo.svg", samples.svg, "image/svg+xml"),
    ],
)
def test_upload_each_allowed_type(
    client: TestClient,
    settings: Settings,
    name: str,
    make: Callable[[], bytes],
    content_type: str,
) -> None:
    content = make()
    # The declared type is a lie on purpose: the stored type must come from the bytes.
    response = upload(client, name, content, declared_type="text/html")
    assert response.status_code == 201, response.text
    asset = response.json()
    assert asset["file_name"] == name
    assert asset["file_type"] == PurePosixPath(name).suffix
    assert asset["content_type"] == content_type
    assert asset["file_size_bytes"] == len(content)
    assert asset["checksum_sha256"] == hashlib.sha256(content).hexdigest()
    assert asset["uploaded_by"] == "alice"
    for field in ("uploaded_at", "created_at", "updated_at"):
        assert_utc(asset[field])
    assert_stored(settings, asset, content)
    assert stored_originals(settings) == [settings.files_dir / asset["storage_location"]]
    assert_same_asset(client.get(f"/api/media-assets/{asset['id']}").json(), asset)


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("../../x/passwd.jpg", "passwd.jpg"),
        ("/etc/passwd.jpg", "passwd.jpg"),
        ("..\\..\\windows\\evil.jpg", "evil.jpg"),
        ("C:\\Users\\bob\\photo.jpg", "photo.jpg"),
    ],
)
def test_file_name_loses_its_directories(
    client: TestClient, settings: Settings, sent: str, kept: str
) -> None:
    asset = uploaded(client, sent, samples.jpeg())
    assert asset["file_name"] == kept
    assert_stored(settings, asset, samples.jpeg())
    # Nothing escaped the files tree.
    assert not (settings.data_dir.parent / "x").exists()


def test_upper_case_extension_is_normalised(client: TestClient) -> None:
    asset = uploaded(client, "PHOTO.JPG", samples.jpeg())
    assert (asset["file_name"], asset["file_type"]) == ("PHOTO.JPG", ".jpg")
    assert asset["content_type"] == "image/jpeg"


def test_upload_uses_the_callers_subject(anonymous: TestClient) -> None:
    bob = TestClient(anonymous.app, headers=bearer(make_token(sub="bob", scope="media:write")))
    assert uploaded(bob, "a.png", samples.png())["uploaded_by"] == "bob"


def test_tag_ids_as_repeated_form_fields(client: TestClient) -> None:
    ids = [create_tag(client, name)["id"] for name in ["Saddle", "brown", "Awl"]]
    asset = uploaded(client, "wallet.png", samples.png(), tag_ids=ids)
    assert tag_names(asset) == ["Awl", "brown", "Saddle"]
    for tag_id in ids:
        assert client.get(f"/api/tags/{tag_id}/count").json() == 1


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("photo.jpg", samples.html()),
        ("prices.csv", samples.html()),
        ("report.docx", samples.plain_zip()),
        ("report.xlsx", samples.docx()),
        ("report.docx", samples.pdf()),
        ("report.pdf", samples.png()),
        ("photo.png", samples.jpeg()),
        ("prices.csv", samples.png()),
        ("logo.svg", samples.html()),
        ("old.doc", samples.pdf()),
        ("setup.exe", b"MZ\x90\x00" + b"\x00" * 60),
        ("page.html", samples.html()),
        ("archive.zip", samples.plain_zip()),
        ("no extension", samples.png()),
        # HTML wherever it starts in a text file: after a byte-order mark, a comment,
        # or lines of CSV.
        ("prices.csv", b"\xef\xbb\xbf" + samples.html()),
        ("prices.csv", b"<!-- export -->\n" + samples.html()),
        ("prices.csv", samples.csv() * 400 + b"<html><script>alert(1)</script></html>"),
        # HTML in UTF-16, where NUL bytes sit between its letters.
        ("prices.csv", content_samples.html_in_utf16_csv()),
        # Binary after 64 KiB of good lines, past any head a check could sample.
        ("prices.csv", content_samples.binary_csv()),
        # Control characters throughout, with no NUL byte to give them away.
        ("prices.csv", bytes(range(1, 32)) * 100),
        # SVG that could run script when opened.
        ("logo.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
        ("logo.svg", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'),
        (
            "logo.svg",
            b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:x="http://www.w3.org/1999/xlink">'
            b'<a x:href="java&#x09;script:alert(1)"><text>hi</text></a></svg>',
        ),
        (
            "logo.svg",
            b'<svg xmlns="http://www.w3.org/2000/svg"><foreignObject><iframe/></foreignObject></svg>',
        ),
        (
            "logo.svg",
            b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaa">]>'
            b'<svg xmlns="http://www.w3.org/2000/svg"><text>&a;&a;</text></svg>',
        ),
        ("logo.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><text>unclosed</svg>'),
    ],
)
def test_disguised_or_disallowed_uploads_are_415(
    client: TestClient, settings: Settings, name: str, content: bytes
) -> None:
    response = upload(client, name, content, declared_type="image/png")
    assert response.status_code == 415, response.text
    assert isinstance(response.json()["detail"], str)
    assert stored_files(settings) == []
    assert row_counts(settings)["media_asset"] == 0


def test_missing_file_part_is_422(client: TestClient, settings: Settings) -> None:
    tag = create_tag(client, "A")["id"]
    for response in (
        client.post("/api/media-assets/upload", data={"tag_ids": [tag]}),
        client.post("/api/media-assets/upload", files={"other": ("a.png", samples.png())}),
        client.post("/api/media-assets/upload", json={"file": "a.png"}),
        client.post("/api/media-assets/upload"),
    ):
        assert response.status_code == 422, response.text
        assert isinstance(response.json()["detail"], list)
    assert row_counts(settings)["media_asset"] == 0
    assert stored_files(settings) == []


@pytest.mark.parametrize("bad", ["unknown", "malformed"])
def test_bad_tag_id_leaves_no_file_and_no_row(
    client: TestClient, settings: Settings, bad: str
) -> None:
    known = create_tag(client, "A")["id"]
    wrong = random_id() if bad == "unknown" else "not-a-uuid"
    response = upload(client, "a.png", samples.png(), tag_ids=[known, wrong])
    assert response.status_code == 422
    assert wrong in str(response.json()["detail"])
    assert stored_files(settings) == []
    assert row_counts(settings) == {"media_asset": 0, "tag": 1, "media_asset_tag": 0}


@pytest.fixture
def small(
    tmp_path: Path, settings_factory: SettingsFactory
) -> Iterator[tuple[TestClient, Settings]]:
    """An app of its own whose upload limit is a few KiB."""
    settings = settings_factory(tmp_path / "small", max_upload_bytes=SMALL_LIMIT)
    with TestClient(create_app(settings), headers=bearer(make_token())) as client:
        yield client, settings


def padded_png(size: int) -> bytes:
    # Bytes after IEND do not change what the signature says the file is.
    content = samples.png()
    return content + b"\x00" * (size - len(content))


def test_upload_of_exactly_the_limit_is_accepted(small: tuple[TestClient, Settings]) -> None:
    client, settings = small
    asset = uploaded(client, "a.png", padded_png(SMALL_LIMIT))
    assert asset["file_size_bytes"] == SMALL_LIMIT
    assert_stored(settings, asset, padded_png(SMALL_LIMIT))


@pytest.mark.parametrize(
    "size",
    [SMALL_LIMIT + 1, 3 * SMALL_LIMIT, 2 * 1024 * 1024],
    ids=["one byte over", "streamed", "declared length far over"],
)
def test_oversize_upload_is_413_and_leaves_nothing(
    small: tuple[TestClient, Settings], size: int
) -> None:
    client, settings = small
    tag = create_tag(client, "A")["id"]
    response = upload(client, "big.png", padded_png(size), tag_ids=[tag])
    assert response.status_code == 413, response.text
    assert isinstance(response.json()["detail"], str)
    assert stored_files(settings) == []
    assert row_counts(settings) == {"media_asset": 0, "tag": 1, "media_asset_tag": 0}


def test_oversize_replacement_is_413_and_keeps_the_old_file(
    small: tuple[TestClient, Settings],
) -> None:
    client, settings = small
    asset = uploaded(client, "a.png", samples.png())
    response = upload(
        client,
        "big.png",
        padded_png(2 * SMALL_LIMIT),
        url=f"/api/media-assets/{asset['id']}/upload",
    )
    assert response.status_code == 413
    assert_same_asset(client.get(f"/api/media-assets/{asset['id']}").json(), asset)
    path = assert_stored(settings, asset, samples.png())
    assert stored_originals(settings) == [path]


# Replacing the content of an asset


def test_replace_follows_the_new_file(client: TestClient, settings: Settings) -> None:
    tag = create_tag(client, "Leather")["id"]
    old = uploaded(client, "wallet.png", samples.png(), tag_ids=[tag])
    old_path = assert_stored(settings, old, samples.png())
    bob = TestClient(client.app, headers=bearer(make_token(sub="bob")))
    content = samples.pdf()
    response = upload(bob, "dir/Pattern.PDF", content, url=f"/api/media-assets/{old['id']}/upload")
    assert response.status_code == 200, response.text
    new = response.json()
    assert new["id"] == old["id"]
    assert (new["file_name"], new["file_type"]) == ("Pattern.PDF", ".pdf")
    assert new["content_type"] == "application/pdf"
    assert new["file_size_bytes"] == len(content)
    assert new["checksum_sha256"] == hashlib.sha256(content).hexdigest()
    assert assert_utc(new["updated_at"]) > assert_utc(old["updated_at"])
    for field in ("uploaded_at", "uploaded_by", "created_at", "tags"):
        assert new[field] == old[field]
    assert new["storage_location"] != old["storage_location"]
    assert not old_path.exists()
    new_path = assert_stored(settings, new, content)
    assert stored_originals(settings) == [new_path]
    assert_same_asset(client.get(f"/api/media-assets/{old['id']}").json(), new)
    assert client.get(f"/api/media-assets/{old['id']}/download").content == content


def test_replace_attaches_a_file_to_a_bare_record(client: TestClient, settings: Settings) -> None:
    record = create_record(client, "scan.jpg")
    response = upload(
        client, "scan.png", samples.png(), url=f"/api/media-assets/{record['id']}/upload"
    )
    assert response.status_code == 200, response.text
    asset = response.json()
    assert (asset["file_name"], asset["file_type"], asset["content_type"]) == (
        "scan.png",
        ".png",
        "image/png",
    )
    assert asset["uploaded_at"] == record["uploaded_at"]
    assert_stored(settings, asset, samples.png())


@pytest.mark.parametrize(
    ("name", "content"),
    [("photo.jpg", samples.html()), ("report.docx", samples.plain_zip()), ("run.exe", b"MZ")],
)
def test_disguised_replacement_is_415_and_changes_nothing(
    client: TestClient, settings: Settings, name: str, content: bytes
) -> None:
    old = uploaded(client, "wallet.png", samples.png())
    response = upload(client, name, content, url=f"/api/media-assets/{old['id']}/upload")
    assert response.status_code == 415
    assert_same_asset(client.get(f"/api/media-assets/{old['id']}").json(), old)
    path = assert_stored(settings, old, samples.png())
    assert stored_originals(settings) == [path]


def test_replace_without_file_is_422_and_changes_nothing(
    client: TestClient, settings: Settings
) -> None:
    old = uploaded(client, "wallet.png", samples.png())
    response = client.post(f"/api/media-assets/{old['id']}/upload", data={"x": "y"})
    assert response.status_code == 422
    assert_same_asset(client.get(f"/api/media-assets/{old['id']}").json(), old)
    assert len(stored_originals(settings)) == 1


def test_replace_unknown_asset_is_404(client: TestClient, settings: Settings) -> None:
    response = upload(client, "a.png", samples.png(), url=f"/api/media-assets/{random_id()}/upload")
    assert response.status_code == 404
    assert isinstance(response.json()["detail"], str)
    assert stored_files(settings) == []


def test_a_plain_svg_with_text_and_links_is_accepted(client: TestClient) -> None:
    logo = (
        b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">'
        b'<title>Saddle stitch</title><a xlink:href="https://example.com/onion">'
        b'<text x="1" y="1">one = two</text></a></svg>'
    )
    assert upload(client, "logo.svg", logo).status_code == 201


def test_a_rename_may_not_take_a_refused_extension(client: TestClient) -> None:
    asset = uploaded(client, "invoice.pdf", samples.pdf())
    for name in ("invoice.html", "setup.exe", "invoice.pdf.htm"):
        response = client.put(f"/api/media-assets/{asset['id']}", json={"file_name": name})
        assert response.status_code == 422, response.text
        assert "allowed type" in response.json()["detail"]
    kept = client.get(f"/api/media-assets/{asset['id']}").json()
    assert kept["file_name"] == "invoice.pdf"


@pytest.mark.parametrize(
    "make",
    [
        content_samples.windows_1252_csv,
        content_samples.utf16_csv,
        content_samples.utf8_bom_csv,
    ],
    ids=["windows-1252", "utf-16-le-with-bom", "utf-8-with-bom"],
)
def test_csv_as_spreadsheet_programs_save_it_is_accepted(
    client: TestClient, settings: Settings, make: Callable[[], bytes]
) -> None:
    # Excel writes CSV in the Windows code page, as "Unicode text" (UTF-16) or as
    # UTF-8 with a byte-order mark; "Café" and "€" are where the encodings differ.
    content = make()
    asset = uploaded(client, "prices.csv", content)
    assert asset["content_type"] == "text/csv"
    assert_stored(settings, asset, content)


def _raw_upload(client: TestClient, disposition: bytes, content: bytes) -> Any:
    """A multipart body written byte for byte, for names no HTTP client would send."""
    boundary = b"sentence-boundary"
    body = (
        b"--" + boundary + b"\r\nContent-Disposition: " + disposition + b"\r\n"
        b"Content-Type: application/octet-stream\r\n\r\n" + content + b"\r\n"
        b"--" + boundary + b"--\r\n"
    )
    return client.post(
        "/api/media-assets/upload",
        content=body,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary.decode()}"},
    )


def _sentence(response: Any) -> str:
    detail = response.json()["detail"]
    assert isinstance(detail, list) and len(detail) == 1, detail
    assert detail[0]["loc"] == ["body", "file"], detail
    return str(detail[0]["msg"])


@pytest.mark.parametrize("name", ["manual.pdf", "photo.jpg", "pattern.docx", "logo.svg"])
def test_an_empty_file_is_said_to_be_empty(
    client: TestClient, settings: Settings, name: str
) -> None:
    response = upload(client, name, b"")
    assert response.status_code == 422, response.text
    assert _sentence(response) == f"The uploaded file {name} is empty (0 bytes)."
    assert stored_files(settings) == []
    assert row_counts(settings)["media_asset"] == 0


def test_an_empty_csv_is_still_text(client: TestClient) -> None:
    assert uploaded(client, "nothing-yet.csv", b"")["file_size_bytes"] == 0


def test_a_replacement_by_an_empty_file_is_said_to_be_empty(client: TestClient) -> None:
    asset = uploaded(client, "manual.pdf", content_samples.pdf())
    url = f"/api/media-assets/{asset['id']}/upload"
    response = upload(client, "manual.pdf", b"", url=url)
    assert response.status_code == 422, response.text
    assert "is empty" in _sentence(response)
    assert_same_asset(client.get(f"/api/media-assets/{asset['id']}").json(), asset)


def test_a_name_over_255_characters_is_said_to_be_too_long(
    client: TestClient, settings: Settings
) -> None:
    name = "w" * 252 + ".png"  # 256 characters
    response = upload(client, name, samples.png())
    assert response.status_code == 422, response.text
    assert _sentence(response) == (
        "The uploaded file's name is 256 characters long; a file name may have at most 255."
    )
    assert row_counts(settings)["media_asset"] == 0
    assert uploaded(client, name[1:], samples.png())["file_name"] == name[1:]


def test_a_name_that_is_not_utf8_has_its_own_sentence(
    client: TestClient, settings: Settings
) -> None:
    # Latin-1 "é", as an old client might send it.
    response = _raw_upload(client, b'form-data; name="file"; filename="caf\xe9.png"', samples.png())
    assert response.status_code == 422, response.text
    assert _sentence(response) == (
        "The file's name is not UTF-8 text (byte 0xe9 at 3): send the name in UTF-8, "
        "as browsers do."
    )
    assert stored_files(settings) == []
    utf8 = _raw_upload(
        client, 'form-data; name="file"; filename="café.png"'.encode(), samples.png()
    )
    assert utf8.status_code == 201, utf8.text
    assert utf8.json()["file_name"] == "café.png"


def test_a_name_given_only_as_filename_star_has_its_own_sentence(
    client: TestClient, settings: Settings
) -> None:
    response = _raw_upload(
        client, b"form-data; name=\"file\"; filename*=UTF-8''caf%C3%A9.png", samples.png()
    )
    assert response.status_code == 422, response.text
    assert _sentence(response) == (
        "The file part names its file only by filename*, which multipart/form-data does not "
        'use: send the name as filename="…" in UTF-8.'
    )
    assert "Field required" not in response.text
    assert stored_files(settings) == []
