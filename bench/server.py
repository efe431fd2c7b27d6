"""The service under test: a real `media-assets serve` process, and a keep-alive HTTP client."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from bench.meilisearch_server import free_port
from service.auth import issue_token

Request = tuple[str, str, bytes | None]  # method, target, encoded JSON body or None

BENCH_SECRET = "benchmark-secret-that-is-long-enough-for-hs256"  # noqa: S105


class Client:
    """One keep-alive connection, as a browser or an API client holds one.

    Every request says `Accept-Encoding: identity`: the service and Meilisearch are timed
    on the same uncompressed bodies."""

    def __init__(self, base_url: str, token: str | None, *, timeout: float = 120) -> None:
        address = urlsplit(base_url)
        self.headers = {"Accept-Encoding": "identity"}
        if token:
            self.headers["Authorization"] = f"Bearer {token}"
        connection = (
            http.client.HTTPSConnection if address.scheme == "https" else http.client.HTTPConnection
        )
        self._prefix = address.path.rstrip("/")
        self._connection = connection(address.netloc, timeout=timeout)

    def send(
        self, method: str, target: str, payload: bytes | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        """One request with a body already encoded (JSON), and its whole answer read."""
        headers = dict(self.headers)
        if payload is not None:
            headers["Content-Type"] = "application/json"
        self._connection.request(method, self._prefix + target, body=payload, headers=headers)
        response = self._connection.getresponse()
        data = response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, data

    def request(
        self, method: str, path: str, *, query: Any = None, body: Any = None
    ) -> tuple[int, dict[str, str], bytes]:
        payload = None if body is None else json.dumps(body).encode()
        return self.send(method, target(path, query), payload)

    def stream(
        self, method: str, path: str, *, content_type: str, length: int, parts: Iterable[bytes]
    ) -> tuple[int, bytes]:
        """Send a body of `length` bytes piece by piece, never whole in memory."""
        connection = self._connection
        connection.putrequest(method, self._prefix + path, skip_accept_encoding=True)
        for name, value in self.headers.items():
            connection.putheader(name, value)
        connection.putheader("Content-Type", content_type)
        connection.putheader("Content-Length", str(length))
        connection.endheaders()
        for part in parts:
            connection.send(part)
        response = connection.getresponse()
        return response.status, response.read()

    def close(self) -> None:
        self._connection.close()


def target(path: str, query: Any = None) -> str:
    """The request target: the path with its query string (repeated keys for lists)."""
    return f"{path}?{urlencode(query, doseq=True)}" if query else path


class Service:
    """`media-assets serve --workers N` on a free port with the given environment."""

    def __init__(
        self, data_dir: Path, env: dict[str, str], log_path: Path, *, workers: int = 2
    ) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.workers = workers
        self.token = issue_token(
            secret=BENCH_SECRET, subject="bench", scope="media:admin", ttl_seconds=None
        )
        environment = {
            **os.environ,
            "MEDIA_DATA_DIR": str(data_dir),
            "MEDIA_AUTH_SECRET": BENCH_SECRET,
            **env,
        }
        self._log = log_path.open("ab")
        self.process = subprocess.Popen(  # noqa: S603  (our own argument list)
            [
                sys.executable,
                "-m",
                "service.cli",
                "serve",
                "--port",
                str(self.port),
                "--workers",
                str(workers),
            ],
            env=environment,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        self._wait_ready()

    def _wait_ready(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the service exited with code {self.process.returncode}")
            try:
                client = self.client()
                status, _, _ = client.request("GET", "/readyz")
                client.close()
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError("the service did not become ready")

    def client(self) -> Client:
        return Client(self.base_url, self.token)

    def shape(self) -> ServiceShape:
        return measure_shape(self.process.pid, self.port)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._log.close()


# -- what runs: processes read from /proc ---------------------------------------------


@dataclass(frozen=True)
class ServiceShape:
    """The processes of a running service, counted, not taken from its arguments."""

    api_processes: int  # processes that accept on the service's port and answer requests
    indexer_processes: int  # `media-assets indexer` processes (0: a thread of the API)
    processes: int  # all of them, with uvicorn's supervisor and multiprocessing's helper

    def as_dict(self) -> dict[str, int]:
        return {
            "api_processes": self.api_processes,
            "indexer_processes": self.indexer_processes,
            "processes": self.processes,
        }


def measure_shape(pid: int, port: int) -> ServiceShape:
    """An API process holds the listening socket of `port` and has no child that holds it
    too (with `--workers`, uvicorn's supervisor binds the socket and its workers inherit
    it; alone, `serve` binds and answers in one process). The indexer is the process
    running `service.cli indexer`."""
    family = process_family(pid)
    sockets = {f"socket:[{inode}]" for inode in _listening_inodes(port)}
    if not sockets:
        raise RuntimeError(f"nothing listens on port {port}")
    holders = {member for member in family if sockets & _open_files(member)}
    supervisors = {member for member in holders if set(_children(member)) & holders}
    indexers = [member for member in family if _command(member)[-2:] == ["service.cli", "indexer"]]
    return ServiceShape(
        api_processes=len(holders - supervisors),
        indexer_processes=len(indexers),
        processes=len(family),
    )


def _listening_inodes(port: int) -> set[str]:
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        path = Path(table)
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            fields = line.split()
            local_port = int(fields[1].rsplit(":", 1)[1], 16)
            if local_port == port and fields[3] == "0A":  # 0A: LISTEN
                inodes.add(fields[9])
    return inodes


def _open_files(pid: int) -> set[str]:
    found = set()
    try:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            with contextlib.suppress(OSError):  # closed meanwhile
                found.add(os.readlink(fd))
    except OSError:  # the process is gone
        return set()
    return found


def _command(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")[:-1]
    except OSError:
        return []


def _children(pid: int) -> list[int]:
    children: list[int] = []
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            children += [int(child) for child in (task / "children").read_text().split()]
    except OSError:  # the process or one of its threads is gone
        pass
    return children


def memory_kib(pid: int, field: str) -> int:
    """VmRSS (resident now) or VmHWM (peak since start or since reset_peak)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise RuntimeError(f"/proc/{pid}/status has no {field}")


def reset_peak(pid: int) -> bool:
    """Linux resets VmHWM to the current RSS when 5 is written to clear_refs."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def process_family(pid: int) -> list[int]:
    """The process and all its descendants (with `serve --workers`, the API processes and
    the indexer are children of the one started)."""
    family = [pid]
    for member in family:
        family += [child for child in _children(member) if child not in family]
    return family
