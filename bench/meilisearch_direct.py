"""Meilisearch's own figures on the service's documents: the baselines of the benchmark.

The documents and settings are the service's own: every document comes from
`indexer.documents.DocumentLoader` through `to_meilisearch`, and the index gets
`SETTINGS`, so a change to the document shape flows through here. Each bench query is
sent as the one search request a client of Meilisearch would make for the same page:
its words, filters, sort and facets as the service asks for them, in `page` mode (an
exact `totalHits`), retrieving the stored list item when the documents carry one.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session

from bench.queries import PAGE, BenchQuery, Params
from bench.server import Client, Request
from indexer.documents import DocumentLoader
from indexer.engines.meilisearch import SETTINGS, exact_key, to_meilisearch
from indexer.engines.meilisearch_filters import all_of, any_of
from indexer.maintenance import BATCH_SIZE
from indexer.text import words
from service.config import normalize_file_type

# The list parameters the bench uses, as the service's Meilisearch engine maps them.
FACET_ATTRIBUTES = {"tags": "tag_ids", "file_type": "file_type", "uploaded_by": "uploaded_by_key"}
FILTER_ATTRIBUTES = {
    "file_type": "file_type",
    "uploaded_by": "uploaded_by_key",
    "tags": "tag_ids",
}
# `search_in`, as the service's Meilisearch engine maps it.
SEARCH_ATTRIBUTES = {
    "file_name": "words_file_name",
    "tags": "words_tag_names",
    "uploaded_by": "words_uploaded_by",
    "file_type": "words_file_type",
    "content": "words_content",
}
# `highlight=true`: the service marks the file name, tags and content itself, from the
# database's text; the nearest Meilisearch request has Meilisearch highlight the same
# fields and crop the content to about the service's 240 characters (40 words).
HIGHLIGHTED = ["words_file_name", "words_tag_names", "words_content"]
HIGHLIGHT: dict[str, Any] = {
    "attributesToHighlight": HIGHLIGHTED,
    "attributesToCrop": ["words_content"],
    "cropLength": 40,
    "highlightPreTag": "<mark>",
    "highlightPostTag": "</mark>",
}
DEFAULT_SORT = ["uploaded_at:desc", "id:desc"]  # no text: newest upload first, ties by id
LIST_ITEM_ATTRIBUTE = "item"
TASK_POLL_SECONDS = 0.002
TASK_TIMEOUT_SECONDS = 3600.0


class MeilisearchError(RuntimeError):
    pass


class Meilisearch:
    """A Meilisearch server, spoken to over raw HTTP."""

    def __init__(self, url: str, api_key: str | None) -> None:
        self.url = url
        self.api_key = api_key
        self._client = self.client()

    def client(self) -> Client:
        return Client(self.url, self.api_key)

    def call(self, method: str, path: str, body: Any = None) -> Any:
        status, _, data = self._client.request(method, path, body=body)
        if status >= 400:
            raise MeilisearchError(f"{method} {path}: HTTP {status}: {data[:300]!r}")
        return json.loads(data)

    def version(self) -> str:
        version: str = self.call("GET", "/version")["pkgVersion"]
        return version

    def wait(self, task_uid: int) -> dict[str, Any]:
        """Until the task succeeds. Polls often at first, then at 1% of the time waited
        (at most every 100 ms), so that a long load is timed closely and not slowed."""
        begin = time.monotonic()
        while (waited := time.monotonic() - begin) < TASK_TIMEOUT_SECONDS:
            task: dict[str, Any] = self.call("GET", f"/tasks/{task_uid}")
            if task["status"] in ("succeeded", "failed", "canceled"):
                if task["status"] != "succeeded":
                    raise MeilisearchError(f"task {task_uid} {task['status']}: {task.get('error')}")
                return task
            time.sleep(min(0.1, max(TASK_POLL_SECONDS, waited / 100)))
        raise MeilisearchError(f"task {task_uid} did not finish")

    def used_bytes(self) -> int:
        """The server's `usedDatabaseSize`: every index and its task queue, in bytes."""
        used: int = self.call("GET", "/stats")["usedDatabaseSize"]
        return used

    def create_index(self, uid: str) -> None:
        """A fresh index with the service's primary key and settings."""
        self.wait(self.call("POST", "/indexes", {"uid": uid, "primaryKey": "id"})["taskUid"])
        self.wait(self.call("PATCH", f"/indexes/{uid}/settings", SETTINGS)["taskUid"])

    def discard_index(self, uid: str) -> None:
        """Delete an index of the run's, as it ends; a failure here is only reported."""
        try:
            self.wait(self.call("DELETE", f"/indexes/{uid}")["taskUid"])
        except (MeilisearchError, OSError) as exc:
            print(f"Meilisearch: could not delete the index {uid}: {exc}", file=sys.stderr)

    def close(self) -> None:
        self._client.close()


