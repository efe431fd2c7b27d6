"""The library page in a real browser: Debian's Chromium driven by Playwright against the
real service on a temp data dir, doing what a person does with it.

Skipped with a reason where no Chromium is found (`apt-get install chromium`, or point
MEDIA_TEST_CHROMIUM at a Chromium executable)."""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, Locator, Page, Response, expect, sync_playwright

from bench.meilisearch_server import free_port
from service.web.sign_in import SIGN_IN_HOURS, base_url, redact_token, sign_in_url
from tests import content_samples, samples
from tests.conftest import bearer

# A browser with a few seconds' patience per step: run alone (scripts/test).
pytestmark = pytest.mark.serial

ROOT = Path(__file__).resolve().parent.parent
# Screenshots for review; CI keeps the working tree, so they can be looked at after a run.
OUTPUT_DIR = Path(os.environ.get("MEDIA_TEST_OUTPUT_DIR", ROOT / "test-output")) / "web-ui"
# The flags a sandboxed, offline machine needs: no sandbox as root, and no background
# connections to hosts this network refuses.
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SIGN_IN_LINE = re.compile(r"Open the library[^:]*: (\S+)")


def _find_chromium() -> str | None:
    configured = os.environ.get("MEDIA_TEST_CHROMIUM")
    if configured:
        return configured
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    executable = _find_chromium()
    if executable is None:
        pytest.skip(
            "No Chromium found: install Debian's package (apt-get install chromium) "
            "or set MEDIA_TEST_CHROMIUM to a Chromium executable."
        )
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        yield launched
        launched.close()


