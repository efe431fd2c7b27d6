"""The API docs render in a real browser with the network out of reach: every file /docs
and /redoc load comes from the service itself. Skipped where no Chromium is found, as
the other browser tests are."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, Page, Route, expect

from tests.test_web_ui import (
    OUTPUT_DIR,
    LiveService,
    browser,  # noqa: F401  (a fixture, used by name)
    start_service,  # noqa: F401  (a fixture, used by name)
)

# A browser with a few seconds' patience per step: run alone (scripts/test).
pytestmark = pytest.mark.serial


def _offline_page(chromium: Browser, base: str) -> tuple[Page, list[str]]:
    """A page that can reach the service and nothing else; the refused URLs are listed."""
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    service = urlsplit(base).netloc
    refused: list[str] = []

    def only_the_service(route: Route) -> None:
        if urlsplit(route.request.url).netloc == service:
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort("internetdisconnected")

    page.route("**/*", only_the_service)
    return page, refused


def test_swagger_ui_renders_without_the_network(
    browser: Browser,  # noqa: F811  (the imported fixture)
    start_service: Callable[..., LiveService],  # noqa: F811  (the imported fixture)
) -> None:
    service = start_service()
    page, refused = _offline_page(browser, service.base)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    page.goto(f"{service.base}/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Media asset service")
    # The operations are drawn from /openapi.json: Swagger UI ran, not just its CSS.
    upload = page.locator(".opblock-summary-path", has_text="/api/media-assets/upload")
    expect(upload).to_be_visible()
    OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(OUTPUT_DIR / "api-docs.png"), full_page=False)

    page.goto(f"{service.base}/redoc")
    expect(page.locator(".api-info h1")).to_contain_text("Media asset service")

    page.context.close()
    assert refused == [], f"the docs tried to load files from elsewhere: {refused}"
    assert errors == [], f"the docs raised: {errors}"


def test_the_docs_pages_name_only_local_files(anonymous: TestClient) -> None:
    for path in ("/docs", "/redoc"):
        page = anonymous.get(path)
        assert page.status_code == 200
        assert "http://" not in page.text and "https://" not in page.text, page.text
    for asset in (
        "/docs-assets/swagger/swagger-ui-bundle.js",
        "/docs-assets/swagger/swagger-ui.css",
        "/docs-assets/redoc/redoc.standalone.js",
        "/docs-assets/fastapi/favicon.png",
    ):
        response = anonymous.get(asset)
        assert response.status_code == 200, asset
        assert len(response.content) > 1000, asset
