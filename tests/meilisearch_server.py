"""Finding a real Meilisearch for the tests: a URL, or a `meilisearch` binary started here."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

HOW_TO_ENABLE = (
    "no Meilisearch: set MEDIA_TEST_MEILISEARCH_URL (and MEDIA_TEST_MEILISEARCH_KEY) "
    "or put a `meilisearch` binary on PATH"
)
MASTER_KEY = "test-master-key-0123456789abcdef"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_healthy(url: str, *, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=1):  # noqa: S310  (loopback URL)
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"Meilisearch at {url} did not become healthy")


@contextmanager
def meilisearch_server(data_dir: Path) -> Iterator[tuple[str, str | None] | None]:
    """(url, api key) of a running Meilisearch, or None when there is none to be had."""
    url = os.environ.get("MEDIA_TEST_MEILISEARCH_URL")
    if url:
        yield url, os.environ.get("MEDIA_TEST_MEILISEARCH_KEY")
        return
    binary = shutil.which("meilisearch")
    if binary is None:
        yield None
        return
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(  # noqa: S603  (our own argument list)
        [
            binary,
            "--http-addr",
            f"127.0.0.1:{port}",
            "--db-path",
            str(data_dir / "meili"),
            "--master-key",
            MASTER_KEY,
            "--no-analytics",
            "--env",
            "development",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_healthy(url)
        yield url, MASTER_KEY
    finally:
        process.terminate()
        process.wait(timeout=30)
