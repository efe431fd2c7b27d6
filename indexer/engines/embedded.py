"""The embedded engine: a Tantivy index in the data dir, so the service needs no server.

Its directories are `embedded_dirs`'s: a rebuild swaps a new one in live, and an index
that cannot be read is answered 503 and noted for the indexer to rebuild.
"""

from __future__ import annotations

import binascii
import logging
import os
import shutil
import threading
from collections.abc import Iterable, Sequence
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import orjson
import tantivy

from indexer.documents import SearchDocument
from indexer.engines.base import CatchUp, SwapWindow
from indexer.engines.embedded_dirs import IndexDirectories, IndexMissing
from indexer.engines.embedded_pages import (
    EVERYTHING,
    RecentlyUsed,
    SortThresholds,
    count,
    filter_key,
    id_halves,
    ids_of,
    number_sorted_page,
    total_of,
)
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
from indexer.text import analysed, typo_budget, words

log = logging.getLogger(__name__)

WRITER_HEAP_BYTES = 64_000_000
# A rebuild indexes on two threads, each with half the heap: at 1,000,000 assets that is
# 4 segments and no merge (with 256 MB, merging took 30 s of CPU at the end).
REBUILD_THREADS = 2
REBUILD_HEAP_BYTES = 1_000_000_000
_FACET_FIELDS = {
    FacetName.TAGS: "tag_ids",
    FacetName.FILE_TYPE: "file_type",
    FacetName.UPLOADED_BY: "uploaded_by",
    FacetName.CONTENT_TYPE: "content_type",
    FacetName.ORIENTATION: "orientation",
    FacetName.ENTITY_TYPE: "entity_types",
}
# Larger than any realistic number of distinct values, so term counts are exact.
_FACET_SCAN = 65_000
# Numbers sort on integer fast fields, ties broken by id in
# `embedded_pages.NumberSortedPage`; text sorts need a key with the id inside it, since
# Tantivy cannot range over text.
_NUMBER_SORTS = {
    SortField.UPLOADED_AT: "uploaded_at",
    SortField.CREATED_AT: "created_at",
    SortField.UPDATED_AT: "updated_at",
    SortField.FILE_SIZE_BYTES: "file_size_bytes",
}
_TEXT_SORTS = {
    SortField.FILE_NAME: "sort_file_name",
    SortField.FILE_TYPE: "sort_file_type",
}
# The indexed text field of each `search_in` field.
_TEXT_FIELDS = {
    SearchField.FILE_NAME: "file_name",
    SearchField.TAGS: "tag_words",
    SearchField.UPLOADED_BY: "uploader_words",
    SearchField.FILE_TYPE: "type_words",
    SearchField.CONTENT: "content",
}
# What a query word matched outside the content scores, against 1 inside it: an asset
# found by its name or tags ranks above every asset found only by its content.
_OUTSIDE_CONTENT_BOOST = 10.0
_KEY_SEPARATOR = "\x00"
# A searcher with the generation it was taken at and the index it reads.
_KeptSearcher = tuple[tuple[object, ...], tantivy.Index, tantivy.Searcher]


def _schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("id", stored=True, tokenizer_name="raw")
    # The id again as two integer fast fields: hits give their ids without a stored-
    # document read, and ties sort by id.
    builder.add_integer_field("id_high", fast=True)
    builder.add_integer_field("id_low", fast=True)
    # Text arrives already split by indexer.text.words: no length limit, any script.
    builder.add_text_field("text", tokenizer_name="whitespace", index_option="freq")
    # Each part of `text` apart, for `search_in`; and the file's content, searched beside
    # `text` but ranked below it.
    for name in _TEXT_FIELDS.values():
        builder.add_text_field(name, tokenizer_name="whitespace", index_option="freq")
    # Links as `type:id`, and their types (the entity_type facet counts those).
    for name in (
        "file_type",
        "uploaded_by",
        "content_type",
        "tag_ids",
        "orientation",
        "links",
        "entity_types",
    ):
        builder.add_text_field(name, tokenizer_name="raw", fast=True)
    for name in _NUMBER_SORTS.values():
        builder.add_integer_field(name, indexed=True, fast=True)
    builder.add_bytes_field("fingerprint", stored=True)
    # The list item a page is served from, as `indexer.query.list_item` makes it.
    builder.add_bytes_field("item", stored=True)
    for name in _TEXT_SORTS.values():
        builder.add_text_field(name, tokenizer_name="raw", fast=True)
    return builder.build()


