"""The one-click sign-in URL that `serve` prints, and keeping its token out of the logs."""

from __future__ import annotations

import logging
import re
from urllib.parse import quote

from service.auth import issue_token

# The link travels through a browser's address bar and history, so its token is not the
# admin token `serve` prints: it expires, and it can read and write but not act as others.
SIGN_IN_HOURS = 12
SIGN_IN_SUBJECT = "admin"
SIGN_IN_SCOPE = "media:read media:write"

# Hosts that mean "every interface": a browser reaches them on loopback.
_WILDCARD_HOSTS = {"0.0.0.0", "::", ""}  # noqa: S104  (names them, binds nothing)
_TOKEN_IN_QUERY = re.compile(r"([?&]token=)[^&#\s]*")


def base_url(host: str, port: int) -> str:
    """The address a browser on this machine uses for a server bound to host:port."""
    if host in _WILDCARD_HOSTS:
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}/"


def sign_in_url(host: str, port: int, *, secret: str, base: str | None = None) -> str:
    """`http://host:port/?token=…` (or `base` when browsers reach the service elsewhere):
    the page stores the token and drops it from the address."""
    token = issue_token(
        secret=secret,
        subject=SIGN_IN_SUBJECT,
        scope=SIGN_IN_SCOPE,
        ttl_seconds=SIGN_IN_HOURS * 3600,
    )
    page = base_url(host, port) if base is None else base.rstrip("/") + "/"
    return f"{page}?token={quote(token, safe='')}"


def redact_token(text: str) -> str:
    return _TOKEN_IN_QUERY.sub(r"\1[redacted]", text)


class _RedactTokenFilter(logging.Filter):
    """uvicorn's access log prints the request path, and the sign-in URL's holds a token."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                redact_token(arg) if isinstance(arg, str) else arg for arg in record.args
            )
        return True


def keep_tokens_out_of_access_logs() -> None:
    access_log = logging.getLogger("uvicorn.access")
    if not any(isinstance(existing, _RedactTokenFilter) for existing in access_log.filters):
        access_log.addFilter(_RedactTokenFilter())
