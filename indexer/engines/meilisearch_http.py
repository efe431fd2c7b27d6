"""The hot path to Meilisearch: one keep-alive connection per thread, from the standard
library, bodies in and out as bytes.

Every list page makes one request here, so the client's own cost counts: httpx adds
about 0.4 ms a request over `http.client` on this machine, as much as Meilisearch
takes to answer a small search. Identity encoding, because a gzip-accepting
keep-alive client meets a ~40 ms delayed-ACK stall on Meilisearch's compressed
answers.
"""

from __future__ import annotations

import http.client
import threading
from urllib.parse import urlsplit

from indexer.query import EngineUnavailable

TIMEOUT_SECONDS = 30
# A connection the server closed while idle fails on its next use: those errors get
# one retry on a fresh connection (every request sent here may be repeated safely).
_STALE = (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError)


class MeilisearchHttp:
    def __init__(self, url: str, api_key: str | None) -> None:
        parts = urlsplit(url)
        self._https = parts.scheme == "https"
        self._host = parts.hostname or "127.0.0.1"
        self._port = parts.port
        self._prefix = parts.path.rstrip("/")
        self._headers = {"Accept-Encoding": "identity", "Content-Type": "application/json"}
        if api_key:
            self._headers["Authorization"] = f"Bearer {api_key}"
        self._local = threading.local()
        # Every thread's connection, so that `close` ends them all, not only its own.
        self._open: set[http.client.HTTPConnection] = set()
        self._open_lock = threading.Lock()

    def _connection(self) -> http.client.HTTPConnection:
        connection: http.client.HTTPConnection | None = getattr(self._local, "connection", None)
        if connection is None:
            kind = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
            connection = kind(self._host, self._port, timeout=TIMEOUT_SECONDS)
            self._local.connection = connection
            with self._open_lock:
                self._open.add(connection)
        return connection

    def _drop(self) -> None:
        connection = getattr(self._local, "connection", None)
        if connection is not None:
            connection.close()
            with self._open_lock:
                self._open.discard(connection)
        self._local.connection = None

    def post(self, path: str, body: bytes) -> tuple[int, bytes]:
        """POST `body`; the status and the answer. EngineUnavailable when unreachable."""
        for attempt in (1, 2):
            connection = self._connection()
            try:
                connection.request("POST", self._prefix + path, body=body, headers=self._headers)
                response = connection.getresponse()
                return response.status, response.read()
            except _STALE as exc:
                self._drop()
                if attempt == 2:
                    raise EngineUnavailable(f"Meilisearch is unavailable: {exc}") from exc
            except (OSError, http.client.HTTPException) as exc:
                self._drop()
                raise EngineUnavailable(f"Meilisearch is unavailable: {exc}") from exc
        raise AssertionError("unreachable")  # the loop returns or raises

    def close(self) -> None:
        """Close every thread's connection (at shutdown: none may be in use)."""
        with self._open_lock:
            connections, self._open = self._open, set()
        for connection in connections:
            connection.close()
        self._local = threading.local()