class _Encoder:
    """Search documents as the JSON that Tantivy's `add_json` reads (bytes in base64).

    JSON rather than `tantivy.Document(**fields)`, which converted field by field under
    the GIL: one orjson call, then Tantivy parses with the GIL released (about 14 µs an
    asset in all, against 20). The words of tag names, uploaders and types repeat from
    one asset to the next, so each is cut once.
    """

    _MAX_CACHED = 100_000

    def __init__(self) -> None:
        self._words: dict[str, str] = {}

    def _cached_words(self, text: str) -> str:
        found = self._words.get(text)
        if found is None:
            if len(self._words) >= self._MAX_CACHED:
                self._words.clear()
            found = self._words[text] = analysed(text)
        return found

    def encode(self, doc: SearchDocument) -> str:
        cached = self._cached_words
        name_words = analysed(doc.file_name)
        tag_words = " ".join(word for word in map(cached, doc.tag_names) if word)
        uploader_words, type_words = cached(doc.uploaded_by), cached(doc.file_type)
        # The words of the whole searchable text: cutting each part apart gives the same
        # words as cutting them joined by spaces, since no word spans a space.
        parts = [name_words, tag_words, uploader_words, type_words]
        high, low = id_halves(doc.id)
        body = {
            "id": doc.id,
            "id_high": high,
            "id_low": low,
            "text": " ".join(part for part in parts if part),
            "file_name": name_words,
            "tag_words": tag_words,
            "uploader_words": uploader_words,
            "type_words": type_words,
            "content": analysed(doc.content),
            "file_type": doc.file_type,
            "uploaded_by": doc.uploaded_by,
            "content_type": doc.content_type,
            "tag_ids": doc.tag_ids,
            "links": doc.links,
            "entity_types": doc.entity_types,
            # Absent (not empty) without a preview: no facet value, no filter match.
            **({"orientation": doc.orientation} if doc.orientation else {}),
            "uploaded_at": doc.uploaded_at,
            "created_at": doc.created_at,
            "updated_at": doc.updated_at,
            "file_size_bytes": doc.file_size_bytes,
            "fingerprint": _base64(doc.fingerprint_bytes()),
            "item": _base64(doc.item),
            # The text sorts: the value, then the id, so ties break by id in one field.
            "sort_file_name": f"{doc.file_name.casefold()}{_KEY_SEPARATOR}{doc.id}",
            "sort_file_type": f"{doc.file_type.casefold()}{_KEY_SEPARATOR}{doc.id}",
        }
        return orjson.dumps(body).decode()


def _blames_the_document(error: ValueError) -> bool:
    """Whether Tantivy refused one document (its JSON or a field's value), rather than
    failing as a writer (a killed worker thread, an I/O error such as a full disk)."""
    message = str(error)
    return message.startswith("The provided string is not valid JSON") or (
        "could not be parsed" in message
    )


def _base64(data: bytes) -> str:
    return binascii.b2a_base64(data, newline=False).decode("ascii")


