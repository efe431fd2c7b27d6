"""Reading the embedded index: pages in a numeric order with ties broken by id, the
sort thresholds that let such a page skip most of a large index, and the per-process
caches keyed by index generation."""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from dataclasses import fields
from typing import Generic, TypeVar

import tantivy

from indexer.query import SearchQuery

V = TypeVar("V")
_SIGN = 1 << 63  # unsigned 64-bit halves of an id, stored in signed integer fields


def id_halves(doc_id: str) -> tuple[int, int]:
    value = int(doc_id.replace("-", ""), 16)  # as uuid.UUID(doc_id).int, at a third the cost
    return (value >> 64) - _SIGN, (value & ((1 << 64) - 1)) - _SIGN


def id_from_halves(high: int, low: int) -> str:
    return str(uuid.UUID(int=((high + _SIGN) << 64) | (low + _SIGN)))


# What shapes the page rather than deciding which documents match.
_PAGE_FIELDS = frozenset(
    {"skip", "limit", "sort_by", "descending", "facets", "disjunctive_facets", "with_items"}
)
# Every other field of the query, so a new filter can never be left out of the key.
_FILTER_FIELDS = tuple(
    field.name for field in fields(SearchQuery) if field.name not in _PAGE_FIELDS
)


def _hashable(value: object) -> object:
    if isinstance(value, frozenset):
        return tuple(sorted(value))
    if isinstance(value, list | tuple):
        return tuple(value)
    return value


def filter_key(query: SearchQuery) -> tuple[object, ...]:
    """Everything that decides which documents match (not the page, sort or facets)."""
    return tuple(_hashable(getattr(query, name)) for name in _FILTER_FIELDS)


EVERYTHING = filter_key(SearchQuery())


class RecentlyUsed(Generic[V]):
    """The most recently used results, shared by the threads of one process. Keys hold
    the index generation, so a commit makes every older entry unreachable."""

    def __init__(self, size: int = 256) -> None:
        self._size = size
        self._entries: OrderedDict[object, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: object) -> V | None:
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
            return found

    def put(self, key: object, value: V) -> None:
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)


def total_of(found: tantivy.SearchResult) -> int:
    # `count` is set because count=True; the type stub does not declare it.
    total: int = getattr(found, "count", 0) or 0
    return total


def count(searcher: tantivy.Searcher, query: tantivy.Query) -> int:
    return total_of(searcher.search(query, limit=1, count=True))


def _id_keys(
    searcher: tantivy.Searcher, addresses: list[tantivy.DocAddress]
) -> list[tuple[int, int]]:
    highs = searcher.fast_field_values("id_high", addresses)
    lows = searcher.fast_field_values("id_low", addresses)
    return [(int(high or 0), int(low or 0)) for high, low in zip(highs, lows, strict=True)]


def ids_of(searcher: tantivy.Searcher, addresses: list[tantivy.DocAddress]) -> list[str]:
    return [id_from_halves(high, low) for high, low in _id_keys(searcher, addresses)]


def _value_and_id(entry: tuple[int, tuple[int, int], tantivy.DocAddress]) -> tuple[int, int, int]:
    return entry[0], *entry[1]


