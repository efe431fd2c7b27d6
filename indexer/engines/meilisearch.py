"""The production engine: a Meilisearch server, through the official client.

Every write is a task that is waited on; settings are applied before any document
and read back to verify them (a facet on an attribute that is not filterable fails
silently); totals are exact and deep pages reachable, past Meilisearch's default 1000.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from contextlib import nullcontext
from datetime import UTC, datetime, timedelta
from typing import Any

import meilisearch
import orjson
from meilisearch.errors import MeilisearchApiError, MeilisearchError

from indexer.documents import SearchDocument
from indexer.engines.base import CatchUp, SwapWindow
from indexer.engines.meilisearch_async_http import MeilisearchAsyncHttp
from indexer.engines.meilisearch_filters import all_of, any_of, between, none_of
from indexer.engines.meilisearch_http import MeilisearchHttp
from indexer.query import (
    ALL_SEARCH_FIELDS,
    EngineUnavailable,
    FacetName,
    SearchField,
    SearchQuery,
    SearchResult,
    SortField,
    top_facet_values,
)
from indexer.text import analysed, words

log = logging.getLogger(__name__)

# How long the indexer waits for a Meilisearch task (set-up, documents, a swap).
WRITE_PATIENCE_S = 120.0
# How long a search or a readiness check waits for the index and its settings to be in
# place before it answers 503: ample for a new, empty index. A settings change that has
# Meilisearch reindex a large library takes minutes; the indexer waits for that.
READ_PATIENCE_S = 10.0
TASK_POLL_S = 0.05
UNFINISHED = ("enqueued", "processing")
TASK_RETENTION = timedelta(days=1)
# Error codes that blame a document, not the server: such a document is skipped.
DOCUMENT_ERROR_PREFIXES = ("invalid_document", "missing_document", "document_fields_limit")
MAX_TOTAL_HITS = 1_000_000_000
_SORT_ATTRIBUTES = {
    SortField.UPLOADED_AT: "uploaded_at",
    SortField.CREATED_AT: "created_at",
    SortField.UPDATED_AT: "updated_at",
    SortField.FILE_SIZE_BYTES: "file_size_bytes",
    SortField.FILE_NAME: "file_name_sort",
    SortField.FILE_TYPE: "file_type",
}
_FACET_ATTRIBUTES = {
    FacetName.TAGS: "tag_ids",
    FacetName.FILE_TYPE: "file_type",
    FacetName.UPLOADED_BY: "uploaded_by_key",
    FacetName.CONTENT_TYPE: "content_type",
    FacetName.ORIENTATION: "orientation",
    FacetName.ENTITY_TYPE: "entity_types",
}
_SEARCH_ATTRIBUTES = {
    SearchField.FILE_NAME: "words_file_name",
    SearchField.TAGS: "words_tag_names",
    SearchField.UPLOADED_BY: "words_uploaded_by",
    SearchField.FILE_TYPE: "words_file_type",
    SearchField.CONTENT: "words_content",
}
SETTINGS: dict[str, Any] = {
    # The words of each field as indexer.text cuts them, so Meilisearch sees the same
    # words as the query (NFC, any script, final sigma) on both sides.
    "searchableAttributes": [
        "words_file_name",
        "words_tag_names",
        "words_uploaded_by",
        "words_file_type",
        # Meilisearch indexes the first 65,535 words of an attribute: content past that
        # is found by the embedded engine only.
        "words_content",
    ],
    "filterableAttributes": sorted({*_FACET_ATTRIBUTES.values(), "uploaded_at", "link_keys"}),
    "sortableAttributes": sorted({*_SORT_ATTRIBUTES.values(), "id"}),
    # `sort` first: an explicit sort_by orders the whole result, search or not; with
    # no sort (relevance) the rule is inert.
    # `attributeRank` right after `words`: an asset found by its name or tags ranks above
    # every asset found only by its content.
    "rankingRules": [
        "sort",
        "words",
        "attributeRank",
        "typo",
        "proximity",
        "wordPosition",
        "exactness",
    ],
    # Whether query words appear in the same attribute, not how many words apart: the
    # embedded engine does not rank by distance either, and Meilisearch indexes text
    # three times faster without the word-pair distances (20,000 of the benchmark's
    # documents, a fifth with text: 14 s instead of 44 s on one thread), which is what
    # decides how long a large library takes to load and a new file to be searchable.
    "proximityPrecision": "byAttribute",
    "typoTolerance": {"enabled": True, "minWordSizeForTypos": {"oneTypo": 5, "twoTypos": 9}},
    "faceting": {"maxValuesPerFacet": 10_000, "sortFacetValuesBy": {"*": "count"}},
    "pagination": {"maxTotalHits": MAX_TOTAL_HITS},
}


# Lists whose order means something: the ranking rules, and the searchable attributes
# (their order is the priority `attributeRank` ranks by). The others are sets.
_ORDERED_SETTINGS = frozenset({"rankingRules", "searchableAttributes"})


def _kept(key: str, asked: Any, applied: Any) -> bool:
    """Whether Meilisearch holds a setting as asked; a nested setting is kept when each
    part we set is (Meilisearch adds parts of its own)."""
    if isinstance(asked, dict):
        return isinstance(applied, dict) and all(
            _kept(part, value, applied.get(part)) for part, value in asked.items()
        )
    if isinstance(asked, list):
        if not isinstance(applied, list):
            return False
        held = [str(value) for value in applied]
        return held == asked if key in _ORDERED_SETTINGS else sorted(held) == sorted(asked)
    return bool(applied == asked)


def settings_not_kept(applied: dict[str, Any]) -> list[str]:
    """The names of the settings an index does not hold as SETTINGS asks."""
    return [key for key, asked in SETTINGS.items() if not _kept(key, asked, applied.get(key))]


class TaskUnfinished(EngineUnavailable):
    """Meilisearch had not finished the task by the deadline."""

    def __init__(self, task_uid: int) -> None:
        super().__init__(f"Meilisearch had not finished task {task_uid} in time.")
        self.task_uid = task_uid


def _still_setting_up(task_uid: int | None) -> str:
    task = f" (task {task_uid})" if task_uid is not None else ""
    return f"Meilisearch is still setting up the index with this service's settings{task}."


def exact_key(value: str) -> str:
    """Meilisearch compares filter strings case- and accent-insensitively, and sorts
    strings by its own collation: hex of the UTF-8 bytes is matched exactly and sorts
    by code point."""
    return value.encode().hex()


# Bumped whenever the documents change shape: an index holding another shape is rebuilt
# by the indexer at start (`needs_rebuild`), and answers 503 until then.
DOCUMENT_SHAPE = 5


def to_meilisearch(doc: SearchDocument) -> dict[str, Any]:
    body = doc.to_dict()
    body["shape"] = DOCUMENT_SHAPE
    body["fingerprint"] = doc.fingerprint()
    body["file_name_sort"] = exact_key(doc.file_name.casefold())
    body["uploaded_by_key"] = exact_key(doc.uploaded_by)
    # Entity ids are any text, whose case and accents tell them apart: matched exactly.
    # (Types are letters, digits, `_` and `-`, none two alike in case: as they are.)
    body["link_keys"] = [exact_key(link) for link in doc.links]
    body["words_file_name"] = analysed(doc.file_name)
    body["words_tag_names"] = [analysed(name) for name in doc.tag_names]
    body["words_uploaded_by"] = analysed(doc.uploaded_by)
    body["words_file_type"] = analysed(doc.file_type)
    del body["content"]  # the words are what is searched
    body["words_content"] = analysed(doc.content)
    return body


def _answer(status: int, answer: bytes) -> Any:
    if status != 200:
        raise EngineUnavailable(f"Meilisearch answered {status}: {answer[:500]!r}")
    return orjson.loads(answer)


class _SearchPlan:
    """The Meilisearch searches that answer a query, and the result read from their
    answers: one search (page mode gives its exact total with the hits, when the page
    starts on a multiple of its size) with its plain facets; a multi-search only when
    disjunctive facets or an unaligned offset need more."""

    def __init__(self, query: SearchQuery, params: Callable[[SearchQuery], dict[str, Any]]) -> None:
        self.query = query
        page: dict[str, Any] = {
            **params(query),
            "attributesToRetrieve": ["item"] if query.with_items else ["id"],
        }
        direction = "desc" if query.descending else "asc"
        if query.sort_by is not None or query.text is None:
            attribute = _SORT_ATTRIBUTES[query.sort_by or SortField.UPLOADED_AT]
            page["sort"] = [f"{attribute}:{direction}", f"id:{direction}"]
        self.searches = [page]
        if query.limit == 0:
            page.update(page=1, hitsPerPage=0)
        elif query.skip % query.limit == 0:
            page.update(page=query.skip // query.limit + 1, hitsPerPage=query.limit)
        else:
            # Offset mode gives the hits but only an estimated total; count apart.
            page.update(offset=query.skip, limit=query.limit)
            self.searches.append({**params(query), "page": 1, "hitsPerPage": 0})
        self._total_from = len(self.searches) - 1
        self._facet_requests = query.facet_requests()
        self._facet_answers: list[int] = []
        for facet_query, names in self._facet_requests:
            attributes = [_FACET_ATTRIBUTES[name] for name in names]
            if facet_query is query:
                page["facets"] = attributes
                self._facet_answers.append(0)
            else:
                self._facet_answers.append(len(self.searches))
                self.searches.append(
                    {**params(facet_query), "page": 1, "hitsPerPage": 0, "facets": attributes}
                )

    def result(self, results: list[dict[str, Any]]) -> SearchResult:
        hits = results[0]["hits"]
        result = SearchResult(ids=[], total=results[self._total_from]["totalHits"])
        if self.query.with_items:
            try:
                result.items = [hit["item"].encode() for hit in hits]
            except KeyError as exc:
                raise EngineUnavailable(
                    "The Meilisearch index holds documents of an older version of the service "
                    "and is being rebuilt from the database (`media-assets reindex` does it "
                    "by hand)."
                ) from exc
        else:
            result.ids = [hit["id"] for hit in hits]
        for (_, names), answer in zip(self._facet_requests, self._facet_answers, strict=True):
            distribution = results[answer].get("facetDistribution") or {}
            for name in names:
                values = distribution.get(_FACET_ATTRIBUTES[name], {})
                if name is FacetName.UPLOADED_BY:
                    values = {bytes.fromhex(key).decode(): count for key, count in values.items()}
                result.facets[name] = top_facet_values({k: int(v) for k, v in values.items()})
        return result


class MeilisearchEngine:
    name = "meilisearch"

    def __init__(self, *, url: str, api_key: str | None, index_uid: str) -> None:
        self.client = meilisearch.Client(url, api_key, timeout=30)
        self.index_uid = index_uid
        self._ready = False
        self._preparing = threading.Lock()
        self._unfinished_task: int | None = None
        # Searches and bulk additions skip the official client (see meilisearch_http).
        self._http = MeilisearchHttp(url, api_key)
        self._async_http = MeilisearchAsyncHttp(url, api_key)

    # -- tasks and set-up ----------------------------------------------------

    def _finished(self, task_uid: int, deadline: float | None = None) -> Any:
        """The task once Meilisearch has finished it, looked at at least once (the
        client's wait_for_task gives up before looking when no time is left); past the
        deadline (time.monotonic, WRITE_PATIENCE_S from now by default), TaskUnfinished."""
        if deadline is None:
            deadline = time.monotonic() + WRITE_PATIENCE_S
        while True:
            task = self.client.get_task(task_uid)
            if task.status not in UNFINISHED:
                return task
            if time.monotonic() >= deadline:
                raise TaskUnfinished(task_uid)
            time.sleep(TASK_POLL_S)

    def _succeeded(self, task_uid: int, deadline: float | None = None) -> None:
        """As _finished; EngineUnavailable with Meilisearch's reason when the task failed."""
        task = self._finished(task_uid, deadline)
        if task.status != "succeeded":
            raise EngineUnavailable(f"Meilisearch task {task_uid} {task.status}: {task.error}")

    def _add(self, index: Any, docs: Sequence[SearchDocument]) -> bool:
        """Add documents; False when a document was refused, EngineUnavailable otherwise."""
        task_uid = index.add_documents([to_meilisearch(d) for d in docs]).task_uid
        task = self._finished(task_uid)
        if task.status == "succeeded":
            return True
        code = str((task.error or {}).get("code", ""))
        if code.startswith(DOCUMENT_ERROR_PREFIXES):
            return False
        # Disk full, a cancelled task, an internal error: retry later, acknowledge nothing.
        raise EngineUnavailable(f"Meilisearch task {task_uid} {task.status}: {task.error}")

    def _prepare(self, uid: str, deadline: float) -> None:
        """Create the index with its primary key and bring its settings to SETTINGS by
        `deadline` (time.monotonic); EngineUnavailable, naming the task, otherwise.

        An index that holds them already is only read, so starting a process queues no
        task; a settings task queued by another process is waited for, not asked again.
        """
        try:
            self.client.get_index(uid)
        except MeilisearchApiError as exc:
            if exc.code != "index_not_found":
                raise
            self._succeeded(self.client.create_index(uid, {"primaryKey": "id"}).task_uid, deadline)
        index = self.client.index(uid)
        if not settings_not_kept(index.get_settings()):
            return
        pending = self.client.get_tasks(
            {"indexUids": [uid], "types": ["settingsUpdate"], "statuses": list(UNFINISHED)}
        ).results
        if pending:
            # Perhaps another version's settings, perhaps failing: looked at again after.
            self._finished(pending[0].uid, deadline)
        # Done by now if that task (or one that finished since the first look) held ours.
        if not settings_not_kept(index.get_settings()):
            return
        self._succeeded(index.update_settings(SETTINGS).task_uid, deadline)
        not_kept = settings_not_kept(index.get_settings())
        if not_kept:
            raise EngineUnavailable(f"Meilisearch did not keep the {', '.join(not_kept)} setting.")

    def _ensure_ready(self, *, patience_s: float | None = None) -> None:
        """Prepare the index once per engine, within `patience_s` in all (by default
        WRITE_PATIENCE_S); threads that come meanwhile wait for the first one instead of
        queueing tasks of their own."""
        if self._ready:
            return
        if patience_s is None:
            patience_s = WRITE_PATIENCE_S
        deadline = time.monotonic() + patience_s
        if not self._preparing.acquire(timeout=patience_s):
            raise EngineUnavailable(_still_setting_up(self._unfinished_task))
        try:
            if not self._ready:
                self._prepare(self.index_uid, deadline)
                self._ready = True
                self._unfinished_task = None
        except TaskUnfinished as exc:
            # Remembered, so that later searches answer at once (_ensure_ready_to_read).
            self._unfinished_task = exc.task_uid
            raise EngineUnavailable(_still_setting_up(exc.task_uid)) from exc
        except MeilisearchError as exc:
            raise EngineUnavailable(f"Meilisearch is unavailable: {exc}") from exc
        finally:
            self._preparing.release()

    def _ensure_ready_to_read(self) -> None:
        """As _ensure_ready, with a search's patience; and a search that comes while a
        set-up task this engine waited for is still under way (a large library being
        reindexed for new settings: minutes) answers at once instead of waiting again."""
        if self._ready:
            return
        known = self._unfinished_task
        if known is not None:
            try:
                unfinished = self.client.get_task(known).status in UNFINISHED
            except MeilisearchError as exc:
                raise EngineUnavailable(f"Meilisearch is unavailable: {exc}") from exc
            if unfinished:
                raise EngineUnavailable(_still_setting_up(known))
        self._ensure_ready(patience_s=READ_PATIENCE_S)

    # -- writing -------------------------------------------------------------

    def apply(self, *, upserts: Sequence[SearchDocument], deletes: Sequence[str]) -> list[str]:
        self._ensure_ready()
        index = self.client.index(self.index_uid)
        rejected: list[str] = []
        try:
            if deletes:
                self._succeeded(index.delete_documents(list(deletes)).task_uid)
            if upserts and not self._add(index, upserts):
                # One bad document fails the whole task: retry one by one to find it.
                rejected = [doc.id for doc in upserts if not self._add(index, [doc])]
        except MeilisearchError as exc:
            raise EngineUnavailable(f"Meilisearch is unavailable: {exc}") from exc
        return rejected

    def needs_rebuild(self) -> bool:
        """Whether the index holds documents of another shape (an older version of the
        service wrote them); settings are applied and verified at start-up anyway."""
        self._ensure_ready()
        try:
            found = self.client.index(self.index_uid).get_documents(
                {"limit": 1, "fields": ["shape"]}
            )
        except MeilisearchError as exc:
            raise EngineUnavailable(f"Meilisearch is unavailable: {exc}") from exc
        return any(dict(doc).get("shape") != DOCUMENT_SHAPE for doc in found.results)

    def document_count(self) -> int:
        self._ensure_ready()
        try:
            stats = self.client.index(self.index_uid).get_stats()
        except MeilisearchError as exc:
            raise EngineUnavailable(f"Meilisearch is unavailable: {exc}") from exc
        return int(stats.number_of_documents)

    def open_for_writing(self) -> None:
        """Nothing to take: several indexers may share a Meilisearch index (the outbox
        keeps each asset's writes in order), and a server that is down now is retried."""

    def rebuild(
        self, batches: Iterable[Sequence[SearchDocument]], swap_window: SwapWindow | None = None
    ) -> None:
        """Fill a fresh index, then swap it with the live one atomically (inside the swap
        window, after the window's catch-up)."""
        temporary = f"{self.index_uid}_rebuild_{uuid.uuid4().hex[:8]}"
        self._ensure_ready()
        try:
            self._prepare(temporary, time.monotonic() + WRITE_PATIENCE_S)
            # Every batch is queued at once and waited for at the end: Meilisearch merges
            # queued additions into large batches of its own, far faster than one by one.
            queued = [self._queue_documents(temporary, batch) for batch in batches]
            for task_uid in queued:
                self._succeeded(task_uid)
            with swap_window() if swap_window else nullcontext(CatchUp()) as late:
                self._catch_up(temporary, late)
                swap = self.client.swap_indexes([{"indexes": [self.index_uid, temporary]}])
                self._succeeded(swap.task_uid)
        except MeilisearchError as exc:
            self._discard(temporary)
            raise EngineUnavailable(f"Meilisearch is unavailable: {exc}") from exc
        except BaseException:
            self._discard(temporary)  # a failed rebuild leaves no half-built index behind
            raise
        self._discard(temporary)  # since the swap, it holds the old documents

    def _catch_up(self, uid: str, late: CatchUp) -> None:
        if late.deletes:
            self._succeeded(self.client.index(uid).delete_documents(list(late.deletes)).task_uid)
        if late.upserts:
            self._succeeded(self._queue_documents(uid, late.upserts))

    def _discard(self, uid: str) -> None:
        try:
            self._succeeded(self.client.delete_index(uid).task_uid)
        except (MeilisearchError, EngineUnavailable) as exc:
            log.warning("could not delete the Meilisearch index %s: %s", uid, exc)

    def _queue_documents(self, uid: str, batch: Sequence[SearchDocument]) -> int:
        """Send documents (serialised with orjson: the official client's json.dumps is
        the slowest step of a rebuild) and return the task to wait for."""
        body = orjson.dumps([to_meilisearch(doc) for doc in batch])
        status, answer = self._http.post(f"/indexes/{uid}/documents", body)
        if status != 202:
            raise EngineUnavailable(f"Meilisearch refused documents ({status}): {answer[:500]!r}")
        task_uid: int = orjson.loads(answer)["taskUid"]
        return task_uid

    # -- reading -------------------------------------------------------------

    def _filters(self, query: SearchQuery) -> list[str | list[str]]:
        filters: list[str | list[str]] = []
        if query.file_types:
            filters.append(any_of("file_type", query.file_types))
        if query.uploaded_by:
            filters.append(any_of("uploaded_by_key", [exact_key(v) for v in query.uploaded_by]))
        if query.orientations:
            filters.append(any_of("orientation", query.orientations))
        if query.tag_ids and query.match_all_tags:
            filters += all_of("tag_ids", query.tag_ids)
        elif query.tag_ids:
            filters.append(any_of("tag_ids", query.tag_ids))
        if query.exclude_tag_ids:
            filters.append(none_of("tag_ids", query.exclude_tag_ids))
        if query.untagged:
            filters.append("tag_ids IS EMPTY")
        if query.linked:
            filters.append(any_of("link_keys", [exact_key(v) for v in query.linked]))
        filters += all_of("link_keys", [exact_key(v) for v in query.linked_all])
        if query.entity_types:
            filters.append(any_of("entity_types", query.entity_types))
        filters += between("uploaded_at", query.uploaded_after, query.uploaded_before)
        return filters

    def search(self, query: SearchQuery) -> SearchResult:
        self._ensure_ready_to_read()
        plan = _SearchPlan(query, self._params)
        return plan.result(self._search_all(plan.searches))

    async def search_async(self, query: SearchQuery) -> SearchResult:
        """The same search from the event loop, holding no thread while Meilisearch works
        (see meilisearch_async_http)."""
        if not self._ready:
            # Creating and verifying the index blocks: not on the loop.
            await asyncio.to_thread(self._ensure_ready_to_read)
        plan = _SearchPlan(query, self._params)
        searches = plan.searches
        if len(searches) == 1:
            path, body = f"/indexes/{self.index_uid}/search", searches[0]
        else:
            path, body = "/multi-search", self._multi_search(searches)
        status, answer = await self._async_http.post(path, orjson.dumps(body))
        parsed = _answer(status, answer)
        return plan.result([parsed] if len(searches) == 1 else parsed["results"])

    def _search_all(self, searches: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if len(searches) == 1:
            return [self._post(f"/indexes/{self.index_uid}/search", searches[0])]
        answer = self._post("/multi-search", self._multi_search(searches))
        results: list[dict[str, Any]] = answer["results"]
        return results

    def _multi_search(self, searches: list[dict[str, Any]]) -> dict[str, Any]:
        return {"queries": [{**search, "indexUid": self.index_uid} for search in searches]}

    def _post(self, path: str, body: dict[str, Any]) -> Any:
        status, answer = self._http.post(path, orjson.dumps(body))
        return _answer(status, answer)

    def _params(self, query: SearchQuery) -> dict[str, Any]:
        text_parts = [query.text or "", query.file_name or ""]
        params: dict[str, Any] = {
            "q": " ".join(" ".join(words(part)) for part in text_parts if part).strip(),
            "filter": self._filters(query),
            "matchingStrategy": "all",
        }
        if query.file_name and not query.text:
            params["attributesToSearchOn"] = ["words_file_name"]
        elif query.text and query.search_in != ALL_SEARCH_FIELDS:
            searched = {_SEARCH_ATTRIBUTES[field] for field in query.search_in}
            if query.file_name:
                searched.add(_SEARCH_ATTRIBUTES[SearchField.FILE_NAME])
            params["attributesToSearchOn"] = sorted(searched)
        return params

    def fingerprints(self) -> dict[str, str]:
        self._ensure_ready()
        index = self.client.index(self.index_uid)
        fingerprints: dict[str, str] = {}
        offset = 0
        while True:
            batch = index.get_documents(
                {"offset": offset, "limit": 1000, "fields": ["id", "fingerprint"]}
            )
            for doc in batch.results:
                body = dict(doc)
                fingerprints[body["id"]] = body["fingerprint"]
            offset += len(batch.results)
            if not batch.results or offset >= batch.total:
                return fingerprints

    def ping(self) -> None:
        try:
            self.client.health()
        except MeilisearchError as exc:
            raise EngineUnavailable(f"Meilisearch is unavailable: {exc}") from exc
        self._ensure_ready_to_read()

    def upkeep(self) -> None:
        """Delete finished tasks past a day old: Meilisearch caps its task store (about
        10 GiB and a million tasks) and refuses new writes once it is full."""
        cutoff = (datetime.now(UTC) - TASK_RETENTION).isoformat().replace("+00:00", "Z")
        try:
            self.client.delete_tasks(
                {"statuses": ["succeeded", "failed", "canceled"], "beforeFinishedAt": cutoff}
            )
        except MeilisearchError as exc:
            raise EngineUnavailable(f"Meilisearch is unavailable: {exc}") from exc

    def status(self) -> dict[str, object]:
        """The newest failed task on this index, so /readyz can show it."""
        try:
            failed = self.client.get_tasks(
                {"statuses": ["failed"], "indexUids": [self.index_uid], "limit": 1}
            )
        except MeilisearchError as exc:
            raise EngineUnavailable(f"Meilisearch is unavailable: {exc}") from exc
        if not failed.results:
            return {"last_failed_task": None}
        task = failed.results[0]
        return {
            "last_failed_task": {
                "uid": task.uid,
                "type": task.type,
                "finished_at": str(task.finished_at),
                "error": task.error,
            }
        }

    def close(self) -> None:
        self._ready = False
        self._http.close()
        self._async_http.close()
