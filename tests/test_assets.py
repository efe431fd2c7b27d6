"""Asset records over HTTP: metadata create, get, update, delete, and adding or removing tags."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.config import Settings
from tests import samples
from tests.conftest import (
    assert_utc,
    create_record,
    create_tag,
    make_token,
    random_id,
    row_counts,
    stored_files,
    tag_names,
    uploaded,
)

ASSET_FIELDS = {
    "id",
    "file_name",
    "file_type",
    "content_type",
    "storage_location",
    "file_size_bytes",
    "checksum_sha256",
    "uploaded_at",
    "uploaded_by",
    "created_at",
    "updated_at",
    "content",
    "preview",
    "image",
    "links",
    "tags",
}


def fetch(client: TestClient, asset_id: str) -> dict[str, Any]:
    response = client.get(f"/api/media-assets/{asset_id}")
    assert response.status_code == 200, response.text
    asset: dict[str, Any] = response.json()
    return asset


def tags_call(client: TestClient, method: str, asset_id: str, body: Any) -> Any:
    return client.request(method, f"/api/media-assets/{asset_id}/tags", json=body)


# Metadata create


def test_create_record_without_a_file(client: TestClient) -> None:
    response = client.post("/api/media-assets", json={"file_name": "Bifold pattern.pdf"})
    assert response.status_code == 201, response.text
    asset = response.json()
    assert set(asset) == ASSET_FIELDS
    assert asset["file_name"] == "Bifold pattern.pdf"
    assert asset["file_type"] == ".pdf"
    assert asset["content_type"] == "application/pdf"
    assert asset["file_size_bytes"] == 0
    assert asset["storage_location"] is None
    assert asset["checksum_sha256"] is None
    assert asset["uploaded_by"] == "alice"
    assert asset["tags"] == []
    for field in ("uploaded_at", "created_at", "updated_at"):
        assert_utc(asset[field])
    assert fetch(client, asset["id"]) == asset


@pytest.mark.parametrize("file_type", ["JPG", "jpg", ".jpg", ".JPG"])
def test_file_type_is_normalised(client: TestClient, file_type: str) -> None:
    asset = create_record(client, "scan.jpg", file_type=file_type)
    assert asset["file_type"] == ".jpg"


def test_file_type_comes_from_the_name_in_lowercase(client: TestClient) -> None:
    assert create_record(client, "PHOTO.JPG")["file_type"] == ".jpg"


def test_file_name_loses_its_directories(client: TestClient) -> None:
    assert create_record(client, "../../x/passwd.jpg")["file_name"] == "passwd.jpg"


def test_uploaded_by_may_name_the_caller(client: TestClient) -> None:
    assert create_record(client, "a.pdf", uploaded_by="alice")["uploaded_by"] == "alice"


def test_naming_another_uploader_needs_admin(client: TestClient, settings: Settings) -> None:
    response = client.post("/api/media-assets", json={"file_name": "a.pdf", "uploaded_by": "bob"})
    assert response.status_code == 403
    assert isinstance(response.json()["detail"], str)
    assert row_counts(settings)["media_asset"] == 0


def test_admin_may_name_another_uploader(admin: TestClient) -> None:
    response = admin.post("/api/media-assets", json={"file_name": "a.pdf", "uploaded_by": "bob"})
    assert response.status_code == 201
    assert response.json()["uploaded_by"] == "bob"


def test_admin_defaults_to_itself(admin: TestClient) -> None:
    response = admin.post("/api/media-assets", json={"file_name": "a.pdf"})
    assert response.json()["uploaded_by"] == "root"


@pytest.mark.parametrize(
    "body",
    [
        {"file_name": "setup.exe"},
        {"file_name": "page.html"},
        {"file_name": "README"},
        {"file_name": "setup", "file_type": "exe"},
        {"file_name": "archive.zip", "file_type": ".ZIP"},
    ],
)
def test_type_outside_the_allowed_list_is_415(
    client: TestClient, settings: Settings, body: dict[str, Any]
) -> None:
    response = client.post("/api/media-assets", json=body)
    assert response.status_code == 415
    assert isinstance(response.json()["detail"], str)
    assert row_counts(settings)["media_asset"] == 0


def test_unknown_tag_id_is_422_naming_it_and_creates_nothing(
    client: TestClient, settings: Settings
) -> None:
    known = create_tag(client, "Leather")
    unknown = random_id()
    response = client.post(
        "/api/media-assets", json={"file_name": "a.pdf", "tag_ids": [known["id"], unknown]}
    )
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert unknown in str(detail)
    assert known["id"] not in str(detail)
    assert row_counts(settings) == {"media_asset": 0, "tag": 1, "media_asset_tag": 0}
    assert client.get(f"/api/tags/{known['id']}/count").json() == 0


def test_create_with_tags_embeds_them_sorted_by_name(client: TestClient) -> None:
    ids = [create_tag(client, name)["id"] for name in ["Zebra", "apple", "Mango"]]
    asset = create_record(client, "a.pdf", tag_ids=ids)
    assert tag_names(asset) == ["apple", "Mango", "Zebra"]
    assert all(tag["asset_count"] == 1 for tag in asset["tags"])
    assert tag_names(fetch(client, asset["id"])) == ["apple", "Mango", "Zebra"]


@pytest.mark.parametrize(
    "body",
    [
        b'{"file_name": "a.pdf"',
        b"file_name=a.pdf",
        b"",
        b"[]",
        b'{"file_name": "a.pdf", "tag_ids": ["not-a-uuid"]}',
        b'{"file_name": "a.pdf", "tag_ids": "not-a-list"}',
        b'{"file_name": ""}',
        b'{"file_name": "../"}',
        b'{"file_name": null}',
        b'{"file_type": ".pdf"}',
        b'{"file_name": "a.pdf", "unexpected": 1}',
        b'{"file_name": "\xff\xfe.pdf"}',
    ],
)
def test_malformed_create_is_422(client: TestClient, settings: Settings, body: bytes) -> None:
    response = client.post(
        "/api/media-assets", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422
    assert isinstance(response.json()["detail"], list)
    assert row_counts(settings)["media_asset"] == 0


# Get


def test_get_unknown_asset_is_404(client: TestClient) -> None:
    response = client.get(f"/api/media-assets/{random_id()}")
    assert response.status_code == 404
    assert isinstance(response.json()["detail"], str)


@pytest.mark.parametrize("bad", ["not-a-uuid", "42", "e3b0c442-98fc-1c14-9afb-zzzzzzzzzzzz"])
def test_malformed_asset_id_is_422(client: TestClient, bad: str) -> None:
    assert client.get(f"/api/media-assets/{bad}").status_code == 422
    assert client.put(f"/api/media-assets/{bad}", json={"file_name": "a.pdf"}).status_code == 422
    assert client.delete(f"/api/media-assets/{bad}").status_code == 422
    assert tags_call(client, "POST", bad, {"tag_ids": []}).status_code == 422


# Update


def test_rename_keeps_the_type_of_the_content(client: TestClient) -> None:
    asset = uploaded(client, "wallet.png", samples.png())
    response = client.put(f"/api/media-assets/{asset['id']}", json={"file_name": "dir/wallet.jpg"})
    assert response.status_code == 200
    renamed = response.json()
    assert renamed["file_name"] == "wallet.jpg"
    assert (renamed["file_type"], renamed["content_type"]) == (".png", "image/png")
    for field in ("storage_location", "checksum_sha256", "file_size_bytes", "uploaded_at"):
        assert renamed[field] == asset[field]
    assert assert_utc(renamed["updated_at"]) > assert_utc(asset["updated_at"])
    assert fetch(client, asset["id"]) == renamed


def test_put_tag_ids_replaces_the_whole_set(client: TestClient) -> None:
    a, b, c = (create_tag(client, name)["id"] for name in ["A", "B", "C"])
    asset = create_record(client, "a.pdf", tag_ids=[a, b])
    response = client.put(f"/api/media-assets/{asset['id']}", json={"tag_ids": [c, b]})
    assert response.status_code == 200
    assert tag_names(response.json()) == ["B", "C"]
    assert response.json()["file_name"] == "a.pdf"
    assert client.get(f"/api/tags/{a}/count").json() == 0
    cleared = client.put(f"/api/media-assets/{asset['id']}", json={"tag_ids": []}).json()
    assert cleared["tags"] == []


def test_put_with_unknown_tag_changes_nothing(client: TestClient, settings: Settings) -> None:
    a = create_tag(client, "A")["id"]
    asset = create_record(client, "a.pdf", tag_ids=[a])
    unknown = random_id()
    response = client.put(
        f"/api/media-assets/{asset['id']}", json={"file_name": "b.pdf", "tag_ids": [unknown]}
    )
    assert response.status_code == 422
    assert unknown in str(response.json()["detail"])
    assert fetch(client, asset["id"]) == asset
    assert row_counts(settings)["media_asset_tag"] == 1


def test_put_without_changes_keeps_updated_at(client: TestClient) -> None:
    asset = create_record(client, "a.pdf")
    response = client.put(f"/api/media-assets/{asset['id']}", json={"file_name": "a.pdf"})
    assert response.json() == asset


@pytest.mark.parametrize(
    "body",
    [{"file_name": None}, {"tag_ids": None}, {"file_name": ""}, {"file_type": ".png"}, []],
)
def test_invalid_put_is_422(client: TestClient, body: Any) -> None:
    asset = create_record(client, "a.pdf")
    assert client.put(f"/api/media-assets/{asset['id']}", json=body).status_code == 422
    assert fetch(client, asset["id"]) == asset


def test_put_unknown_asset_is_404(client: TestClient) -> None:
    response = client.put(f"/api/media-assets/{random_id()}", json={"file_name": "a.pdf"})
    assert response.status_code == 404


# Delete


def test_delete_removes_record_links_and_file(client: TestClient, settings: Settings) -> None:
    tag = create_tag(client, "Leather")
    asset = uploaded(client, "wallet.png", samples.png(), tag_ids=[tag["id"]])
    path = settings.files_dir / asset["storage_location"]
    assert path.is_file()
    response = client.delete(f"/api/media-assets/{asset['id']}")
    assert response.status_code == 204
    assert response.content == b""
    assert not path.exists()
    assert stored_files(settings) == []
    assert row_counts(settings) == {"media_asset": 0, "tag": 1, "media_asset_tag": 0}
    assert client.get(f"/api/tags/{tag['id']}").json()["asset_count"] == 0
    assert client.get(f"/api/media-assets/{asset['id']}").status_code == 404
    assert client.get(f"/api/media-assets/{asset['id']}/download").status_code == 404
    assert client.delete(f"/api/media-assets/{asset['id']}").status_code == 404


def test_delete_record_without_file(client: TestClient, settings: Settings) -> None:
    asset = create_record(client, "a.pdf")
    assert client.delete(f"/api/media-assets/{asset['id']}").status_code == 204
    assert row_counts(settings)["media_asset"] == 0


def test_delete_unknown_asset_is_404(client: TestClient) -> None:
    assert client.delete(f"/api/media-assets/{random_id()}").status_code == 404


# Adding and removing tags


@pytest.mark.parametrize("wrap", [True, False], ids=["object", "bare array"])
def test_add_tags(client: TestClient, wrap: bool) -> None:
    a, b = (create_tag(client, name)["id"] for name in ["b-side", "Alpha"])
    asset = create_record(client, "a.pdf")
    response = tags_call(client, "POST", asset["id"], {"tag_ids": [a, b]} if wrap else [a, b])
    assert response.status_code == 200, response.text
    changed = response.json()
    assert tag_names(changed) == ["Alpha", "b-side"]
    assert assert_utc(changed["updated_at"]) > assert_utc(asset["updated_at"])
    assert fetch(client, asset["id"]) == changed


@pytest.mark.parametrize("wrap", [True, False], ids=["object", "bare array"])
def test_remove_tags(client: TestClient, wrap: bool) -> None:
    a, b = (create_tag(client, name)["id"] for name in ["A", "B"])
    asset = create_record(client, "a.pdf", tag_ids=[a, b])
    response = tags_call(client, "DELETE", asset["id"], {"tag_ids": [a]} if wrap else [a])
    assert response.status_code == 200, response.text
    changed = response.json()
    assert tag_names(changed) == ["B"]
    assert assert_utc(changed["updated_at"]) > assert_utc(asset["updated_at"])
    assert fetch(client, asset["id"]) == changed


@pytest.mark.parametrize("method", ["POST", "DELETE"])
def test_tag_changes_that_change_nothing_are_no_ops(client: TestClient, method: str) -> None:
    on, off = (create_tag(client, name)["id"] for name in ["On", "Off"])
    asset = create_record(client, "a.pdf", tag_ids=[on])
    # Adding a present tag, removing an absent one, or an empty list: all leave the asset alone.
    same = [on, on] if method == "POST" else [off]
    bodies: list[Any] = [{"tag_ids": same}, same, {"tag_ids": []}, []]
    for body in bodies:
        response = tags_call(client, method, asset["id"], body)
        assert response.status_code == 200, response.text
        assert response.json() == asset


@pytest.mark.parametrize("method", ["POST", "DELETE"])
def test_unknown_tag_ids_are_422_and_change_nothing(
    client: TestClient, settings: Settings, method: str
) -> None:
    on, off = (create_tag(client, name)["id"] for name in ["On", "Off"])
    asset = create_record(client, "a.pdf", tag_ids=[on])
    unknown = random_id()
    known = off if method == "POST" else on
    response = tags_call(client, method, asset["id"], {"tag_ids": [known, unknown]})
    assert response.status_code == 422
    assert unknown in str(response.json()["detail"])
    assert fetch(client, asset["id"]) == asset
    assert row_counts(settings)["media_asset_tag"] == 1


@pytest.mark.parametrize("method", ["POST", "DELETE"])
@pytest.mark.parametrize(
    "body", [{"tag_ids": ["nope"]}, ["nope"], {"ids": []}, {"tag_ids": "x"}, "x", None]
)
def test_malformed_tag_bodies_are_422(client: TestClient, method: str, body: Any) -> None:
    asset = create_record(client, "a.pdf")
    assert tags_call(client, method, asset["id"], body).status_code == 422


@pytest.mark.parametrize("method", ["POST", "DELETE"])
def test_tags_on_unknown_asset_is_404(client: TestClient, method: str) -> None:
    tag = create_tag(client, "A")["id"]
    assert tags_call(client, method, random_id(), {"tag_ids": [tag]}).status_code == 404


def test_any_writer_may_tag_anothers_asset(client: TestClient) -> None:
    tag = create_tag(client, "A")["id"]
    asset = create_record(client, "a.pdf")
    bob = TestClient(client.app, headers={"Authorization": f"Bearer {make_token(sub='bob')}"})
    response = tags_call(bob, "POST", asset["id"], {"tag_ids": [tag]})
    assert response.status_code == 200
    assert response.json()["uploaded_by"] == "alice"
