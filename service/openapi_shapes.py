"""The OpenAPI document made true to what is sent, and OPTIONS answered from the routes.

FastAPI declares every 422 as its validation-error list, but a well-formed request that
breaks a rule (an unknown tag id, an empty name) gets the contract's one-sentence shape
`{"detail": "..."}`; error statuses declared by `error_responses` carry only an
example. Both shapes are declared here. OPTIONS on an API path answers 204 with `Allow`
naming every method of every route on that path (Starlette's 405 named one route's).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from starlette.routing import Match
from starlette.types import ASGIApp, Receive, Scope, Send

ERROR_MESSAGE = "ErrorMessage"
_MESSAGE_SCHEMA = {
    "title": ERROR_MESSAGE,
    "type": "object",
    "required": ["detail"],
    "properties": {"detail": {"type": "string", "title": "Detail"}},
}
_MESSAGE_REF = {"$ref": f"#/components/schemas/{ERROR_MESSAGE}"}
_VALIDATION_REF = {"$ref": "#/components/schemas/HTTPValidationError"}
_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


def _true_errors(document: dict[str, Any]) -> dict[str, Any]:
    document.setdefault("components", {}).setdefault("schemas", {})[ERROR_MESSAGE] = _MESSAGE_SCHEMA
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            for status, response in operation.get("responses", {}).items():
                if not status.isdigit() or int(status) < 400:
                    continue
                media = response.setdefault("content", {}).setdefault("application/json", {})
                if status == "422":
                    media["schema"] = {"anyOf": [_VALIDATION_REF, _MESSAGE_REF]}
                else:
                    media.setdefault("schema", _MESSAGE_REF)
    return document


def install_openapi(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = _true_errors(
                get_openapi(
                    title=app.title,
                    version=app.version,
                    description=app.description,
                    routes=app.routes,
                )
            )
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


class AllowedMethods:
    """Answer OPTIONS on /api paths with the methods the routes there accept."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "OPTIONS":
            await self.app(scope, receive, send)
            return
        # Asked method by method: routers nest, and a route matches fully only its own.
        methods = {
            method
            for method in _METHODS
            for route in scope["app"].router.routes
            if route.matches({**scope, "method": method})[0] is Match.FULL
        }
        if not methods:
            await self.app(scope, receive, send)
            return
        allow = ", ".join(sorted(methods | {"OPTIONS"}))
        await send(
            {"type": "http.response.start", "status": 204, "headers": [(b"allow", allow.encode())]}
        )
        await send({"type": "http.response.body", "body": b""})