# -- loading ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Documents:
    """Every asset's Meilisearch document, as JSON batches ready to send."""

    batches: list[bytes]
    count: int
    build_seconds: float
    retrieve: list[str]  # attributesToRetrieve for a page of results


def build_documents(db: Engine, *, with_content: bool = True) -> Documents:
    """The documents the service's indexer writes, in its batches, built beforehand so
    that Meilisearch's load is timed alone (`with_content=False`: the same documents
    with their text left out). A page retrieves the stored list item when the documents
    have one (and Meilisearch shows it), else every displayed attribute."""
    started = time.perf_counter()
    batches: list[bytes] = []
    count = 0
    has_item = False
    with Session(db) as session:
        for documents in DocumentLoader(session).batches(BATCH_SIZE):
            if not with_content:
                documents = [dataclasses.replace(document, content="") for document in documents]
            bodies = [to_meilisearch(document) for document in documents]
            has_item = has_item or any(LIST_ITEM_ATTRIBUTE in body for body in bodies)
            batches.append(json.dumps(bodies, separators=(",", ":")).encode())
            count += len(bodies)
    displayed = SETTINGS.get("displayedAttributes", ["*"])
    shown = "*" in displayed or LIST_ITEM_ATTRIBUTE in displayed
    return Documents(
        batches=batches,
        count=count,
        build_seconds=time.perf_counter() - started,
        retrieve=[LIST_ITEM_ATTRIBUTE] if has_item and shown else ["*"],
    )


@dataclass(frozen=True)
class LoadResult:
    documents: int
    batches: int
    seconds: float
    build_seconds: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "documents": self.documents,
            "batches": self.batches,
            "batch_size": BATCH_SIZE,
            "seconds": round(self.seconds, 2),
            "assets_per_second": round(self.documents / self.seconds) if self.seconds else 0,
            "build_seconds": round(self.build_seconds, 2),
        }


def load(meili: Meilisearch, uid: str, documents: Documents) -> LoadResult:
    """Meilisearch's own load rate: every batch added to a fresh index with the service's
    settings, all sent at once (Meilisearch batches queued tasks itself), timed until the
    last task has succeeded."""
    meili.create_index(uid)
    client = meili.client()
    target = f"/indexes/{uid}/documents?primaryKey=id"
    started = time.perf_counter()
    task_uids = []
    try:
        for batch in documents.batches:
            status, _, data = client.send("POST", target, batch)
            if status != 202:
                raise MeilisearchError(f"adding documents: HTTP {status}: {data[:300]!r}")
            task_uids.append(json.loads(data)["taskUid"])
    finally:
        client.close()
    if task_uids:
        meili.wait(task_uids[-1])
    seconds = time.perf_counter() - started
    # Tasks of one index run in order: once the last is done, so are all the others.
    failed = meili.call(
        "GET", f"/tasks?indexUids={uid}&statuses=failed,canceled&types=documentAdditionOrUpdate"
    )
    if failed["results"]:
        raise MeilisearchError(f"loading {uid}: {failed['results'][0].get('error')}")
    held = meili.call("GET", f"/indexes/{uid}/stats")["numberOfDocuments"]
    if held != documents.count:
        raise MeilisearchError(f"{uid} holds {held} documents, not {documents.count}")
    return LoadResult(documents.count, len(documents.batches), seconds, documents.build_seconds)