class NumberSortedPage:
    """A page ordered by an integer fast field, ties broken by id in the same direction.

    Tantivy orders equal values by their place in the index, not by id. Values inside
    the page are re-sorted here; a run of equal values that crosses the page's edge is
    located exactly (how many documents come before it, how many it holds) and the
    page's share of it is read in id order. Only that rare case costs extra queries.
    """

    def __init__(
        self,
        schema: tantivy.Schema,
        searcher: tantivy.Searcher,
        query: tantivy.Query,
        field: str,
        request: SearchQuery,
        counting: bool,
    ) -> None:
        self.counting = counting
        # Whether the search found every hit the page needed (one past its end): a
        # search narrowed by a sort threshold that falls short must be done in full.
        self.window_full = False
        self.schema = schema
        self.searcher = searcher
        self.query = query
        self.field = field
        self.skip = request.skip
        self.limit = request.limit
        self.descending = request.descending
        self.order = tantivy.Order.Desc if request.descending else tantivy.Order.Asc

    def addresses(self) -> tuple[list[tantivy.DocAddress], tantivy.SearchResult]:
        """The page, and the search that found it (its count, when counting)."""
        # One hit either side of the page shows whether a run of ties crosses its edges.
        start = max(self.skip - 1, 0)
        found = self.searcher.search(
            self.query,
            limit=self.limit + 1 + (self.skip - start),
            count=self.counting,
            order_by_field=self.field,
            offset=start,
            order=self.order,
        )
        addresses = [address for _, address in found.hits]
        self.window_full = len(addresses) == self.limit + 1 + (self.skip - start)
        values = [int(value) for value, _ in found.hits]
        keys = _id_keys(self.searcher, addresses)
        entries = list(zip(values, keys, addresses, strict=True))
        first = self.skip - start
        page = entries[first : first + self.limit]
        if not page:
            return [], found
        before = entries[0] if first else None
        after = entries[first + self.limit] if len(entries) > first + self.limit else None
        crosses_start = before is not None and before[0] == page[0][0]
        crosses_end = after is not None and after[0] == page[-1][0]
        if not crosses_start and not crosses_end:
            ordered = sorted(page, key=_value_and_id, reverse=self.descending)
            return [address for _, _, address in ordered], found
        head = page[0][0] if crosses_start else None
        tail = page[-1][0] if crosses_end else None
        if head is not None and head == tail:
            return self._run_on_page(head, ahead=None), found
        inside = sorted(
            (e for e in page if e[0] != head and e[0] != tail),
            key=_value_and_id,
            reverse=self.descending,
        )
        addresses = [] if head is None else self._run_on_page(head, ahead=None)
        addresses += [address for _, _, address in inside]
        if tail is not None:
            # Every document before the page ranks strictly ahead of the tail's value
            # (else its run would cross the start too), and so do the page's entries
            # before the run: no count needed.
            first_of_run = next(i for i, e in enumerate(page) if e[0] == tail)
            addresses += self._run_on_page(tail, ahead=self.skip + first_of_run)
        return addresses, found

    def _with(self, extra: tantivy.Query) -> tantivy.Query:
        return tantivy.Query.boolean_query(
            [(tantivy.Occur.Must, self.query), (tantivy.Occur.Must, extra)]
        )

    def _strictly_ahead_of(self, value: int) -> tantivy.Query:
        lower, upper = (value, None) if self.descending else (None, value)
        return tantivy.Query.range_query(
            self.schema,
            self.field,
            tantivy.FieldType.Integer,
            lower_bound=lower,
            upper_bound=upper,
            # The bound itself is excluded; an unbounded side is always inclusive.
            include_lower=lower is None,
            include_upper=upper is None,
        )

    def _run_on_page(self, value: int, *, ahead: int | None) -> list[tantivy.DocAddress]:
        """The documents worth `value` that fall on this page, in id order; `ahead` is
        how many rank before them, counted here when not known."""
        if ahead is None:
            ahead = count(self.searcher, self._with(self._strictly_ahead_of(value)))
        # The value's own term in the inverted index: as cheap as the run is short.
        run = self._with(tantivy.Query.term_query(self.schema, self.field, value))
        size = count(self.searcher, run)
        begin = max(self.skip, ahead) - ahead
        end = min(self.skip + self.limit, ahead + size) - ahead
        if end <= begin:
            return []
        # Ordered by the high half of the id: 60 random bits of a version-4 UUID. Two ids
        # sharing them (about one chance in 10^6 for a library of a million) would keep
        # Tantivy's order between themselves.
        found = self.searcher.search(
            run,
            limit=end - begin,
            count=False,
            order_by_field="id_high",
            offset=begin,
            order=self.order,
        )
        return [address for _, address in found.hits]


THRESHOLD_DEPTH = 8192


class SortThresholds:
    """For each numeric sort and direction, the values of the first ranks of the whole
    index, computed once per generation.

    Ranking every match of a query by a fast field visits each one; at a million
    documents that is most of a request. A page whose hits all rank at or above some
    value can instead be searched among the documents in that range, which a fast-field
    range finds in one vectorised scan. The value at the page's rank in the whole index
    is such a bound for an unfiltered list; for a filtered one, the rank is scaled by
    how selective the filter is, with a margin, and checked: a narrowed search that
    falls short of the page is done again in full.
    """

    def __init__(self) -> None:
        self._values = RecentlyUsed[list[int]](size=32)

    def value_at(
        self,
        generation: object,
        searcher: tantivy.Searcher,
        field: str,
        *,
        descending: bool,
        rank: int,
    ) -> int | None:
        if rank >= THRESHOLD_DEPTH:
            return None
        key = (generation, field, descending)
        values = self._values.get(key)
        if values is None:
            found = searcher.search(
                tantivy.Query.all_query(),
                limit=THRESHOLD_DEPTH,
                count=False,
                order_by_field=field,
                order=tantivy.Order.Desc if descending else tantivy.Order.Asc,
            )
            values = [int(value) for value, _ in found.hits]
            self._values.put(key, values)
        return values[rank] if rank < len(values) else None


def number_sorted_page(
    schema: tantivy.Schema,
    searcher: tantivy.Searcher,
    query: tantivy.Query,
    field: str,
    request: SearchQuery,
    *,
    matches: int,
    thresholds: SortThresholds,
    generation: object,
) -> list[tantivy.DocAddress]:
    """The page of a numeric sort, among the documents past a sort threshold when the
    whole page lies there, else among every match."""
    needed = request.skip + request.limit + 1
    documents = searcher.num_docs
    if matches >= needed:
        # Matches spread evenly through the order would put the needed-th at this rank
        # of the whole index; twice that leaves room for a filter that favours the tail.
        rank = needed - 1 if matches == documents else needed * documents // matches * 2
        bound = thresholds.value_at(
            generation, searcher, field, descending=request.descending, rank=rank
        )
        if bound is not None:
            narrowed = tantivy.Query.boolean_query(
                [
                    (tantivy.Occur.Must, query),
                    (
                        tantivy.Occur.Must,
                        tantivy.Query.range_query(
                            schema,
                            field,
                            tantivy.FieldType.Integer,
                            lower_bound=bound if request.descending else None,
                            upper_bound=None if request.descending else bound,
                        ),
                    ),
                ]
            )
            page = NumberSortedPage(schema, searcher, narrowed, field, request, False)
            addresses, _ = page.addresses()
            if page.window_full:
                return addresses
    addresses, _ = NumberSortedPage(schema, searcher, query, field, request, False).addresses()
    return addresses
