"""The event-loop client of the Meilisearch search path, against real sockets that misbehave
the ways a server or a network can: closed keep-alive connections, chunked answers,
`Connection: close`, silence, and nobody listening."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from bench.meilisearch_server import free_port
from indexer.engines import meilisearch_async_http
from indexer.engines.meilisearch_async_http import MeilisearchAsyncHttp
from indexer.query import EngineUnavailable

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter, int], Awaitable[bool]]


async def _read_request(reader: asyncio.StreamReader) -> bytes | None:
    """One request's body, or None when the client closed the connection."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, ConnectionError):
        return None
    length = 0
    for line in head.decode().split("\r\n"):
        if line.lower().startswith("content-length:"):
            length = int(line.split(":", 1)[1])
    return await reader.readexactly(length)


def _answer(body: bytes, *headers: str) -> bytes:
    lines = ["HTTP/1.1 200 OK", "Content-Type: application/json", *headers]
    if not any(h.lower().startswith("transfer-encoding") for h in headers):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


class Server:
    """A loopback HTTP server whose `handler` answers each request (False: close after)."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.connections = 0
        self.requests = 0
        self.port = free_port()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                body = await _read_request(reader)
                if body is None:
                    return
                self.requests += 1
                if not await self.handler(reader, writer, self.requests):
                    return
        finally:
            writer.close()

    async def __aenter__(self) -> Server:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        return self

    async def __aexit__(self, *_: object) -> None:
        self._server.close()

    def client(self) -> MeilisearchAsyncHttp:
        return MeilisearchAsyncHttp(f"http://127.0.0.1:{self.port}", "key")


async def _ok(_: asyncio.StreamReader, writer: asyncio.StreamWriter, number: int) -> bool:
    writer.write(_answer(b'{"n":%d}' % number))
    await writer.drain()
    return True


def test_answers_on_one_kept_connection() -> None:
    async def scenario() -> None:
        async with Server(_ok) as server:
            client = server.client()
            answers = [await client.post("/indexes/x/search", b"{}") for _ in range(3)]
            assert answers == [(200, b'{"n":1}'), (200, b'{"n":2}'), (200, b'{"n":3}')]
            assert server.connections == 1
            client.close()

    asyncio.run(scenario())


def test_searches_at_once_use_a_connection_each_and_keep_them() -> None:
    async def slow(_: asyncio.StreamReader, writer: asyncio.StreamWriter, number: int) -> bool:
        await asyncio.sleep(0.05)
        return await _ok(_, writer, number)

    async def scenario() -> None:
        async with Server(slow) as server:
            client = server.client()
            answers = await asyncio.gather(*(client.post("/s", b"{}") for _ in range(4)))
            assert sorted(body for _, body in answers) == [b'{"n":%d}' % n for n in range(1, 5)]
            assert server.connections == 4
            await client.post("/s", b"{}")
            assert server.connections == 4  # a kept one answered
            client.close()

    asyncio.run(scenario())


def test_a_connection_the_server_closed_while_idle_is_replaced() -> None:
    async def close_after_answering(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter, number: int
    ) -> bool:
        await _ok(reader, writer, number)
        return False  # keep-alive promised, then closed: as a server's idle timeout does

    async def scenario() -> None:
        async with Server(close_after_answering) as server:
            client = server.client()
            assert await client.post("/s", b"{}") == (200, b'{"n":1}')
            await asyncio.sleep(0.05)  # the close arrives while the connection is idle
            assert await client.post("/s", b"{}") == (200, b'{"n":2}')
            assert server.connections == 2
            client.close()

    asyncio.run(scenario())


def test_connection_close_and_chunked_answers_are_read_whole() -> None:
    async def chunked(_: asyncio.StreamReader, writer: asyncio.StreamWriter, number: int) -> bool:
        body = b'{"hits":[' + b",".join(b'{"id":"%d"}' % i for i in range(500)) + b"]}"
        chunks = b"".join(
            b"%x\r\n%s\r\n" % (len(body[i : i + 700]), body[i : i + 700])
            for i in range(0, len(body), 700)
        )
        writer.write(
            _answer(chunks + b"0\r\n\r\n", "Transfer-Encoding: chunked", "Connection: close")
        )
        await writer.drain()
        return False

    async def scenario() -> None:
        async with Server(chunked) as server:
            client = server.client()
            for _ in range(2):
                status, body = await client.post("/s", b"{}")
                assert status == 200
                assert body.count(b'"id"') == 500
            assert server.connections == 2  # `Connection: close` is never reused
            client.close()

    asyncio.run(scenario())


def test_a_server_that_closes_without_answering_is_unavailable() -> None:
    async def hang_up(_: asyncio.StreamReader, writer: asyncio.StreamWriter, __: int) -> bool:
        return False

    async def scenario() -> None:
        async with Server(hang_up) as server:
            with pytest.raises(EngineUnavailable, match="closed the connection"):
                await server.client().post("/s", b"{}")

    asyncio.run(scenario())


def test_a_silent_server_times_out(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(meilisearch_async_http, "TIMEOUT_SECONDS", 0.2)

    async def silent(_: asyncio.StreamReader, writer: asyncio.StreamWriter, __: int) -> bool:
        await asyncio.sleep(5)
        return False

    async def scenario() -> None:
        async with Server(silent) as server:
            with pytest.raises(EngineUnavailable, match="unavailable"):
                await server.client().post("/s", b"{}")

    asyncio.run(scenario())


def test_nobody_listening_is_unavailable() -> None:
    async def scenario() -> None:
        client = MeilisearchAsyncHttp(f"http://127.0.0.1:{free_port()}", None)
        with pytest.raises(EngineUnavailable, match="unavailable"):
            await client.post("/s", b"{}")

    asyncio.run(scenario())