# -- searching -------------------------------------------------------------------------


def check_settings() -> None:
    """The requests below filter, sort, facet and search on attributes SETTINGS must declare;
    a renamed attribute fails the run here rather than measuring an error."""
    filterable = set(SETTINGS["filterableAttributes"])
    sortable = set(SETTINGS["sortableAttributes"])
    needed = {*FACET_ATTRIBUTES.values(), *FILTER_ATTRIBUTES.values()}
    if not needed <= filterable:
        raise MeilisearchError(f"SETTINGS does not make {sorted(needed - filterable)} filterable")
    searchable = set(SETTINGS["searchableAttributes"])
    searched = {*SEARCH_ATTRIBUTES.values(), *HIGHLIGHTED}
    if not searched <= searchable:
        raise MeilisearchError(f"SETTINGS does not make {sorted(searched - searchable)} searchable")
    sorted_on = {clause.split(":")[0] for clause in DEFAULT_SORT}
    if not sorted_on <= sortable:
        raise MeilisearchError(f"SETTINGS does not make {sorted(sorted_on - sortable)} sortable")


def search_body(params: Params, retrieve: list[str]) -> tuple[dict[str, Any], str]:
    """The Meilisearch search request for one bench variant, and its pagination mode:
    `page` (exact `totalHits`) when the skip falls on a page boundary, else `offset`
    (`estimatedTotalHits`)."""
    text = str(params.get("search", ""))
    filters: list[str | list[str]] = []
    if "file_type" in params:
        file_type = normalize_file_type(params["file_type"])
        filters.append(any_of(FILTER_ATTRIBUTES["file_type"], [file_type]))
    if "uploaded_by" in params:
        key = exact_key(params["uploaded_by"])
        filters.append(any_of(FILTER_ATTRIBUTES["uploaded_by"], [key]))
    # Tags as the service's default tag_match=all: every one of them.
    filters += all_of(FILTER_ATTRIBUTES["tags"], params.get("tag_ids", []))
    body: dict[str, Any] = {
        "q": " ".join(words(text)),
        "filter": filters,
        "matchingStrategy": "all",
        "attributesToRetrieve": retrieve,
    }
    if not body["q"]:
        body["sort"] = DEFAULT_SORT
    elif "search_in" in params:
        fields = params["search_in"].split(",")
        body["attributesToSearchOn"] = sorted(SEARCH_ATTRIBUTES[name] for name in fields)
    if params.get("highlight") == "true":
        body.update(HIGHLIGHT)
    if "facets" in params:
        body["facets"] = [FACET_ATTRIBUTES[name] for name in params["facets"].split(",")]
    skip = int(params.get("skip", 0))
    if skip % PAGE == 0:
        body["page"] = skip // PAGE + 1
        body["hitsPerPage"] = PAGE
        return body, "page"
    body["offset"] = skip
    body["limit"] = PAGE
    return body, "offset"


@dataclass(frozen=True)
class DirectIndex:
    """The index of Meilisearch's own figures, and how to ask it a bench query."""

    meili: Meilisearch
    uid: str
    retrieve: list[str]

    def requests(self, query: BenchQuery) -> tuple[list[Request], str]:
        """Every variant's request, encoded beforehand, and the pagination mode."""
        requests: list[Request] = []
        modes = set()
        for params in query.variants:
            body, mode = search_body(params, self.retrieve)
            modes.add(mode)
            requests.append(("POST", f"/indexes/{self.uid}/search", json.dumps(body).encode()))
        return requests, "/".join(sorted(modes))

    def total(self, query: BenchQuery) -> int:
        """The total of the first variant: totalHits in page mode, else the estimate."""
        body, _ = search_body(query.variants[0], self.retrieve)
        answer = self.meili.call("POST", f"/indexes/{self.uid}/search", body)
        total: int = answer.get("totalHits", answer.get("estimatedTotalHits", -1))
        return total
