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
# Left to its default (two thirds of the RAM), Meilisearch 1.50 allocates and fills an
# ~850 MB buffer for every indexing batch: one document took 1.05 s to become
# searchable on a 24 GB machine. An explicit limit brings that to about 0.1 s (some
# sizes, such as 2GiB and 4GiB, land at 0.2-0.3 s). Its effect on the benchmark's
# million-document loads has not been measured.
INDEXING_MEMORY = "3Gb"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class MeilisearchProcess:
    """A `meilisearch` binary on a loopback port with its own data dir; restartable."""

    def __init__(self, binary: str, data_dir: Path) -> None:
        self.binary = binary
        self.data_dir = data_dir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self._process = subprocess.Popen(  # noqa: S603  (our own argument list)
            [
                self.binary,
                "--http-addr",
                f"127.0.0.1:{self.port}",
                "--db-path",
                str(self.data_dir),
                "--master-key",
                MASTER_KEY,
                "--no-analytics",
                "--max-indexing-memory",
                INDEXING_MEMORY,
                "--env",
                "development",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self._wait_healthy()

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(timeout=30)
            self._process = None

    def _wait_healthy(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=1):  # noqa: S310
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"Meilisearch at {self.url} did not become healthy")


def meilisearch_binary() -> str | None:
    return shutil.which("meilisearch")


@contextmanager
def meilisearch_server(data_dir: Path) -> Iterator[tuple[str, str | None] | None]:
    """(url, api key) of a running Meilisearch, or None when there is none to be had."""
    url = os.environ.get("MEDIA_TEST_MEILISEARCH_URL")
    if url:
        yield url, os.environ.get("MEDIA_TEST_MEILISEARCH_KEY")
        return
    binary = meilisearch_binary()
    if binary is None:
        yield None
        return
    server = MeilisearchProcess(binary, data_dir / "meili")
    server.start()
    try:
        yield server.url, MASTER_KEY
    finally:
        server.stop()
