"""The API docs at /docs (Swagger UI) and /redoc (ReDoc), with every file they load served
by this process, so they render where no CDN can be reached.

The Swagger UI and ReDoc distributions come from the `fastapi-standalone-docs` package,
which ships them as package data; only its files are used, wired up the way FastAPI
documents self-hosting (`get_swagger_ui_html` and `get_redoc_html` with local URLs).
"""

from __future__ import annotations

from pathlib import Path

import fastapi_standalone_docs
from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from starlette.staticfiles import StaticFiles

ASSETS_DIR = Path(fastapi_standalone_docs.__file__).parent / "static"
ASSETS_PATH = "/docs-assets"
DOCS_PATH = "/docs"
REDOC_PATH = "/redoc"


def install_api_docs(app: FastAPI, *, title: str) -> None:
    """Add /docs, /redoc and their assets to an app made with `docs_url=None` and
    `redoc_url=None` (FastAPI's own pages load their files from a CDN)."""
    openapi_url = app.openapi_url
    assert openapi_url is not None
    for name in ("swagger", "redoc", "fastapi"):
        app.mount(f"{ASSETS_PATH}/{name}", StaticFiles(directory=ASSETS_DIR / name), name=name)
    favicon = f"{ASSETS_PATH}/fastapi/favicon.png"

    @app.get(DOCS_PATH, include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{title} - Swagger UI",
            swagger_js_url=f"{ASSETS_PATH}/swagger/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS_PATH}/swagger/swagger-ui.css",
            swagger_favicon_url=favicon,
        )

    @app.get(REDOC_PATH, include_in_schema=False)
    def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url=openapi_url,
            title=f"{title} - ReDoc",
            redoc_js_url=f"{ASSETS_PATH}/redoc/redoc.standalone.js",
            redoc_favicon_url=favicon,
            # The fonts would come from Google's servers; the system fonts serve.
            with_google_fonts=False,
        )
