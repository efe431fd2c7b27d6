"""Previews, image facts and duplicates through the API, on both engines and databases:
real images made in the suite, rendered by the derived-data worker in its child process."""

from __future__ import annotations

import io
from typing import Any

from fastapi.testclient import TestClient
from PIL import Image

from service.config import Settings
from tests import image_samples
from tests.conftest import stored_files
from tests.search_fixtures import listing, settled, upload


def _picture(response: Any) -> Image.Image:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/webp"
    return Image.open(io.BytesIO(response.content))


def test_a_portrait_photo_gets_upright_previews_and_its_facts(api: TestClient) -> None:
    photo = upload(api, "portrait.jpg", image_samples.exif_jpeg())
    assert photo["preview"] == {"status": "pending"} and photo["image"] is None
    asset = settled(api, photo["id"], "preview")
    assert asset["preview"] == {"status": "ready"}
    width, height = image_samples.PHOTO_SHOWN_SIZE
    assert asset["image"]["width"] == width and asset["image"]["height"] == height
    assert asset["image"]["orientation"] == "portrait"
    taken = image_samples.PHOTO_TAKEN_AT.isoformat().replace("+00:00", "Z")
    assert asset["image"]["taken_at"] == taken
    small = api.get(f"/api/media-assets/{photo['id']}/preview")
    picture = _picture(small)
    assert max(picture.size) <= 320 and picture.width < picture.height
    assert small.headers["cache-control"] == "private"
    head = api.head(f"/api/media-assets/{photo['id']}/preview")
    assert head.status_code == 200 and head.content == b""
    for name in ("content-type", "content-length", "etag", "cache-control"):
        assert head.headers[name] == small.headers[name], name
    again = api.get(
        f"/api/media-assets/{photo['id']}/preview", headers={"If-None-Match": small.headers["etag"]}
    )
    assert again.status_code == 304
    large = _picture(api.get(f"/api/media-assets/{photo['id']}/preview", params={"size": "large"}))
    assert max(large.size) == 1280 and large.width < large.height
    listed = listing(api, orientation="portrait", facets="orientation")
    assert [item["id"] for item in listed["items"]] == [photo["id"]]
    assert listed["items"][0]["image"] == asset["image"]


def test_each_type_gets_previews_and_orientation_filters_and_facets(api: TestClient) -> None:
    files = {
        "drawing.png": image_samples.png(),
        "frames.gif": image_samples.gif(),
        "pattern.pdf": image_samples.pdf(),
        "square.png": _square_png(),
    }
    ids = {name: upload(api, name, body)["id"] for name, body in files.items()}
    for asset_id in ids.values():
        assert settled(api, asset_id, "preview")["preview"]["status"] == "ready"
    first_frame = _picture(api.get(f"/api/media-assets/{ids['frames.gif']}/preview"))
    assert first_frame.convert("RGB").getpixel((5, 5)) == _near(image_samples.GIF_FIRST_FRAME)
    facets = listing(api, facets="orientation", limit=0)["facets"]["orientation"]
    assert facets == [
        {"value": "landscape", "count": 2},
        {"value": "portrait", "count": 1},
        {"value": "square", "count": 1},
    ]
    squares = listing(api, orientation="square")
    assert [item["file_name"] for item in squares["items"]] == ["square.png"]
    refused = api.get("/api/media-assets", params={"orientation": "round"})
    assert refused.status_code == 422


def test_an_svg_with_a_script_is_refused_or_drawn_without_running_it(
    api: TestClient, tmp_path: Any
) -> None:
    secret = tmp_path / "secret.png"
    secret.write_bytes(image_samples.png())
    drawing = image_samples.svg_with_script(url="http://127.0.0.1:9/x", local_image=str(secret))
    response = api.post(
        "/api/media-assets/upload", files={"file": ("mark.svg", drawing, "image/svg+xml")}
    )
    # The upload check refuses active content in SVGs (the fail-safe issue).
    assert response.status_code == 415, response.text


