"""The OpenAPI document made true to what is sent, and OPTIONS answered from the routes.

FastAPI declares every 422 as its validation-error list, but a well-formed request that
breaks a rule (an unknown tag id, an empty name) gets the contract's one-sentence shape
`{"detail": "..."}`; error statuses declared by `error_responses` carry only an
example. Both shapes are declared here. A parameter is text on the wire and cannot be
null, so its schema loses the null that `X | None = None` adds (which left clients, and
schemathesis, unsure that the text sent is the value checked); and a query parameter
documented as one value is 422 when sent twice.

OPTIONS on an API path answers 204 with `Allow` naming every method of every route on
that path (Starlette's 405 named one route's); on a fixed path such as
/api/media-assets/upload, only its own, and any other method there is 405.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from starlette.responses import JSONResponse
from starlette.routing import Match
from starlette.types import ASGIApp, Receive, Scope, Send

from service.assets.schemas import state_allowed_types
from service.links.schemas import state_link_types

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


_NULL = {"type": "null"}


def _without_null(schema: dict[str, Any]) -> dict[str, Any]:
    branches = schema.get("anyOf")
    if not isinstance(branches, list) or _NULL not in branches:
        return schema
    rest = {
        key: value
        for key, value in schema.items()
        if key != "anyOf" and not (key == "default" and value is None)
    }
    kept = [branch for branch in branches if branch != _NULL]
    return {**kept[0], **rest} if len(kept) == 1 else {**rest, "anyOf": kept}


def _no_null_parameters(document: dict[str, Any]) -> dict[str, Any]:
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                if "schema" in parameter:
                    parameter["schema"] = _without_null(parameter["schema"])
    return document


def install_openapi(
    app: FastAPI, *, allowed_types: Iterable[str], link_types: Sequence[str]
) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            document = state_link_types(document, link_types)
            state_allowed_types(document, allowed_types)
            app.openapi_schema = _no_null_parameters(_true_errors(document))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


async def one_value_per_query_parameter(request: Request) -> None:
    """A global dependency: FastAPI would read the last of `skip=x&skip=0` and ignore the
    malformed rest, and the contract says a malformed value is 422, never ignored."""
    route = request.scope.get("route")
    # The documented path: a `{name:path}` parameter loses its convertor there.
    operations = request.app.openapi()["paths"].get(getattr(route, "path_format", None), {})
    for parameter in operations.get(request.method.lower(), {}).get("parameters", []):
        if parameter["in"] != "query" or parameter["schema"].get("type") == "array":
            continue
        values = request.query_params.getlist(parameter["name"])
        if len(values) > 1:
            error = {
                "type": "too_many_values",
                "loc": ("query", parameter["name"]),
                "msg": "Give this parameter once",
                "input": values,
            }
            raise RequestValidationError([error])


def _fixed_paths(document: dict[str, Any]) -> dict[str, frozenset[str]]:
    """The methods of each documented path without parameters, by path."""
    return {
        path: frozenset(method.upper() for method in operations)
        for path, operations in document.get("paths", {}).items()
        if "{" not in path
    }


class AllowedMethods:
    """Answer OPTIONS with the methods the routes of the path accept, and another method
    on a fixed path with 405: without that, PUT /api/media-assets/upload would reach the
    route of /api/media-assets/{asset_id} and be told `upload` is a malformed id."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._fixed: dict[str, frozenset[str]] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self._fixed is None:  # the routes are all in place once requests arrive
            self._fixed = _fixed_paths(scope["app"].openapi())
        fixed = self._fixed.get(scope["path"])
        if scope["method"] != "OPTIONS":
            if fixed is not None and scope["method"] not in fixed:
                response = JSONResponse(
                    {"detail": "Method Not Allowed"},
                    status_code=405,
                    headers={"Allow": ", ".join(sorted(fixed | {"OPTIONS"}))},
                )
                await response(scope, receive, send)
                return
            await self.app(scope, receive, send)
            return
        # Asked method by method: routers nest, and a route matches fully only its own.
        methods = fixed or {
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
