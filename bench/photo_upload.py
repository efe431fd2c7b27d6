"""Uploads of a camera's photo, whose previews are rendered after the answer: one sent
while the derived-data worker has nothing to do, and one sent at once after it, while
the first one's previews are being rendered."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from bench.files import photo
from bench.ingest import upload_file
from bench.server import Client, Service
from bench.stats import p50_and_max

MEGAPIXELS = 24


@dataclass(frozen=True)
class PhotoUploadResult:
    megabytes: float
    idle: list[float]  # the worker had nothing to do
    busy: list[float]  # sent as the previous photo's answer came, while it was rendered
    overlapped: int  # busy uploads that ended before the previous photo's previews were ready
    ready: list[float]  # from the first photo's answer until its previews were ready

    def as_dict(self) -> dict[str, Any]:
        return {
            "megabytes": self.megabytes,
            "megapixels": MEGAPIXELS,
            "uploads": len(self.idle),
            "photo_idle": p50_and_max(self.idle),
            "photo_during_rendering": p50_and_max(self.busy),
            "uploads_during_rendering": self.overlapped,
            "previews_ready_after_answer": p50_and_max(self.ready),
        }


def _preview_status(client: Client, asset_id: str) -> str:
    status, _, body = client.request("GET", f"/api/media-assets/{asset_id}")
    if status != 200:
        raise RuntimeError(f"reading asset {asset_id}: HTTP {status}: {body[:300]!r}")
    preview_status: str = json.loads(body)["preview"]["status"]
    return preview_status


def _until_ready(client: Client, asset_id: str, *, since: float, timeout: float) -> float:
    """Seconds from `since` until the asset's previews are ready, polled every 10 ms."""
    while time.perf_counter() - since < timeout:
        status = _preview_status(client, asset_id)
        if status == "ready":
            return time.perf_counter() - since
        if status != "pending":
            raise RuntimeError(f"the previews of asset {asset_id} ended {status}")
        time.sleep(0.01)
    raise RuntimeError(f"the previews of asset {asset_id} were not ready within {timeout:g} s")


def measure_photo_upload(
    service: Service, *, count: int, timeout: float = 300.0
) -> PhotoUploadResult:
    """`count` rounds of: a 24-megapixel JPEG sent with the worker idle; at once the same
    photo again, while the first is rendered; then both waited for and deleted. One photo
    goes first, untimed, and its previews are waited for, so the worker's child is
    running and nothing older is left for it."""
    data = photo(MEGAPIXELS)
    client, poller = service.client(), service.client()
    idle: list[float] = []
    busy: list[float] = []
    ready: list[float] = []
    overlapped = 0
    try:
        _, warm_up = upload_file(client, "bench-camera-warm-up.jpg", "image/jpeg", data)
        _until_ready(poller, warm_up, since=time.perf_counter(), timeout=timeout)
        poller.request("DELETE", f"/api/media-assets/{warm_up}")
        for number in range(count):
            # The upload connection sat idle while previews were waited for, maybe past the
            # server's keep-alive timeout: a new one (a local connect, microseconds).
            client.close()
            seconds, first = upload_file(client, f"bench-camera-{number}.jpg", "image/jpeg", data)
            answered = time.perf_counter()
            idle.append(seconds)
            seconds, second = upload_file(client, f"bench-camera-{number}b.jpg", "image/jpeg", data)
            busy.append(seconds)
            overlapped += _preview_status(poller, first) == "pending"
            ready.append(_until_ready(poller, first, since=answered, timeout=timeout))
            _until_ready(poller, second, since=time.perf_counter(), timeout=timeout)
            for asset_id in (first, second):
                poller.request("DELETE", f"/api/media-assets/{asset_id}")
    finally:
        client.close()
        poller.close()
    return PhotoUploadResult(
        megabytes=round(len(data) / 1_000_000, 1),
        idle=idle,
        busy=busy,
        overlapped=overlapped,
        ready=ready,
    )