@dataclass
class LiveService:
    base: str
    sign_in_url: str
    data_dir: Path
    log: Path

    def token(self, subject: str, scope: str, *, ttl: int | None = None) -> str:
        command = [sys.executable, "-m", "service.cli", "token", "--sub", subject, "--scope", scope]
        if ttl is not None:
            command += ["--ttl", str(ttl)]
        return subprocess.run(  # noqa: S603  (our own argument list)
            command,
            env={**os.environ, "MEDIA_DATA_DIR": str(self.data_dir)},
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()

    def add_file(self, file_name: str, *, tag_name: str | None = None) -> dict[str, Any] | None:
        """Setup through the API: one PNG file, carrying a new tag when one is named."""
        admin = bearer(self.token("admin", "media:admin"))
        tag = None
        form = {}
        if tag_name is not None:
            tag = httpx.post(f"{self.base}/api/tags", json={"name": tag_name}, headers=admin).json()
            form["tag_ids"] = tag["id"]
        httpx.post(
            f"{self.base}/api/media-assets/upload",
            files={"file": (file_name, samples.png(), "image/png")},
            data=form,
            headers=admin,
        ).raise_for_status()
        return tag


@pytest.fixture
def start_service(tmp_path: Path) -> Iterator[Callable[..., LiveService]]:
    """`media-assets serve` as a user starts it: migrate, serve, read the printed sign-in URL."""
    servers: list[subprocess.Popen[bytes]] = []

    def start(**variables: str) -> LiveService:
        data_dir = tmp_path / "data"
        env = {**os.environ, "MEDIA_DATA_DIR": str(data_dir), **variables}
        for name in ("MEDIA_AUTH_SECRET", "MEDIA_DATABASE_URL", "MEDIA_SEARCH_ENGINE"):
            env.pop(name, None)
        cli = [sys.executable, "-m", "service.cli"]
        subprocess.run([*cli, "migrate"], env=env, check=True, capture_output=True)  # noqa: S603
        port = free_port()
        log = tmp_path / "serve.log"
        with log.open("wb") as output:
            servers.append(
                subprocess.Popen(  # noqa: S603  (our own argument list)
                    [*cli, "serve", "--port", str(port)],
                    env=env,
                    stdout=output,
                    stderr=subprocess.STDOUT,
                )
            )
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            printed = SIGN_IN_LINE.search(log.read_text())
            try:
                if printed and httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    return LiveService(base, printed.group(1), data_dir, log)
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, f"the service did not start:\n{log.read_text()}"
            assert servers[-1].poll() is None, f"the service exited:\n{log.read_text()}"
            time.sleep(0.2)

    yield start
    for server in servers:
        server.terminate()
        server.wait(timeout=30)


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    opened = context.new_page()
    opened.set_default_timeout(15_000)
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    yield opened
    context.close()
    assert not errors, f"the page raised: {errors}"


def _write(path: Path, content: bytes) -> Path:
    path.write_bytes(content)
    return path


def _summary(page: Page) -> Locator:
    return page.locator("#result-summary")


def _facet_count(page: Page, facet: str, label: str) -> Locator:
    option = page.locator(f"[data-facet={facet}] .facet-option", has_text=label)
    return option.locator(".count")


def _drop_file(page: Page, name: str, content: bytes, mime: str) -> None:
    """Drag a file from the desktop onto the drop zone."""
    transfer = page.evaluate_handle(
        """([name, bytes, mime]) => {
            const transfer = new DataTransfer();
            transfer.items.add(new File([new Uint8Array(bytes)], name, { type: mime }));
            return transfer;
        }""",
        [name, list(content), mime],
    )
    page.dispatch_event("#drop-zone", "drop", {"dataTransfer": transfer})


def _create_tag(page: Page, name: str) -> None:
    page.fill("#new-tag-name", name)
    page.click(".tag-create button[type=submit]")
    expect(page.locator(f".tag-edit input[value='{name}']")).to_have_count(1)


def _choose_upload_tag(page: Page, name: str) -> None:
    page.fill("#upload-tags input[type=text]", name)
    page.keyboard.press("Enter")
    expect(page.locator("#upload-tags .chip", has_text=name)).to_have_count(1)


def test_a_user_manages_the_library_in_the_browser(
    page: Page, start_service: Callable[..., LiveService], tmp_path: Path
) -> None:
    service = start_service()

    # Sign in by the printed URL: the token leaves the address bar and the access log.
    page.goto(service.sign_in_url)
    expect(page.locator("#who")).to_have_text("Signed in as admin")
    assert "token" not in page.url
    assert "GET /?token=[redacted]" in service.log.read_text()

    # Two tags from the tag manager.
    page.click("#open-tag-manager")
    _create_tag(page, "Belts")
    _create_tag(page, "Tan")
    page.click("#tag-manager-close")

    # Upload two files with tags: one through the file picker, one dropped on the page.
    belt = _write(tmp_path / "belt-strap_tan.png", samples.png(64, 48))
    _choose_upload_tag(page, "Belts")
    _choose_upload_tag(page, "Tan")
    page.set_input_files("#file-picker", str(belt))
    expect(page.locator(".upload.done", has_text="belt-strap_tan.png")).to_have_count(1)
    page.click("#upload-tags button[aria-label='Remove tag Tan']")
    _drop_file(page, "wallet pattern.pdf", samples.pdf(), "application/pdf")
    expect(page.locator(".upload.done", has_text="wallet pattern.pdf")).to_have_count(1)
    expect(_summary(page)).to_have_text("2 files.")
    expect(page.locator(".upload-duplicate")).to_have_count(0)
    expect(_facet_count(page, "tags", "Belts")).to_have_text("2")
    expect(_facet_count(page, "tags", "Tan")).to_have_text("1")
    expect(page.locator(".card", has_text="belt-strap_tan.png").locator("img")).to_have_attribute(
        "src", re.compile("^blob:")
    )

    # Search with a typo.
    page.fill("#search-input", "walet")
    expect(_summary(page)).to_have_text("1 file matches “walet”.")
    expect(page.locator(".card")).to_have_text([re.compile("wallet pattern.pdf")])
    page.fill("#search-input", "")
    expect(_summary(page)).to_have_text("2 files.")

    # Narrow by a facet: the other facets' counts follow.
    expect(_facet_count(page, "file_type", ".pdf")).to_have_text("1")
    # By keyboard: the box keeps the focus while the panels redraw around it.
    tan_box = page.locator("[data-facet=tags] .facet-option", has_text="Tan").locator("input")
    tan_box.focus()
    page.keyboard.press("Space")
    expect(_summary(page)).to_have_text("1 file.")
    expect(tan_box).to_be_checked()
    expect(tan_box).to_be_focused()
    expect(_facet_count(page, "tags", "Belts")).to_have_text("1")
    expect(page.locator("[data-facet=file_type] .facet-option", has_text=".pdf")).to_have_count(0)
    page.click("#clear-filters")
    expect(_summary(page)).to_have_text("2 files.")

    # Rename a tag, then find the asset by the new name.
    page.click("#open-tag-manager")
    tan_row = page.locator(".tag-edit", has=page.locator("input[value='Tan']"))
    tan_row.locator("input[id^=tag-name-]").fill("Saddle tan")
    tan_row.locator("button[type=submit]").click()
    expect(page.locator(".tag-edit input[value='Saddle tan']")).to_have_count(1)
    page.click("#tag-manager-close")
    page.fill("#search-input", "saddle")
    expect(_summary(page)).to_have_text("1 file matches “saddle”.")
    expect(page.locator(".card")).to_have_text([re.compile("belt-strap_tan.png")])

    # Rename the file, then replace it: asked first, and the name just chosen stays (the
    # type is the same), then download it.
    replacement = _write(tmp_path / "strap v2.png", samples.png(8, 8))
    page.click(".card")
    expect(page.locator("#asset-dialog .preview img")).to_have_count(1)
    page.fill("#rename-input", "Tan belt strap.png")
    page.click("#asset-dialog form.rename button[type=submit]")
    expect(page.locator("#asset-title")).to_have_text("Tan belt strap.png")
    page.set_input_files("#replace-input", str(replacement))
    expect(page.locator("#confirm-message")).to_have_text(
        "Replace the file of “Tan belt strap.png” with “strap v2.png”? The current file is "
        "removed. It keeps its name “Tan belt strap.png”."
    )
    page.click("#confirm-dialog button[value=cancel]")
    expect(page.locator("#replace-input")).to_have_value("")
    page.set_input_files("#replace-input", str(replacement))
    expect(page.locator("#confirm-button")).to_have_text("Replace")
    page.click("#confirm-button")
    expect(page.locator("#toast")).to_have_text("File replaced.")
    expect(page.locator("#asset-title")).to_have_text("Tan belt strap.png")
    expect(page.locator("#rename-input")).to_have_value("Tan belt strap.png")
    with page.expect_download() as download:
        page.click("#asset-dialog button:has-text('Download')")
    assert download.value.suggested_filename == "Tan belt strap.png"
    assert Path(download.value.path()).read_bytes() == replacement.read_bytes()
    page.click("#asset-dialog .close")
    expect(page.locator(".card")).to_have_text([re.compile("Tan belt strap.png")])

    # Delete an asset, after confirming.
    page.fill("#search-input", "")
    expect(_summary(page)).to_have_text("2 files.")
    page.locator(".card", has_text="wallet pattern.pdf").click()
    page.click("#asset-dialog button:has-text('Delete')")
    expect(page.locator("#confirm-message")).to_contain_text("wallet pattern.pdf")
    page.click("#confirm-button")
    expect(_summary(page)).to_have_text("1 file.")
    expect(page.locator(".card")).to_have_text([re.compile("Tan belt strap.png")])
    assert httpx.get(f"{service.base}/readyz").json()["index_lag"]["pending"] == 0

    OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(OUTPUT_DIR / "library.png"), full_page=True)


