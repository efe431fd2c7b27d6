"""The service under test: a real `media-assets serve` process, and a keep-alive HTTP client."""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from bench.meilisearch_server import free_port
from service.auth import issue_token

BENCH_SECRET = "benchmark-secret-that-is-long-enough-for-hs256"  # noqa: S105


class Client:
    """One keep-alive connection, as a browser or an API client holds one."""

    def __init__(self, port: int, token: str) -> None:
        self.port = port
        self.headers = {"Authorization": f"Bearer {token}"}
        self._connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)

    def request(
        self, method: str, path: str, *, query: Any = None, body: Any = None
    ) -> tuple[int, dict[str, str], bytes]:
        target = f"{path}?{urlencode(query, doseq=True)}" if query else path
        headers = dict(self.headers)
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        self._connection.request(method, target, body=payload, headers=headers)
        response = self._connection.getresponse()
        data = response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, data

    def stream(
        self, method: str, path: str, *, content_type: str, length: int, parts: Iterable[bytes]
    ) -> tuple[int, bytes]:
        """Send a body of `length` bytes piece by piece, never whole in memory."""
        connection = self._connection
        connection.putrequest(method, path)
        connection.putheader("Authorization", self.headers["Authorization"])
        connection.putheader("Content-Type", content_type)
        connection.putheader("Content-Length", str(length))
        connection.endheaders()
        for part in parts:
            connection.send(part)
        response = connection.getresponse()
        return response.status, response.read()

    def close(self) -> None:
        self._connection.close()


class Service:
    """`media-assets serve` on a free port with the given environment."""

    def __init__(
        self, data_dir: Path, env: dict[str, str], log_path: Path, *, workers: int = 1
    ) -> None:
        self.port = free_port()
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
                client = Client(self.port, self.token)
                status, _, _ = client.request("GET", "/readyz")
                client.close()
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError("the service did not become ready")

    def client(self) -> Client:
        return Client(self.port, self.token)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._log.close()


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
        for task in Path(f"/proc/{member}/task").glob("*"):
            children = (task / "children").read_text().split()
            family += [int(child) for child in children if int(child) not in family]
    return family
