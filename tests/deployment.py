"""`media-assets serve --workers N` as a real deployment for the tests: N API processes on
one port and one indexer process, found among the server's children by its command line."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.meilisearch_server import free_port
from indexer.maintenance import find_drift
from indexer.query import open_engine
from service.config import Settings
from store.db import make_engine

INDEXER_COMMAND = ["-m", "service.cli", "indexer"]


@dataclass
class Deployment:
    base: str
    settings: Settings
    server: subprocess.Popen[bytes]
    env: dict[str, str]

    def start_indexer(self) -> subprocess.Popen[bytes]:
        """Another `media-assets indexer` on the same deployment, as a supervisor would
        start after the first one died; the caller stops it."""
        return subprocess.Popen(  # noqa: S603  (our own argument list)
            [sys.executable, *INDEXER_COMMAND],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def indexer_pid(self) -> int:
        """The indexer process that `serve` started beside its API processes."""
        for pid in _children(self.server.pid):
            try:
                arguments = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if [argument.decode() for argument in arguments[1:4]] == INDEXER_COMMAND:
                return pid
        raise AssertionError("serve has no indexer process")


def _children(pid: int) -> list[int]:
    children = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # the process ended meanwhile
            continue
        # `pid (comm) state ppid …`: comm may hold spaces and parentheses.
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            children.append(int(entry.name))
    return children


def settings_of(variables: dict[str, str]) -> dict[str, str]:
    """MEDIA_* variables as Settings fields."""
    return {name.removeprefix("MEDIA_").lower(): value for name, value in variables.items()}


def wait_until_answering(
    url: str, server: subprocess.Popen[bytes], *, log: Path | None = None, seconds: float = 60
) -> None:
    """Until `url` answers 200; fails if the server exits first or takes over `seconds`
    (quoting its `log`, when it writes one)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        told = f":\n{log.read_text()}" if log is not None else ""
        assert server.poll() is None, f"the service exited{told}"
        assert time.monotonic() < deadline, f"the service did not start{told}"
        time.sleep(0.2)


@contextmanager
def serve(
    settings: Settings, variables: dict[str, str], *, workers: int = 2
) -> Iterator[Deployment]:
    """Run `serve --workers N` on `settings`' data dir and database (plus the MEDIA_*
    `variables`) until it answers /readyz with 200; stop it afterwards."""
    port = free_port()
    env = {
        **os.environ,
        **variables,
        "MEDIA_DATA_DIR": str(settings.data_dir),
        "MEDIA_DATABASE_URL": settings.resolved_database_url,
        "MEDIA_AUTH_SECRET": settings.auth_secret or "",
    }
    command = ["serve", "--port", str(port), "--workers", str(workers)]
    server = subprocess.Popen(  # noqa: S603  (our own argument list)
        [sys.executable, "-m", "service.cli", *command],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_answering(f"{base}/readyz", server)
        yield Deployment(base=base, settings=settings, server=server, env=env)
    finally:
        server.terminate()
        server.wait(timeout=60)


def drift(settings: Settings) -> int:
    """How many documents of the deployment's index differ from the database."""
    db = make_engine(settings.resolved_database_url)
    engine = open_engine(settings.engine_config)
    try:
        return find_drift(db, engine).total
    finally:
        engine.close()
        db.dispose()