def _extracted(service: LiveService, file_name: str, *, timeout: float = 60) -> None:
    """Wait until the file's text is extracted and indexed (the page is not told)."""
    headers = {"Authorization": f"Bearer {service.token('tester', 'media:read')}"}
    deadline = time.monotonic() + timeout
    while True:
        page = httpx.get(
            f"{service.base}/api/media-assets", params={"file_name": file_name}, headers=headers
        ).json()
        lag = httpx.get(f"{service.base}/readyz").json()["index_lag"]["pending"]
        if page["items"] and page["items"][0]["content"]["status"] != "pending" and not lag:
            return
        assert time.monotonic() < deadline, "the text was not extracted in time"
        time.sleep(0.1)


def test_a_word_inside_a_file_shows_an_excerpt_under_its_name_and_the_panel_says_so(
    page: Page, start_service: Callable[..., LiveService]
) -> None:
    service = start_service()
    page.goto(service.sign_in_url)
    _drop_file(page, "tools.docx", content_samples.docx_document(), "application/octet-stream")
    expect(page.locator(".upload.done", has_text="tools.docx")).to_have_count(1)
    _extracted(service, "tools.docx")

    word = content_samples.DOCX_WORD
    page.fill("#search-input", word)
    expect(_summary(page)).to_have_text(f"1 file matches “{word}”.")
    excerpt = page.locator(".card", has_text="tools.docx").locator(".card-excerpt")
    expect(excerpt.locator("mark")).to_have_text(re.compile(word, re.IGNORECASE))
    # The words either side of a match keep their spaces.
    body_word = content_samples.DOCX_BODY_WORD
    page.fill("#search-input", body_word)
    expect(excerpt).to_contain_text(f"with a {body_word} before gluing")
    page.click(".card")
    expect(page.locator("#asset-dialog .details")).to_contain_text("characters, searchable")


def _photo(seed: int, size: tuple[int, int] = (2400, 1600)) -> bytes:
    """A photo-like JPEG: smooth colour gradients under a little grain, a few hundred KB."""
    from PIL import Image

    gradient = Image.linear_gradient("L").resize(size)
    channels = [gradient.rotate(angle, expand=False) for angle in (seed * 37 % 360, 90, 180)]
    picture = Image.merge("RGB", channels)
    grain = Image.effect_noise(size, 24).convert("RGB")
    picture = Image.blend(picture, grain, 0.08)
    output = io.BytesIO()
    picture.save(output, "JPEG", quality=92)
    return output.getvalue()


def test_the_grid_shows_small_previews_not_the_originals(
    page: Page, start_service: Callable[..., LiveService]
) -> None:
    service = start_service()
    admin = bearer(service.token("admin", "media:admin"))
    originals = 0
    for number in range(48):
        photo = _photo(number)
        originals += len(photo)
        httpx.post(
            f"{service.base}/api/media-assets/upload",
            files={"file": (f"hide {number:02}.jpg", photo, "image/jpeg")},
            headers=admin,
            timeout=60,
        ).raise_for_status()
    deadline = time.monotonic() + 180
    while True:
        page_json = httpx.get(
            f"{service.base}/api/media-assets", params={"limit": 48}, headers=admin
        ).json()
        if all(item["preview"]["status"] == "ready" for item in page_json["items"]):
            break
        assert time.monotonic() < deadline, "the previews were not made in time"
        time.sleep(0.2)

    image_bytes: list[int] = []

    def count(response: Response) -> None:
        if "/preview" in response.url or "/download" in response.url:
            image_bytes.append(int(response.headers.get("content-length", "0")))

    page.on("response", count)
    page.goto(service.sign_in_url)
    expect(_summary(page)).to_have_text("48 files.")
    cards = page.locator(".card img")
    expect(cards).to_have_count(48)
    for index in range(48):  # each card into view, as a user scrolls: its thumbnail loads
        cards.nth(index).scroll_into_view_if_needed()
        expect(cards.nth(index)).to_have_attribute("src", re.compile("^blob:"))
    assert len(image_bytes) == 48 and min(image_bytes) > 0, image_bytes
    assert sum(image_bytes) < 2_000_000, (sum(image_bytes), originals)
    assert originals > 10 * sum(image_bytes)
    OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(OUTPUT_DIR / "grid-previews.png"), full_page=True)
    print(f"grid: {sum(image_bytes):,} bytes of previews for {originals:,} bytes of originals")


def test_an_upload_of_bytes_already_in_the_library_says_so_and_links_to_them(
    page: Page, start_service: Callable[..., LiveService], tmp_path: Path
) -> None:
    service = start_service()
    page.goto(service.sign_in_url)
    original = _write(tmp_path / "swatch.png", samples.png(40, 30))
    page.set_input_files("#file-picker", str(original))
    expect(page.locator(".upload.done", has_text="swatch.png")).to_have_count(1)
    copy = _write(tmp_path / "swatch copy.png", samples.png(40, 30))
    page.set_input_files("#file-picker", str(copy))
    done = page.locator(".upload.done", has_text="swatch copy.png")
    expect(done.locator(".upload-duplicate")).to_have_text("already in the library")
    expect(_summary(page)).to_have_text("2 files.")
    done.locator(".upload-duplicate").click()
    expect(page.locator("#asset-title")).to_have_text("swatch.png")


