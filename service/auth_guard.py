"""The bearer-token gate in front of every /api route, as plain ASGI middleware.

It runs before FastAPI reads the body, so a request without a valid token gets 401
(and one without the scope its method needs gets 403) even when its body is
malformed or oversized: credentials are judged before content.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from service.auth import Principal, decode_token
from service.auth import Scope as AuthScope
from service.errors import Forbidden, Unauthenticated, error_response

API_PREFIX = "/api"
_READ_METHODS = {"GET", "HEAD", "OPTIONS"}


def _authorize(headers: Headers, method: str, secret: str) -> Principal:
    scheme, _, credentials = headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not credentials.strip():
        raise Unauthenticated("A bearer token is required in the Authorization header.")
    principal = decode_token(credentials.strip(), secret=secret)
    needed = AuthScope.READ if method in _READ_METHODS else AuthScope.WRITE
    principal.require(needed)
    return principal


class BearerAuthMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] != "http" or not (path == API_PREFIX or path.startswith(API_PREFIX + "/")):
            await self.app(scope, receive, send)
            return
        secret: str = scope["app"].state.auth_secret
        try:
            principal = _authorize(Headers(scope=scope), scope["method"], secret)
        except (Unauthenticated, Forbidden) as exc:
            await error_response(exc)(scope, receive, send)
            return
        scope.setdefault("state", {})["principal"] = principal
        await self.app(scope, receive, send)
