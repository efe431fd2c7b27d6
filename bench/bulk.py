"""A bulk change through the service: a new tag added to N assets that a query selects,
timed from the request to the answer (which comes once the change is searchable), a
search for the tag confirming the count, and the tag removed again the same way."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

from bench.server import Client, Service

# A bulk change answers once the indexer has applied all of it: minutes at most.
BULK_TIMEOUT_SECONDS = 900


@dataclass(frozen=True)
class BulkStep:
    action: str
    matched: int
    changed: int
    seconds: float  # from the request to the answer
    pending: bool  # answered `X-Index-Status: pending`
    searchable_seconds: float  # from the request until a search found the whole change
    found: int  # the search for the tag, after the answer

    def as_dict(self) -> dict[str, Any]:
        per_10k = self.seconds / self.matched * 10_000 if self.matched else 0.0
        return {
            "action": self.action,
            "matched": self.matched,
            "changed": self.changed,
            "seconds": round(self.seconds, 2),
            "seconds_per_10k": round(per_10k, 2),
            "pending": self.pending,
            "searchable_seconds": round(self.searchable_seconds, 2),
            "found_by_tag": self.found,
        }


@dataclass(frozen=True)
class BulkResult:
    assets: int  # asked for: --bulk-assets, at most the library
    query: dict[str, Any]
    add: BulkStep
    remove: BulkStep

    def as_dict(self) -> dict[str, Any]:
        return {
            "assets": self.assets,
            "query": self.query,
            "add": self.add.as_dict(),
            "remove": self.remove.as_dict(),
        }


def _json(client: Client, method: str, path: str, **kwargs: Any) -> Any:
    status, _, body = client.request(method, path, **kwargs)
    if status not in (200, 201, 204):
        raise RuntimeError(f"{method} {path}: HTTP {status}: {body[:300]!r}")
    return json.loads(body) if body else None


def _tagged(client: Client, tag_id: str) -> int:
    page = _json(client, "GET", "/api/media-assets", query={"tag_ids": tag_id, "limit": 0})
    total: int = page["total"]
    return total


def selecting(client: Client, count: int, library: int) -> dict[str, Any]:
    """A query for the `count` oldest uploads: uploaded up to the count-th oldest's time
    (every asset when `count` is the whole library)."""
    if count >= library:
        return {}
    page = _json(
        client,
        "GET",
        "/api/media-assets",
        query={"sort_by": "uploaded_at", "sort_dir": "asc", "skip": count - 1, "limit": 1},
    )
    return {"uploaded_before": page["items"][0]["uploaded_at"]}


def _step(client: Client, action: str, query: dict[str, Any], tag_id: str) -> BulkStep:
    body = {"action": action, "query": query, "tag_ids": [tag_id]}
    started = time.perf_counter()
    status, headers, answer = client.request("POST", "/api/media-assets/bulk", body=body)
    seconds = time.perf_counter() - started
    if status != 200:
        raise RuntimeError(f"bulk {action}: HTTP {status}: {answer[:300]!r}")
    result = json.loads(answer)
    pending = headers.get("x-index-status") == "pending"
    # The tag is new: every selected asset has it after the add, none after the remove.
    wanted = result["matched"] if action == "add_tags" else 0
    found = _tagged(client, tag_id)
    if not pending and found != wanted:
        raise RuntimeError(f"bulk {action} answered as indexed, but the tag finds {found:,}")
    while found != wanted:  # answered pending: timed until it is searchable
        time.sleep(0.05)
        found = _tagged(client, tag_id)
    return BulkStep(
        action=action,
        matched=result["matched"],
        changed=result["changed"],
        seconds=seconds,
        pending=pending,
        searchable_seconds=time.perf_counter() - started,
        found=found,
    )


def measure_bulk(service: Service, assets: int, library: int) -> BulkResult:
    """add_tags of a new tag to the `assets` oldest uploads (by a query), then remove_tags
    of it from every asset that has it (by a query too); the tag is deleted after."""
    client = Client(service.base_url, service.token, timeout=BULK_TIMEOUT_SECONDS)
    count = min(assets, library)
    try:
        tag = _json(client, "POST", "/api/tags", body={"name": f"bench bulk {uuid.uuid4().hex}"})
        query = selecting(client, count, library)
        add = _step(client, "add_tags", query, tag["id"])
        remove = _step(client, "remove_tags", {"tag_ids": tag["id"]}, tag["id"])
        _json(client, "DELETE", f"/api/tags/{tag['id']}")
    finally:
        client.close()
    return BulkResult(assets=count, query=query, add=add, remove=remove)