def test_failed_uploads_show_the_servers_sentence_beside_the_file(
    page: Page, start_service: Callable[..., LiveService], tmp_path: Path
) -> None:
    service = start_service(MEDIA_MAX_UPLOAD_BYTES="100000")
    page.goto(service.sign_in_url)
    # The file picker listens once the library is shown (on a busy machine, files chosen
    # earlier would land on a picker nobody listens to yet).
    expect(page.locator("#who")).to_have_text("Signed in as admin")
    files = [
        _write(tmp_path / "poster.png", samples.png() + b"\0" * 200_000),
        _write(tmp_path / "invoice.jpg", samples.html()),
        _write(tmp_path / "swatch.png", samples.png()),
    ]
    page.set_input_files("#file-picker", [str(path) for path in files])

    too_large = page.locator(".upload.failed", has_text="poster.png")
    expect(too_large.locator(".upload-status")).to_have_text(
        "The file is larger than the maximum upload size of 100000 bytes."
    )
    disguised = page.locator(".upload.failed", has_text="invoice.jpg")
    expect(disguised.locator(".upload-status")).to_have_text(
        "The file's content does not match its .jpg extension."
    )
    expect(page.locator(".upload.done", has_text="swatch.png")).to_have_count(1)
    expect(_summary(page)).to_have_text("1 file.")


def test_a_read_only_token_sees_no_edit_controls(
    page: Page, start_service: Callable[..., LiveService]
) -> None:
    service = start_service()
    service.add_file("strap.png", tag_name="Belts")

    # The paste-a-token form, for a token that can only read.
    page.goto(service.base)
    page.fill("#token-input", "not a token")
    page.click("#sign-in-form button[type=submit]")
    expect(page.locator("#sign-in-error")).to_contain_text("not a token")
    page.fill("#token-input", service.token("viewer", "media:read"))
    page.click("#sign-in-form button[type=submit]")
    expect(page.locator("#who")).to_have_text("Signed in as viewer (read only)")
    expect(_summary(page)).to_have_text("1 file.")
    expect(page.locator("#uploader")).to_be_hidden()

    expect(page.locator(".select-box")).to_have_count(0)
    expect(page.locator("#view-save form")).to_have_count(0)
    page.click(".card")
    expect(page.locator("#asset-dialog .chip", has_text="Belts")).to_have_count(1)
    expect(page.locator("#asset-dialog button:has-text('Download')")).to_be_visible()
    for control in ("#rename-input", "#replace-input", "button:has-text('Delete')", ".tag-picker"):
        expect(page.locator(f"#asset-dialog {control}")).to_have_count(0)
    page.click("#asset-dialog .close")

    page.click("#open-tag-manager")
    expect(page.locator("#tag-dialog .tag-row", has_text="Belts")).to_contain_text("1 file")
    expect(page.locator("#tag-dialog input, #tag-dialog form")).to_have_count(0)
    page.click("#tag-manager-close")

    # Signing out forgets the token: a reload asks for one again.
    page.click("#sign-out")
    expect(page.locator("#sign-in")).to_be_visible()
    page.reload()
    expect(page.locator("#sign-in")).to_be_visible()


def test_a_deleted_tag_leaves_the_upload_choice_and_the_filter(
    page: Page, start_service: Callable[..., LiveService], tmp_path: Path
) -> None:
    service = start_service()
    tag = service.add_file("scrap.png", tag_name="Offcuts")
    assert tag is not None
    page.goto(service.sign_in_url)
    page.locator("[data-facet=tags] .facet-option", has_text="Offcuts").click()
    expect(page.locator("[data-facet=tags] input[type=checkbox]")).to_be_checked()
    assert f"tag={tag['id']}" in page.url
    _choose_upload_tag(page, "Offcuts")

    page.click("#open-tag-manager")
    page.click("#tag-dialog button[aria-label='Delete tag Offcuts']")
    page.click("#confirm-button")
    expect(page.locator("#tag-dialog .tag-edit")).to_have_count(0)
    page.click("#tag-manager-close")

    expect(page.locator("#upload-tags .chip")).to_have_count(0)
    expect(page.locator("[data-facet=tags] input[type=checkbox]")).to_have_count(0)
    assert "tag=" not in page.url
    expect(_summary(page)).to_have_text("1 file.")
    page.set_input_files("#file-picker", str(_write(tmp_path / "offcut.png", samples.png(4, 4))))
    expect(page.locator(".upload.done", has_text="offcut.png")).to_have_count(1)
    expect(_summary(page)).to_have_text("2 files.")


def _select_box(page: Page, file_name: str) -> Locator:
    return page.locator(".card-item", has_text=file_name).locator(".select-box")


def _selection_count(page: Page) -> Locator:
    return page.locator("#selection-bar .selection-count")


