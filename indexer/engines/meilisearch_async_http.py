"""Searches from the event loop: keep-alive connections to Meilisearch, owned by the loop.

A list page on Meilisearch is one small POST. Sent from a threadpool thread with
`http.client` (see meilisearch_http), the hop to the thread and back and the client's
own parsing cost about 0.9 ms a request on this machine, close to what Meilisearch
takes to answer; sent from the loop as raw HTTP/1.1 bytes and read with httptools
(uvicorn's own parser), the same request costs no more than Meilisearch's own time.
No thread is held while Meilisearch works, and a slow Meilisearch cannot exhaust the
threadpool that writes need.
"""

from __future__ import annotations

import asyncio
import ssl
from typing import cast
from urllib.parse import urlsplit

import httptools

from indexer.query import EngineUnavailable

TIMEOUT_SECONDS = 30
# Idle connections kept per loop: as many as searches that ran at once, up to this.
MAX_IDLE = 32


class _ConnectionLost(Exception):
    """The server closed the connection before answering."""

    def __init__(self, answered_nothing: bool) -> None:
        super().__init__("Meilisearch closed the connection before answering")
        self.answered_nothing = answered_nothing


class _Connection(asyncio.Protocol):
    """One keep-alive connection: one request at a time, its answer read by httptools."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._transport: asyncio.Transport | None = None
        self._answer: asyncio.Future[tuple[int, bytes]] | None = None
        self._parser = httptools.HttpResponseParser(self)
        self._body: list[bytes] = []
        self._received = False
        self.closed = False
        self.reusable = False

    # -- asyncio.Protocol ---------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # A stream transport (uvloop's is not a subclass of asyncio's, hence the cast).
        self._transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        if self._answer is None or self._answer.done():
            self.close()  # bytes nobody asked for: the connection is out of step
            return
        self._received = True
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._answer.set_exception(EngineUnavailable(f"Meilisearch answered badly: {exc}"))
            self.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self._answer is not None and not self._answer.done():
            self._answer.set_exception(_ConnectionLost(answered_nothing=not self._received))

    # -- httptools callbacks ------------------------------------------------

    def on_body(self, body: bytes) -> None:
        self._body.append(body)

    def on_message_complete(self) -> None:
        self.reusable = self._parser.should_keep_alive()
        if self._answer is not None and not self._answer.done():
            self._answer.set_result((self._parser.get_status_code(), b"".join(self._body)))

    # -- use ----------------------------------------------------------------

    async def exchange(self, request: bytes) -> tuple[int, bytes]:
        assert self._transport is not None
        self._parser = httptools.HttpResponseParser(self)
        self._body = []
        self._received = False
        self.reusable = False
        self._answer = self._loop.create_future()
        self._transport.write(request)
        return await self._answer

    def close(self) -> None:
        self.closed = True
        if self._transport is not None:
            self._transport.close()


class MeilisearchAsyncHttp:
    """POSTs from the running event loop, on connections kept for that loop."""

    def __init__(self, url: str, api_key: str | None) -> None:
        parts = urlsplit(url)
        https = parts.scheme == "https"
        self._host = parts.hostname or "127.0.0.1"
        self._port = parts.port or (443 if https else 80)
        self._ssl = ssl.create_default_context() if https else None
        self._prefix = parts.path.rstrip("/")
        authorization = f"Authorization: Bearer {api_key}\r\n" if api_key else ""
        self._headers = (
            f"Host: {parts.netloc}\r\n{authorization}"
            "Content-Type: application/json\r\nAccept-Encoding: identity\r\n"
        )
        self._loop: asyncio.AbstractEventLoop | None = None
        self._idle: list[_Connection] = []

    async def post(self, path: str, body: bytes) -> tuple[int, bytes]:
        """POST `body`; the status and the answer. EngineUnavailable when unreachable."""
        request = (
            f"POST {self._prefix}{path} HTTP/1.1\r\n{self._headers}"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode() + body
        for attempt in (1, 2):
            connection, reused = await self._take()
            try:
                async with asyncio.timeout(TIMEOUT_SECONDS):
                    status, answer = await connection.exchange(request)
            except _ConnectionLost as exc:
                # A kept connection the server closed while idle: once more on a new one
                # (a search may be repeated safely).
                if reused and exc.answered_nothing and attempt == 1:
                    continue
                raise EngineUnavailable(f"Meilisearch is unavailable: {exc}") from exc
            except (OSError, TimeoutError) as exc:
                connection.close()
                raise EngineUnavailable(f"Meilisearch is unavailable: {exc!r}") from exc
            except BaseException:
                connection.close()  # cancelled mid-answer: the connection is out of step
                raise
            self._give_back(connection)
            return status, answer
        raise AssertionError("unreachable")  # the loop returns or raises

    async def _take(self) -> tuple[_Connection, bool]:
        """An idle connection of this loop (reused: True), or a new one."""
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            # A new loop (tests start one per client): the old loop's connections are
            # unusable here, and closed with it.
            self._loop, self._idle = loop, []
        while self._idle:
            connection = self._idle.pop()
            if not connection.closed:
                return connection, True
        try:
            async with asyncio.timeout(TIMEOUT_SECONDS):
                _, connection = await loop.create_connection(
                    lambda: _Connection(loop),
                    self._host,
                    self._port,
                    ssl=self._ssl,
                    server_hostname=self._host if self._ssl else None,
                )
        except (OSError, TimeoutError) as exc:
            raise EngineUnavailable(f"Meilisearch is unavailable: {exc!r}") from exc
        return connection, False

    def _give_back(self, connection: _Connection) -> None:
        if connection.reusable and not connection.closed and len(self._idle) < MAX_IDLE:
            self._idle.append(connection)
        else:
            connection.close()

    def close(self) -> None:
        """Close the idle connections; call it on their loop (the app's shutdown)."""
        idle, self._idle = self._idle, []
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        for connection in idle:
            connection.close()
