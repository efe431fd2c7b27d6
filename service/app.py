"""create_app(): settings, database, storage and routers wired into one FastAPI app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from service.assets.routes import router as assets_router
from service.config import Settings
from service.db import create_schema, make_engine
from service.errors import install_error_handlers
from service.storage import LocalStorage
from service.tags.routes import router as tags_router


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        engine = make_engine(settings.resolved_database_url)
        create_schema(engine)
        app.state.settings = settings
        app.state.engine = engine
        app.state.storage = LocalStorage(settings.files_dir)
        app.state.auth_secret = settings.resolved_auth_secret(create=True)
        try:
            yield
        finally:
            engine.dispose()

    app = FastAPI(
        title="Media asset service",
        description="Upload, tag, search and download the HideSync media library.",
        version="0.1.0",
        lifespan=lifespan,
        redirect_slashes=False,
    )
    install_error_handlers(app)
    app.include_router(assets_router)
    app.include_router(tags_router)

    @app.get("/healthz", tags=["health"])
    def healthz() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["health"])
    def readyz(request: Request) -> JSONResponse:
        """Readiness: the database answers."""
        checks: dict[str, str] = {}
        try:
            with request.app.state.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            checks["database"] = "ok"
        except Exception as exc:  # any failure means not ready; the reason is reported
            checks["database"] = f"error: {exc.__class__.__name__}"
        ready = all(value == "ok" for value in checks.values())
        return JSONResponse(
            {"status": "ready" if ready else "not ready", "checks": checks},
            status_code=200 if ready else 503,
        )

    return app