def test_a_range_is_bulk_tagged_the_rest_saved_as_a_view_and_a_whole_query_deleted(
    page: Page, start_service: Callable[..., LiveService]
) -> None:
    service = start_service()
    names = [f"swatch {letter}.png" for letter in "abcdef"]
    for name in names:
        service.add_file(name)
    page.goto(service.sign_in_url)
    page.select_option("#sort-select", "file_name:asc")
    expect(page.locator(".card-name")).to_have_text(names)

    # A range: the second card's box, then shift and the fourth's.
    _select_box(page, names[1]).click()
    expect(_selection_count(page)).to_have_text("1 selected")
    _select_box(page, names[3]).click(modifiers=["Shift"])
    expect(_selection_count(page)).to_have_text("3 selected")
    expect(page.locator(".select-box:checked")).to_have_count(3)

    # Tag the three with a tag made on the spot.
    page.click("#selection-bar button:has-text('Add tags…')")
    page.fill("#selection-bar .tag-picker input[type=text]", "Picked")
    page.keyboard.press("Enter")
    expect(page.locator("#selection-bar .bulk-form .chip", has_text="Picked")).to_have_count(1)
    page.click("#selection-bar button:has-text('Add these tags')")
    expect(page.locator("#toast")).to_have_text("Tagged 3 files.")
    expect(_facet_count(page, "tags", "Picked")).to_have_text("3")
    expect(page.locator(".card-item", has_text=names[2]).locator(".chip")).to_have_text(["Picked"])

    # None of that tag: exactly the other three, and the tag keeps its count.
    page.click("[data-facet=tags] button[aria-label='Exclude Picked']")
    rest = [names[0], names[4], names[5]]
    expect(_summary(page)).to_have_text("3 files.")
    expect(page.locator(".card-name")).to_have_text(rest)
    expect(page.locator("[data-facet=tags] .facet-row.excluded")).to_contain_text("not Picked")
    expect(_facet_count(page, "tags", "Picked")).to_have_text("3")
    assert "not=" in page.url
    expect(page.locator("#selection-bar")).to_be_hidden()  # new filters, a new selection

    # Save the view; a fresh page shows everything until the view is applied.
    page.fill("#view-name", "Not picked yet")
    page.click("#view-save button[type=submit]")
    saved = page.locator("#view-list .view-apply", has_text="Not picked yet")
    expect(saved).to_have_attribute("aria-current", "true")
    page.goto(f"{service.base}/")
    expect(_summary(page)).to_have_text("6 files.")
    expect(saved).not_to_have_attribute("aria-current", "true")
    saved.click()
    expect(_summary(page)).to_have_text("3 files.")
    expect(page.locator(".card-name")).to_have_text(rest)
    expect(page.locator("#sort-select")).to_have_value("file_name:asc")
    expect(page.locator("[data-facet=tags] button[aria-label='Exclude Picked']")).to_have_attribute(
        "aria-pressed", "true"
    )
    expect(saved).to_have_attribute("aria-current", "true")

    # Everything the query matches, then delete: the question says how many, and a count
    # that moved meanwhile is refused with the server's sentence.
    _select_box(page, rest[0]).click()
    page.click("#selection-bar button:has-text('Select all 3 matching')")
    expect(_selection_count(page)).to_have_text("All 3 files matching selected")
    expect(page.locator(".select-box:checked")).to_have_count(3)
    OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(OUTPUT_DIR / "bulk-selection.png"), full_page=True)
    admin = bearer(service.token("admin", "media:admin"))
    gone = httpx.get(
        f"{service.base}/api/media-assets", params={"file_name": names[5]}, headers=admin
    ).json()["items"][0]
    httpx.delete(f"{service.base}/api/media-assets/{gone['id']}", headers=admin).raise_for_status()
    page.click("#selection-bar button:has-text('Delete…')")
    expect(page.locator("#confirm-message")).to_contain_text("all 3 files that match")
    expect(page.locator("#confirm-button")).to_have_text("Delete 3 files")
    page.click("#confirm-button")
    expect(page.locator("#selection-bar .error")).to_contain_text("2")
    expect(_selection_count(page)).to_have_text("All 2 files matching selected")
    page.click("#selection-bar button:has-text('Delete…')")
    expect(page.locator("#confirm-message")).to_contain_text("all 2 files that match")
    page.click("#confirm-button")
    expect(page.locator("#toast")).to_have_text("Deleted 2 files.")
    expect(_summary(page)).to_have_text("0 files.")
    page.click("#clear-filters")
    expect(page.locator(".card-name")).to_have_text(names[1:4])

    # A name taken (whatever its case) is refused with the server's sentence; the view is
    # renamed and deleted by its creator.
    page.fill("#view-name", "NOT PICKED YET")
    page.click("#view-save button[type=submit]")
    expect(page.locator("#view-save .error")).to_contain_text("already exists")
    page.click("#view-list button[aria-label='Rename view Not picked yet']")
    page.fill("#view-list .view-rename input", "Still to pick")
    page.keyboard.press("Enter")
    expect(page.locator("#view-list .view-apply")).to_have_text(["Still to pick"])
    expect(page.locator("#view-list .view-apply")).to_be_focused()
    page.click("#view-list button[aria-label='Delete view Still to pick']")
    expect(page.locator("#confirm-message")).to_contain_text("Still to pick")
    page.click("#confirm-button")
    expect(page.locator("#view-list")).to_have_text("No saved views yet.")

    # A view saved elsewhere with what the page has no control for is applied without it,
    # and the page says what it left out.
    httpx.post(
        f"{service.base}/api/views",
        json={
            "name": "Swatches by name",
            "query": {"search": "swatch", "file_name": "swatch", "sort_by": "created_at"},
        },
        headers=admin,
    ).raise_for_status()
    page.reload()
    page.click("#view-list .view-apply:has-text('Swatches by name')")
    expect(_summary(page)).to_have_text("3 files match “swatch”.")
    expect(page.locator("#view-notice")).to_contain_text("file_name")
    expect(page.locator("#view-notice")).to_contain_text("created_at")