def _square_png() -> bytes:
    output = io.BytesIO()
    Image.new("RGB", (500, 490), (90, 60, 30)).save(output, "PNG")
    return output.getvalue()


def _near(colour: tuple[int, int, int]) -> Any:
    class Near:
        def __eq__(self, other: object) -> bool:
            return isinstance(other, tuple) and all(
                abs(a - b) <= 12 for a, b in zip(other, colour, strict=True)
            )

    return Near()


def test_types_without_previews_and_files_that_fail(api: TestClient) -> None:
    sheet = upload(api, "notes.csv", b"a,b\n1,2\n")
    assert sheet["preview"] == {"status": "none"} and sheet["image"] is None
    missing = api.get(f"/api/media-assets/{sheet['id']}/preview")
    assert missing.status_code == 404
    assert missing.json()["detail"] == "Files of type .csv have no preview."
    record = api.post("/api/media-assets", json={"file_name": "later.jpg"}).json()
    assert record["preview"] == {"status": "none"}
    assert "no file" in api.get(f"/api/media-assets/{record['id']}/preview").json()["detail"]
    bomb = upload(api, "bomb.png", image_samples.png_bomb())
    failed = settled(api, bomb["id"], "preview")
    assert failed["preview"] == {"status": "failed"} and failed["image"] is None
    detail = api.get(f"/api/media-assets/{bomb['id']}/preview").json()["detail"]
    assert "megapixels" in detail
    cut = upload(api, "cut.jpg", image_samples.damaged_jpeg())
    assert settled(api, cut["id"], "preview")["preview"]["status"] == "failed"
    assert [item["file_name"] for item in listing(api, search="bomb")["items"]] == ["bomb.png"]
    # The worker goes on.
    after = upload(api, "after.png", image_samples.png())
    assert settled(api, after["id"], "preview")["preview"]["status"] == "ready"


def test_exact_and_similar_duplicates(api: TestClient) -> None:
    photo = image_samples.exif_jpeg()
    first = upload(api, "first.jpg", photo)
    response = api.post(
        "/api/media-assets/upload", files={"file": ("second.jpg", photo, "image/jpeg")}
    )
    assert response.status_code == 201
    second = response.json()
    assert response.headers["x-duplicate-of"] == first["id"]
    assert (
        "x-duplicate-of"
        not in api.post(
            "/api/media-assets/upload",
            files={"file": ("other.jpg", image_samples.unrelated_jpeg(), "image/jpeg")},
        ).headers
    )
    smaller = upload(api, "smaller.jpg", image_samples.resized_copy(photo))
    for asset in (first, second, smaller):
        settled(api, asset["id"], "preview")
    found = api.get(f"/api/media-assets/{first['id']}/duplicates").json()
    assert found["exact"] == [second["id"]]
    similar = {entry["id"]: entry["distance"] for entry in found["similar"]}
    assert similar[second["id"]] == 0
    assert 0 <= similar[smaller["id"]] <= 8
    distances = [entry["distance"] for entry in found["similar"]]
    assert distances == sorted(distances)
    unknown = api.get("/api/media-assets/00000000-0000-4000-8000-000000000000/duplicates")
    assert unknown.status_code == 404


def test_a_replace_or_delete_removes_the_old_previews(
    api: TestClient, engine_settings: Settings
) -> None:
    asset = upload(api, "drawing.png", image_samples.png())
    settled(api, asset["id"], "preview")
    assert len(stored_files(engine_settings)) == 3  # the file and its two previews
    replaced = api.post(
        f"/api/media-assets/{asset['id']}/upload",
        files={"file": ("frames.gif", image_samples.gif(), "image/gif")},
    )
    assert replaced.status_code == 200
    settled(api, asset["id"], "preview")
    assert len(stored_files(engine_settings)) == 3
    assert api.delete(f"/api/media-assets/{asset['id']}").status_code == 204
    assert stored_files(engine_settings) == []
