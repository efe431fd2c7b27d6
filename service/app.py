"""create_app(): settings, database, storage and routers wired into one FastAPI app."""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlmodel import Session

from indexer.query import EngineUnavailable, open_engine
from indexer.worker import IndexerWorker
from service.assets.routes import router as assets_router
from service.auth_guard import BearerAuthMiddleware
from service.bulk.routes import router as bulk_router
from service.config import Settings
from service.derived_worker import derived_worker_for
from service.disk_space import disk_space, low_disk_problem
from service.errors import install_error_handlers
from service.openapi_shapes import AllowedMethods, install_openapi, one_value_per_query_parameter
from service.search.routes import router as search_router
from service.search.tag_directory import TagDirectory
from service.storage import LocalStorage
from service.tags.routes import router as tags_router
from service.views.routes import router as views_router
from service.web.api_docs import install_api_docs
from service.web.routes import install_web_ui
from service.web.sign_in import keep_tokens_out_of_access_logs
from store.db import make_engine
from store.indexer_state import IndexerReport
from store.indexer_state import read as read_indexer_state
from store.migrate import require_current_schema
from store.models import utc_now
from store.outbox import lag as outbox_lag

log = logging.getLogger(__name__)

TITLE = "Media asset service"


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        keep_tokens_out_of_access_logs()
        engine = make_engine(settings.resolved_database_url)
        require_current_schema(engine)
        app.state.settings = settings
        app.state.engine = engine
        app.state.storage = LocalStorage(settings.files_dir)
        app.state.auth_secret = settings.resolved_auth_secret(create=True)
        app.state.search = open_engine(settings.engine_config)
        app.state.tag_directory = TagDirectory(engine)
        try:
            # Meilisearch: create the index and apply and verify its settings now.
            app.state.search.ping()
        except EngineUnavailable as exc:
            # Writes still succeed while the engine is down; the indexer catches up later.
            log.warning("search engine not ready at start-up: %s", exc)
        app.state.indexer = IndexerWorker(engine, app.state.search)
        app.state.derived_worker = derived_worker_for(settings, engine)
        if settings.run_indexer:
            app.state.indexer.start()
            app.state.derived_worker.start()
        try:
            yield
        finally:
            app.state.derived_worker.stop()
            app.state.indexer.stop()
            app.state.search.close()
            app.state.storage.close()
            engine.dispose()

    app = FastAPI(
        title=TITLE,
        description="Upload, tag, search and download the HideSync media library.",
        version="0.1.0",
        lifespan=lifespan,
        redirect_slashes=False,
        # Served by install_api_docs with local files: FastAPI's own pages use a CDN.
        docs_url=None,
        redoc_url=None,
        dependencies=[Depends(one_value_per_query_parameter)],
    )
    install_error_handlers(app)
    install_openapi(
        app, allowed_types=settings.allowed_extensions, link_types=settings.entity_types
    )
    # Added first, so it runs after the token check: OPTIONS is a read like GET.
    app.add_middleware(AllowedMethods)
    app.add_middleware(BearerAuthMiddleware)
    app.include_router(search_router)
    app.include_router(bulk_router)
    app.include_router(assets_router)
    app.include_router(tags_router)
    app.include_router(views_router)
    install_web_ui(app)
    install_api_docs(app, title=TITLE)

    @app.get("/healthz", tags=["health"])
    def healthz() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["health"])
    def readyz(request: Request) -> JSONResponse:
        """Readiness: database, search engine, indexer and free disk space; the index lag."""
        state = request.app.state
        checks: dict[str, str] = {}
        index_lag: dict[str, object] = {}
        indexers: IndexerReport | None = None
        try:
            with Session(state.engine) as session:
                session.execute(text("SELECT 1"))
                lag = outbox_lag(session)
                indexers = read_indexer_state(session)
            checks["database"] = "ok"
            oldest = (utc_now() - lag.oldest).total_seconds() if lag.oldest else 0.0
            index_lag = {"pending": lag.pending, "oldest_seconds": round(oldest, 3)}
        except Exception as exc:  # any failure means not ready; the reason is reported
            checks["database"] = f"error: {exc.__class__.__name__}"
        engine_status: dict[str, object] = {}
        try:
            state.search.ping()
            engine_status = state.search.status()
            checks["search"] = "ok"
        except EngineUnavailable as exc:
            checks["search"] = f"error: {exc}"
        if indexers is not None:
            # Whichever process runs it: the database holds every indexer's own report.
            problem = indexers.problem
            checks["indexer"] = "ok" if problem is None else f"error: {problem}"
        settings: Settings = state.settings
        spaces = disk_space([settings.files_dir, settings.data_dir, settings.index_dir])
        low_disk = low_disk_problem(spaces, min_free_bytes=settings.min_free_bytes)
        checks["disk"] = "ok" if low_disk is None else f"error: {low_disk}"
        ready = all(value == "ok" for value in checks.values())
        body = {
            "status": "ready" if ready else "not ready",
            "checks": checks,
            "search_engine": state.search.name,
            "search_status": engine_status,
            "index_lag": index_lag,
            "indexer_error": indexers.last_error if indexers else None,
            "indexers": [status.as_json() for status in indexers.indexers] if indexers else [],
            "disk": [space.as_json() for space in spaces],
            # Which process answered: several share one port with `serve --workers N`.
            "process": f"{socket.gethostname()}:{os.getpid()}",
        }
        return JSONResponse(body, status_code=200 if ready else 503)

    return app