def test_links_are_edited_in_the_panel_and_in_bulk_and_filter_the_library(
    page: Page, start_service: Callable[..., LiveService]
) -> None:
    service = start_service()
    for name in ("buckle.png", "rivet.png", "strap.png"):
        service.add_file(name)
    page.goto(service.sign_in_url)
    page.select_option("#sort-select", "file_name:asc")
    expect(_summary(page)).to_have_text("3 files.")

    # One file, linked from its panel.
    page.locator(".card", has_text="strap.png").click()
    panel = page.locator("#asset-dialog")
    expect(panel.locator(".asset-links")).to_contain_text("Not linked to anything.")
    panel.locator(".link-form select").select_option("product")
    panel.locator(".link-form input").fill("123")
    panel.locator(".link-form button[type=submit]").click()
    expect(panel.locator(".link-chip")).to_have_text([re.compile("^product 123")])
    expect(panel.locator("button[aria-label='Remove link product 123']")).to_have_count(1)
    page.click("#asset-dialog .close")
    expect(_facet_count(page, "entity_type", "product")).to_have_text("1")

    # Two more, to a customer, from the selection bar.
    _select_box(page, "buckle.png").click()
    _select_box(page, "rivet.png").click(modifiers=["Shift"])
    page.click("#selection-bar button:has-text('Link…')")
    page.select_option("#selection-bar .link-form select", "customer")
    page.fill("#selection-bar .link-form input", "C-9")
    page.click("#selection-bar .link-form button[type=submit]")
    expect(page.locator("#toast")).to_have_text("Linked 2 files.")
    expect(_facet_count(page, "entity_type", "customer")).to_have_text("2")

    # Another module's page links to the library by entity.
    page.goto(f"{service.base}/?linked=product:123")
    expect(_summary(page)).to_have_text("1 file.")
    expect(page.locator(".card-name")).to_have_text(["strap.png"])
    # The chip holds its remove button.
    expect(page.locator(".linked-filter .link-chip")).to_have_text([re.compile("^product 123")])

    # Unlinked in the panel, the file leaves that filter; without the filter, all are back.
    page.click(".card")
    page.click("#asset-dialog button[aria-label='Remove link product 123']")
    expect(panel.locator(".link-chip")).to_have_count(0)
    page.click("#asset-dialog .close")
    expect(_summary(page)).to_have_text("0 files.")
    page.click("button[aria-label='Stop filtering by product 123']")
    expect(_summary(page)).to_have_text("3 files.")
    assert "linked=" not in page.url


def test_the_library_and_its_panels_fit_a_phone_screen(
    page: Page, start_service: Callable[..., LiveService]
) -> None:
    service = start_service()
    service.add_file("a-rather-long-file-name-for-a-narrow-screen.png")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(service.sign_in_url)
    expect(_summary(page)).to_have_text("1 file.")

    def overflows(selector: str) -> bool:
        return bool(page.eval_on_selector(selector, "node => node.scrollWidth > node.clientWidth"))

    assert not overflows("html")
    page.click(".card")
    expect(page.locator("#asset-dialog .preview img")).to_have_count(1)
    assert not overflows("#asset-dialog")
    page.keyboard.press("Escape")
    expect(page.locator(".card")).to_be_focused()
    page.click("#open-tag-manager")
    assert not overflows("#tag-dialog")


def test_an_address_edited_by_hand_still_lists(
    page: Page, start_service: Callable[..., LiveService]
) -> None:
    service = start_service()
    service.add_file("strap.png")
    page.goto(service.sign_in_url)
    expect(_summary(page)).to_have_text("1 file.")

    # Days that are none are dropped; a type in capitals is the type.
    page.goto(f"{service.base}/?after=garbage&before=2024-02-31&type=PNG")
    expect(_summary(page)).to_have_text("1 file.")
    expect(page.locator("#uploaded-after")).to_have_value("")
    expect(page.locator("[data-facet=file_type] input[value='.png']")).to_be_checked()
    assert "after=" not in page.url and "before=" not in page.url and "type=.png" in page.url


def test_back_and_forward_walk_the_views(
    page: Page, start_service: Callable[..., LiveService]
) -> None:
    service = start_service()
    service.add_file("satchel.png", tag_name="Bags")
    service.add_file("wallet.png")
    page.goto(service.sign_in_url)
    expect(_summary(page)).to_have_text("2 files.")
    page.locator("[data-facet=tags] .facet-option", has_text="Bags").click()
    expect(_summary(page)).to_have_text("1 file.")
    page.fill("#search-input", "satchel")
    expect(_summary(page)).to_have_text("1 file matches “satchel”.")

    page.go_back()
    expect(_summary(page)).to_have_text("1 file.")
    expect(page.locator("#search-input")).to_have_value("")
    page.go_back()
    expect(_summary(page)).to_have_text("2 files.")
    expect(page.locator("[data-facet=tags] input[type=checkbox]")).not_to_be_checked()
    page.go_forward()
    expect(_summary(page)).to_have_text("1 file.")
    assert "tag=" in page.url