class EmbeddedEngine:
    name = "embedded"

    def __init__(self, root: Path) -> None:
        self.root = root
        self.schema = _schema()
        self._lock = threading.RLock()
        self._writer: tantivy.IndexWriter | None = None
        self.dirs = IndexDirectories(root)
        self._pointer_stamp: tuple[int, int] | None = None
        # Why the index cannot be opened (missing, damaged), when it cannot.
        self._unreadable: str | None = None
        self._kept_searcher: _KeptSearcher | None = None
        self._thresholds = SortThresholds()
        self._facet_cache = RecentlyUsed[dict[FacetName, list[tuple[str, int]]]]()
        if self.dirs.is_new():
            self.dirs.create_first()
        self._index = self._open_current()

    # -- directories ---------------------------------------------------------

    def current_dir(self) -> Path:
        return self.dirs.current()

    def _open_current(self) -> tantivy.Index | None:
        """The index CURRENT names, or None when it cannot be served: built by an older
        version with another schema, missing or damaged. Either way `needs_rebuild` says
        so, searches answer 503, and the indexer rebuilds it from the database."""
        self._pointer_stamp = self.dirs.stamp()
        self._unreadable = None
        try:
            directory = self.dirs.current()
            return tantivy.Index(self.schema, path=str(directory), reuse=True)
        except IndexMissing as exc:
            self._unreadable = f"the index is missing ({exc})"
        except (ValueError, OSError) as exc:
            if "schema does not match" in str(exc):
                self._unreadable = "it was built by an older version of the service"
            else:
                self._unreadable = f"it cannot be opened ({exc})"
        log.warning("the embedded index in %s needs a rebuild: %s", self.root, self._unreadable)
        return None

    def needs_rebuild(self) -> bool:
        self._follow_swaps()
        return self._index is None or self.dirs.damage() is not None

    def _current_index(self) -> tantivy.Index:
        if self._index is None:
            raise EngineUnavailable(
                f"The embedded index cannot be used: {self._unreadable}; it is being rebuilt "
                "from the database (`media-assets reindex` does it by hand)."
            )
        return self._index

    def _follow_swaps(self) -> None:
        """Reopen when a rebuild has pointed CURRENT at a new directory (or it vanished)."""
        if self.dirs.stamp() == self._pointer_stamp:
            return
        with self._lock:
            if self.dirs.stamp() == self._pointer_stamp:
                return
            had_writer = self._writer is not None
            self._writer = None
            self._kept_searcher = None
            self._index = self._open_current()
            if had_writer:
                self.dirs.remove_stale()

    def open_for_writing(self) -> None:
        """Take the index's writer lock now, or say which process must be stopped."""
        with self._lock:
            self._writer_for_write()

    def _writer_for_write(self) -> tantivy.IndexWriter:
        if self._writer is None:
            try:
                self._writer = self._current_index().writer(WRITER_HEAP_BYTES, 1)
            except ValueError as exc:
                raise EngineUnavailable(
                    f"Another process is already indexing {self.root}: with the embedded "
                    "engine only one process may write the index. Stop the other indexer, "
                    "or run this one with MEDIA_RUN_INDEXER=false."
                ) from exc
            self.dirs.remove_stale()
        return self._writer

    # -- writing -------------------------------------------------------------

    def apply(self, *, upserts: Sequence[SearchDocument], deletes: Sequence[str]) -> list[str]:
        """Write the batch in one commit, or nothing: a failure of the writer or of the
        disk (ENOSPC) discards the batch and the writer and raises EngineUnavailable, so
        the rows stay in the outbox and are retried on a new writer. Only a document
        Tantivy cannot parse is skipped (returned as rejected)."""
        self._follow_swaps()
        with self._lock:
            writer = self._writer_for_write()
            try:
                rejected = self._add(writer, upserts, deletes)
                writer.commit()
            except ValueError as exc:  # tantivy-py raises I/O and writer errors as ValueError
                del writer
                self._discard_writer()
                raise EngineUnavailable(f"The embedded index could not be written: {exc}") from exc
            self._current_index().reload()
        return rejected

    def _add(
        self,
        writer: tantivy.IndexWriter,
        upserts: Sequence[SearchDocument],
        deletes: Sequence[str],
    ) -> list[str]:
        for doc_id in [*deletes, *(doc.id for doc in upserts)]:
            writer.delete_documents_by_term("id", doc_id)
        rejected: list[str] = []
        encoder = _Encoder()
        for doc in upserts:
            try:
                writer.add_json(encoder.encode(doc))
            except orjson.JSONEncodeError:
                log.exception("the document of asset %s cannot be encoded", doc.id)
                rejected.append(doc.id)
            except ValueError as exc:
                if not _blames_the_document(exc):
                    raise
                log.exception("embedded index rejected the document of asset %s", doc.id)
                rejected.append(doc.id)
        return rejected

    def _discard_writer(self) -> None:
        """Drop the writer and what it had not committed; the next batch opens a new one
        (a writer that met an I/O error is dead for good)."""
        writer, self._writer = self._writer, None
        if writer is not None:
            try:
                writer.rollback()
            except ValueError as exc:
                log.warning("rolling back the failed index writer: %s", exc)

    def rebuild(
        self, batches: Iterable[Sequence[SearchDocument]], swap_window: SwapWindow | None = None
    ) -> None:
        """Fill a fresh index directory, then point CURRENT at it atomically (inside the
        swap window, after the window's catch-up). Nothing of the index in use is opened,
        so a damaged or missing one is rebuilt the same way; a build that fails removes
        its directory, and one that was killed is removed by the next build or writer
        (its lock died with it)."""
        self.dirs.remove_abandoned_builds()
        building, lock = self.dirs.building_dir()
        try:
            index = tantivy.Index(self.schema, path=str(building), reuse=False)
            writer = index.writer(REBUILD_HEAP_BYTES, REBUILD_THREADS)
            encoder = _Encoder()
            for batch in batches:
                for doc in batch:
                    writer.add_json(encoder.encode(doc))
            writer.commit()
            # Merges finish before the window opens: it holds the indexer's acknowledgements.
            writer.wait_merging_threads()
            del writer
            with swap_window() if swap_window else nullcontext(CatchUp()) as late:
                if late.upserts or late.deletes:
                    self._catch_up(index, late)
                del index
                self.dirs.swap_in(building)
        except BaseException:
            shutil.rmtree(building, ignore_errors=True)  # gone already once swapped in
            raise
        finally:
            lock.close()
        self._follow_swaps()

    def _catch_up(self, index: tantivy.Index, late: CatchUp) -> None:
        writer = index.writer(WRITER_HEAP_BYTES, 1)
        for rejected in self._add(writer, late.upserts, late.deletes):
            log.error("rebuilt index rejected the document of asset %s; skipped", rejected)
        writer.commit()
        writer.wait_merging_threads()

    # -- reading -------------------------------------------------------------

    def _searcher(self, generation: tuple[object, ...] | None = None) -> tantivy.Searcher:
        """A searcher at least as new as `generation` (read before it, see `_generation`).

        Another process may be the writer, so a new generation means a reload. The
        searcher of an unchanged generation is kept: a reload and a new searcher cost
        0.15 ms a request, and a kept searcher keeps its segments' document caches warm."""
        self._follow_swaps()
        index = self._current_index()
        kept = self._kept_searcher
        if generation is not None and kept is not None and kept[:2] == (generation, index):
            return kept[2]
        index.reload()
        searcher = index.searcher()
        if generation is not None:
            self._kept_searcher = (generation, index, searcher)
        return searcher

    def _text_clauses(
        self, fields: Sequence[str], text: str, *, content: bool = False
    ) -> list[tuple[tantivy.Occur, tantivy.Query]]:
        """Every word must match, in one of `fields` or (with `content`) in the content,
        within its typo budget (the last one as a prefix too); an exact match of a word
        outside the content adds a boosted score.

        The exact term is an optional clause beside the required fuzzy one rather than a
        union inside it: the fuzzy sets (bitsets) are intersected first and the exact
        postings only scored on what survives, which halves a two-word search at 1M.
        The score is the same sum either way."""
        query_words = words(text)
        clauses: list[tuple[tantivy.Occur, tantivy.Query]] = []
        for position, word in enumerate(query_words):
            last = position == len(query_words) - 1
            fuzzy = [self._fuzzy(field, word, prefix=last) for field in fields]
            if content:
                # A match outside the content scores more (a fuzzy query scores 1).
                found = [
                    (tantivy.Occur.Should, tantivy.Query.boost_query(q, _OUTSIDE_CONTENT_BOOST))
                    for q in fuzzy
                ]
                found.append((tantivy.Occur.Should, self._fuzzy("content", word, prefix=last)))
                clauses.append((tantivy.Occur.Must, tantivy.Query.boolean_query(found)))
            elif len(fuzzy) == 1:
                clauses.append((tantivy.Occur.Must, fuzzy[0]))
            else:
                union = [(tantivy.Occur.Should, q) for q in fuzzy]
                clauses.append((tantivy.Occur.Must, tantivy.Query.boolean_query(union)))
            for field in fields:
                exact = tantivy.Query.term_query(self.schema, field, word)
                clauses.append((tantivy.Occur.Should, tantivy.Query.boost_query(exact, 2.0)))
        return clauses

    def _fuzzy(self, field: str, word: str, *, prefix: bool) -> tantivy.Query:
        return tantivy.Query.fuzzy_term_query(
            self.schema, field, word, distance=typo_budget(word), prefix=prefix
        )

    def _search_fields(self, search_in: frozenset[SearchField]) -> list[str]:
        """The indexed fields outside the content that `search_in` names: `text` for all
        of them (one field, one term dictionary), else each one apart."""
        outside = search_in - {SearchField.CONTENT}
        if outside == ALL_SEARCH_FIELDS - {SearchField.CONTENT}:
            return ["text"]
        return [_TEXT_FIELDS[field] for field in sorted(outside)]

    def _any_of(self, field: str, values: Sequence[str]) -> tantivy.Query:
        """Documents with any of the values: term queries, not a term set, which builds an
        automaton and a bitset of the whole index even for one value (0.2 ms at 100k, 0.5
        at 1M, against microseconds) and was never faster, up to 100 tags at 1M."""
        if len(values) == 1:
            return tantivy.Query.term_query(self.schema, field, values[0])
        terms = [tantivy.Query.term_query(self.schema, field, value) for value in values]
        return tantivy.Query.boolean_query([(tantivy.Occur.Should, term) for term in terms])

    def _filter(self, query: tantivy.Query) -> tantivy.Query:
        # Filters must not change relevance: they score nothing.
        return tantivy.Query.const_score_query(query, 0.0)

    def build_query(self, query: SearchQuery) -> tantivy.Query:
        clauses: list[tuple[tantivy.Occur, tantivy.Query]] = []
        if query.text is not None:
            clauses += self._text_clauses(
                self._search_fields(query.search_in),
                query.text,
                content=SearchField.CONTENT in query.search_in,
            )
        if query.file_name is not None:
            clauses += self._text_clauses(["file_name"], query.file_name)
        filters: list[tantivy.Query] = []
        if query.file_types:
            filters.append(self._any_of("file_type", query.file_types))
        if query.uploaded_by:
            filters.append(self._any_of("uploaded_by", query.uploaded_by))
        if query.orientations:
            filters.append(self._any_of("orientation", query.orientations))
        if query.tag_ids and query.match_all_tags:
            filters += [tantivy.Query.term_query(self.schema, "tag_ids", t) for t in query.tag_ids]
        elif query.tag_ids:
            filters.append(self._any_of("tag_ids", query.tag_ids))
        if query.linked:
            filters.append(self._any_of("links", query.linked))
        filters += [tantivy.Query.term_query(self.schema, "links", v) for v in query.linked_all]
        if query.entity_types:
            filters.append(self._any_of("entity_types", query.entity_types))
        if query.uploaded_after is not None or query.uploaded_before is not None:
            filters.append(
                tantivy.Query.range_query(
                    self.schema,
                    "uploaded_at",
                    tantivy.FieldType.Integer,
                    lower_bound=query.uploaded_after,
                    upper_bound=query.uploaded_before,
                )
            )
        clauses += [(tantivy.Occur.Must, self._filter(q)) for q in filters]
        excluded = [
            tantivy.Query.term_query(self.schema, "tag_ids", t) for t in query.exclude_tag_ids
        ]
        if query.untagged:
            excluded.append(tantivy.Query.exists_query("tag_ids"))
        if not clauses and not excluded:
            return tantivy.Query.all_query()
        if not clauses:
            # A boolean query of exclusions alone matches nothing: exclude from everything.
            clauses.append((tantivy.Occur.Must, self._filter(tantivy.Query.all_query())))
        clauses += [(tantivy.Occur.MustNot, q) for q in excluded]
        return tantivy.Query.boolean_query(clauses)

    def search(self, query: SearchQuery) -> SearchResult:
        try:
            return self._search(query)
        except (IndexMissing, ValueError, OSError) as exc:
            raise self._unreadable_index(exc) from exc

    def _unreadable_index(self, exc: Exception) -> EngineUnavailable:
        """The error for a read that failed. Tantivy reports a damaged or vanished file
        as ValueError or OSError: noted for the indexer, which rebuilds the index from the
        database and swaps it in."""
        if isinstance(exc, IndexMissing):
            reason = f"the index is missing ({exc})"
        else:
            reason = f"it cannot be read ({exc})"
            self.dirs.note_damage(self._index_dir(), str(exc))
        return EngineUnavailable(
            f"The embedded index cannot be used: {reason}; it is being rebuilt from the database."
        )

    def _index_dir(self) -> Path:
        try:
            return self.dirs.current()
        except IndexMissing:
            return self.root

    def _search(self, query: SearchQuery) -> SearchResult:
        generation = self._generation()
        searcher = self._searcher(generation)
        tantivy_query = self.build_query(query)
        sort = query.sort_by or SortField.UPLOADED_AT
        # Matching everything, the total is the number of documents: counting a million
        # hits one by one would cost more than finding the page.
        counting = filter_key(query) != EVERYTHING
        total = searcher.num_docs
        if query.limit == 0 or query.skip >= searcher.num_docs:
            # Tantivy reserves room for offset + limit hits up front: an offset past the
            # last document must not reach it, or a huge `skip` would exhaust memory.
            addresses: list[tantivy.DocAddress] = []
            total = count(searcher, tantivy_query) if counting else total
        elif query.sort_by is None and query.text is not None:
            found = searcher.search(
                tantivy_query, limit=query.limit, count=counting, offset=query.skip
            )
            addresses = [address for _, address in found.hits]
            total = total_of(found) if counting else total
        elif sort in _TEXT_SORTS:
            found = searcher.search(
                tantivy_query,
                limit=query.limit,
                count=counting,
                order_by_field=_TEXT_SORTS[sort],
                offset=query.skip,
                order=tantivy.Order.Desc if query.descending else tantivy.Order.Asc,
            )
            addresses = [address for _, address in found.hits]
            total = total_of(found) if counting else total
        else:
            # Counted apart: the page may be found among a narrowed set of documents.
            total = count(searcher, tantivy_query) if counting else total
            addresses = number_sorted_page(
                self.schema,
                searcher,
                tantivy_query,
                _NUMBER_SORTS[sort],
                query,
                matches=total,
                thresholds=self._thresholds,
                generation=generation,
            )
        if query.with_items:
            items = [searcher.doc(address)["item"][0] for address in addresses]
            result = SearchResult(ids=[], total=total, items=items)
        else:
            result = SearchResult(ids=ids_of(searcher, addresses), total=total)
        for facet_query, names in query.facet_requests():
            result.facets.update(self._facets(generation, searcher, facet_query, names))
        return result

    async def search_async(self, query: SearchQuery) -> SearchResult:
        return self.search(query)

    def _generation(self) -> tuple[object, ...]:
        """Changes with every commit to the index in use: Tantivy replaces meta.json on
        each one, and a swap replaces CURRENT. Read before the searcher is taken, so a
        result computed later is never filed under an older generation than its own."""
        meta = os.stat(self.dirs.current() / "meta.json")
        return (self._pointer_stamp, meta.st_ino, meta.st_mtime_ns, meta.st_size)

    def _facets(
        self,
        generation: tuple[object, ...],
        searcher: tantivy.Searcher,
        query: SearchQuery,
        names: Sequence[FacetName],
    ) -> dict[FacetName, list[tuple[str, int]]]:
        """Facet counts, computed once per index generation and query: counting the
        values of a million documents takes ~65 ms, and the landing page asks for the
        same counts until the next commit changes them."""
        key = (generation, filter_key(query), tuple(names))
        cached = self._facet_cache.get(key)
        if cached is not None:
            return cached
        request: dict[str, Any] = {
            name.value: {
                "terms": {
                    "field": _FACET_FIELDS[name],
                    "size": _FACET_SCAN,
                    "segment_size": _FACET_SCAN,
                }
            }
            for name in names
        }
        answer = searcher.aggregate(self.build_query(query), request)
        counts = {
            name: top_facet_values(
                {b["key"]: int(b["doc_count"]) for b in answer[name.value]["buckets"]}
            )
            for name in names
        }
        self._facet_cache.put(key, counts)
        return counts

    def document_count(self) -> int:
        try:
            return int(self._searcher().num_docs)
        except (IndexMissing, ValueError, OSError) as exc:
            raise self._unreadable_index(exc) from exc

    def fingerprints(self) -> dict[str, str]:
        try:
            return self._fingerprints()
        except (IndexMissing, ValueError, OSError) as exc:
            raise self._unreadable_index(exc) from exc

    def _fingerprints(self) -> dict[str, str]:
        searcher = self._searcher()
        total = searcher.num_docs
        if total == 0:
            return {}
        found = searcher.search(tantivy.Query.all_query(), limit=total, count=False)
        fingerprints: dict[str, str] = {}
        for _, address in found.hits:
            stored = searcher.doc(address)
            fingerprints[stored["id"][0]] = bytes(stored["fingerprint"][0]).hex()
        return fingerprints

    def ping(self) -> None:
        try:
            self._searcher()
        except (IndexMissing, OSError, ValueError) as exc:
            raise EngineUnavailable(f"The embedded index cannot be read: {exc}") from exc
        damage = self.dirs.damage()
        if damage is not None:
            raise EngineUnavailable(
                f"The embedded index cannot be read ({damage}); it is being rebuilt."
            )

    def upkeep(self) -> None:
        """Nothing to do: Tantivy merges segments by itself."""

    def status(self) -> dict[str, object]:
        return {"index_dir": self._index_dir().name}

    def close(self) -> None:
        with self._lock:
            self._writer = None