def test_a_selection_drops_a_file_deleted_alone_and_all_matching_ends_with_the_filters(
    page: Page, start_service: Callable[..., LiveService]
) -> None:
    service = start_service()
    service.add_file("satchel.png", tag_name="Bags")
    service.add_file("wallet.png")
    service.add_file("purse.png")
    page.goto(service.sign_in_url)
    expect(_summary(page)).to_have_text("3 files.")

    _select_box(page, "purse.png").click()
    _select_box(page, "wallet.png").click()
    expect(_selection_count(page)).to_have_text("2 selected")
    page.locator(".card", has_text="purse.png").click()
    page.click("#asset-dialog button:has-text('Delete')")
    page.click("#confirm-button")
    expect(_summary(page)).to_have_text("2 files.")
    expect(_selection_count(page)).to_have_text("1 selected")

    # Another filter ends "all matching" at once, even when its page never comes.
    page.click("#selection-bar button:has-text('Select all 2 matching')")
    expect(_selection_count(page)).to_have_text("All 2 files matching selected")
    page.route(re.compile(r"/api/media-assets\?"), lambda route: route.abort())
    page.locator("[data-facet=tags] .facet-option", has_text="Bags").click()
    expect(page.locator("#selection-bar")).to_be_hidden()


MODULE_IMPORT = re.compile(r'from "\./([\w-]+\.js)"')


def test_the_sign_in_is_kept_for_the_browser_and_a_lapse_returns_to_the_view(
    page: Page, start_service: Callable[..., LiveService]
) -> None:
    service = start_service()
    service.add_file("belt strap.png")
    service.add_file("wallet.png")
    page.goto(service.sign_in_url)
    expect(page.locator("#who")).to_have_text("Signed in as admin")

    # A second tab of the same browser is signed in too, at the view its address names.
    second = page.context.new_page()
    second.goto(f"{service.base}/?q=belt")
    expect(second.locator("#who")).to_have_text("Signed in as admin")
    expect(_summary(second)).to_have_text("1 file matches “belt”.")

    # Signing out in one tab signs the other out; that one keeps its view in the address.
    page.click("#sign-out")
    expect(second.locator("#sign-in")).to_be_visible()
    expect(second.locator("#sign-in-error")).to_have_text("You signed out in another tab.")
    assert "q=belt" in second.url

    # Signing in from one tab signs in the other as well.
    short = service.token("alice", "media:read media:write", ttl=4)
    expires = jwt.decode(short, options={"verify_signature": False})["exp"]
    second.fill("#token-input", short)
    second.click("#sign-in-form button[type=submit]")
    expect(_summary(second)).to_have_text("1 file matches “belt”.")
    expect(page.locator("#who")).to_have_text("Signed in as alice")

    # The token expires mid-session: the next request shows the sign-in, with no reload,
    # and signing in again returns to the same view.
    second.evaluate("window.sameDocument = true")
    time.sleep(max(0.0, expires - time.time()) + 1)
    second.fill("#search-input", "wallet")
    expect(second.locator("#sign-in")).to_be_visible()
    expect(second.locator("#sign-in-error")).to_contain_text("expired")
    expect(second.locator("#library")).to_be_hidden()
    second.fill("#token-input", service.token("alice", "media:read media:write"))
    second.click("#sign-in-form button[type=submit]")
    expect(_summary(second)).to_have_text("1 file matches “wallet”.")
    expect(second.locator("#search-input")).to_have_value("wallet")
    assert second.evaluate("window.sameDocument") is True
    assert "q=wallet" in second.url


def test_finished_uploads_clear_away_and_a_new_page_starts_at_the_top(
    page: Page, start_service: Callable[..., LiveService], tmp_path: Path
) -> None:
    service = start_service()
    page.goto(service.sign_in_url)
    expect(page.locator("#who")).to_have_text("Signed in as admin")
    expect(page.locator("#upload-details")).to_be_hidden()

    # 50 files and one refused: the list folds away under a one-line summary, and
    # "Clear finished" empties it.
    files = [_write(tmp_path / f"swatch {n:02}.png", samples.png(4 + n, 4)) for n in range(50)]
    files.append(_write(tmp_path / "setup.exe", b"MZ not an image"))
    page.set_input_files("#file-picker", [str(path) for path in files])
    # Each upload answers once it is searchable: 51 took 6 s in a loaded full-suite run.
    expect(page.locator("#upload-summary")).to_have_text(
        "Uploads: 50 uploaded, 1 failed", timeout=60_000
    )
    page.click("#upload-summary")
    expect(page.locator("#upload-list")).to_be_hidden()
    page.click("#upload-summary")
    expect(page.locator(".upload")).to_have_count(51)
    page.click("#clear-finished")
    expect(page.locator(".upload")).to_have_count(0)
    expect(page.locator("#upload-details")).to_be_hidden()

    # Page by page (the pager is below the grid), each page starts at the top of the results.
    page.select_option("#page-size", "24")
    page.select_option("#sort-select", "file_name:asc")
    expect(_summary(page)).to_have_text("50 files.")
    expect(page.locator(".card").first).to_have_text(re.compile("swatch 00"))
    results_top = "Math.abs(document.getElementById('results').getBoundingClientRect().top) < 2"
    for button, first in (("Next", "swatch 24"), ("Previous", "swatch 00")):
        page.click(f"#pager button:has-text('{button}')")  # scrolls down to the pager
        expect(page.locator(".card").first).to_have_text(re.compile(first))
        page.wait_for_function(results_top)
        assert page.evaluate("window.scrollY") > 0

    # A page jump: type the number, press Enter.
    page.fill("#page-jump", "3")
    page.keyboard.press("Enter")
    expect(page.locator(".card")).to_have_text([re.compile("swatch 48"), re.compile("swatch 49")])
    assert "page=3" in page.url


def test_a_tag_name_one_typo_from_a_tag_asks_before_making_a_new_one(
    page: Page, start_service: Callable[..., LiveService]
) -> None:
    service = start_service()
    service.add_file("satchel.png", tag_name="Bags")
    page.goto(service.sign_in_url)
    expect(page.locator("#who")).to_have_text("Signed in as admin")
    expect(_facet_count(page, "tags", "Bags")).to_have_text("1")

    page.fill("#upload-tags input[type=text]", "Bgas")
    page.keyboard.press("Enter")
    suggestion = page.locator("#upload-tags .tag-suggestion")
    expect(suggestion).to_contain_text("There is no tag “Bgas”. Did you mean Bags?")
    page.click("#upload-tags button:has-text('Use Bags')")
    chip_names = page.locator("#upload-tags .chips .chip-name")
    expect(chip_names).to_have_text(["Bags"])
    expect(suggestion).to_be_empty()

    # Asked again, the user really means a new tag.
    page.fill("#upload-tags input[type=text]", "Bgas")
    page.keyboard.press("Enter")
    page.click("#upload-tags button:has-text('Create “Bgas”')")
    expect(chip_names).to_have_text(["Bags", "Bgas"])
    admin = bearer(service.token("admin", "media:admin"))
    tags = httpx.get(f"{service.base}/api/tags", headers=admin).json()["items"]
    assert [tag["name"] for tag in tags] == ["Bags", "Bgas"]

    # A name far from every tag is made at once.
    page.fill("#upload-tags input[type=text]", "Wallets")
    page.keyboard.press("Enter")
    expect(chip_names).to_have_text(["Bags", "Bgas", "Wallets"])
    expect(suggestion).to_be_empty()
    # Each took its own colour of the palette.
    tags = httpx.get(f"{service.base}/api/tags", headers=admin).json()["items"]
    colours = [tag["color"] for tag in tags if tag["name"] != "Bags"]
    assert len(set(colours)) == 2

    # A tag's description, entered in the tag manager, is the tooltip of its chips.
    page.click("#open-tag-manager")
    bags_row = page.locator(".tag-edit", has=page.locator("input[value='Bags']"))
    bags_row.locator(".tag-description-input").fill("Satchels and totes")
    bags_row.locator("button[type=submit]").click()
    expect(page.locator("#toast")).to_have_text("Saved tag Bags.")
    page.click("#tag-manager-close")
    bags_chip = page.locator("[data-facet=tags] .chip", has_text="Bags")
    expect(bags_chip).to_have_attribute("title", "Satchels and totes")

    # "Best match" is offered only with search words; a card's extension stays whole.
    relevance = page.locator("#sort-select option[value=relevance]")
    expect(page.locator("#sort-select")).to_have_value("uploaded_at:desc")
    expect(relevance).to_be_disabled()
    page.fill("#search-input", "satchel")
    expect(_summary(page)).to_have_text("1 file matches “satchel”.")
    expect(page.locator("#sort-select")).to_have_value("relevance")
    expect(relevance).to_be_enabled()
    expect(page.locator(".card-name .extension")).to_have_text(".png")


def test_the_page_loads_without_a_token_and_the_api_still_needs_one(
    anonymous: TestClient,
) -> None:
    page = anonymous.get("/", params={"token": "anything"})
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["referrer-policy"] == "no-referrer"
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert "<h1>Media library</h1>" in page.text
    assert anonymous.get("/api/media-assets").status_code == 401

    # Every stylesheet, script and module import the page names is served.
    pending = re.findall(r'(?:href|src)="(/ui/[^"]+)"', page.text)
    served: set[str] = set()
    while pending:
        path = pending.pop()
        if path in served:
            continue
        response = anonymous.get(path)
        assert response.status_code == 200, path
        assert "content-security-policy" in response.headers
        served.add(path)
        if path.endswith(".js"):
            assert "javascript" in response.headers["content-type"]
            folder = path.rsplit("/", 1)[0]
            pending += [f"{folder}/{name}" for name in MODULE_IMPORT.findall(response.text)]
    assert len([path for path in served if path.endswith(".js")]) >= 5
    assert anonymous.get("/ui/js/missing.js").status_code == 404
    assert anonymous.get("/ui/../service/app.py").status_code == 404


def test_the_sign_in_url_reaches_the_server_and_its_token_stays_out_of_logs() -> None:
    every_interface = "0.0.0.0"  # noqa: S104  (what serve --host may be given)
    secret = "a-test-secret-of-at-least-32-bytes!"
    url = sign_in_url(every_interface, 8000, secret=secret)
    assert url.startswith("http://127.0.0.1:8000/?token=")
    assert sign_in_url("::1", 9000, secret=secret).startswith("http://[::1]:9000/?token=")
    assert base_url("media.example", 80) == "http://media.example:80/"

    # The link's token can read and write as admin, for a limited time only.
    claims = jwt.decode(url.split("token=")[1], secret, algorithms=["HS256"])
    assert claims["sub"] == "admin"
    assert claims["scope"] == "media:read media:write"
    assert claims["exp"] - time.time() == pytest.approx(SIGN_IN_HOURS * 3600, abs=60)

    assert redact_token("/?q=belt&token=a.b.c") == "/?q=belt&token=[redacted]"
    assert redact_token("/?token=a.b.c#top") == "/?token=[redacted]#top"
    assert redact_token("/api/tags?name=token") == "/api/tags?name=token"
