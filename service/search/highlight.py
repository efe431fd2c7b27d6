"""Highlights: the words of a field that a search matched, wrapped in `<mark>`, with the
rest of the text HTML-escaped; for a file's content, one excerpt around the best match.

The matching is the contract's word rule, the one both engines apply (indexer.text):
a text word matches a query word when it is the same word, or within the query word's
typo budget (a transposition counting one), or, for the last query word, when it starts
with something within that budget (search-as-you-type). Marking words by this rule
here, rather than with each engine's own highlighter, marks exactly what was matched
(Tantivy's snippet generator marks only exact terms, not typos or prefixes) and marks it
the same way on both engines.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field

from indexer.query import SearchField, SearchQuery
from indexer.text import typo_budget, words

EXCERPT_CHARS = 240
ELLIPSIS = "…"
# Letters, digits and combining marks: the contract's word characters.
_WORD = re.compile(r"[^\W_]+(?:[\u0300-\u036f]+[^\W_]*)*")
# A long text is scanned this far for a typo or prefix match once no exact match is
# found: the cost of a highlight stays bounded whatever the file.
_FUZZY_SCAN_CHARS = 200_000


def _distance(a: str, b: str, limit: int) -> int:
    """Levenshtein distance with adjacent transpositions counting one (as Tantivy's
    fuzzy queries count), or `limit + 1` once it is certainly above `limit`."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous_previous: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                current[j] = min(current[j], previous_previous[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        previous_previous, previous = previous, current
    return previous[-1]


@dataclass
class WordMatcher:
    """Whether a text word matches any word of a query (results kept per word)."""

    query_words: list[str]
    _known: dict[str, bool] = field(default_factory=dict)

    @classmethod
    def for_query(cls, text: str) -> WordMatcher:
        return cls(words(text))

    def __bool__(self) -> bool:
        return bool(self.query_words)

    def matches(self, word: str) -> bool:
        folded = unicodedata.normalize("NFC", word).lower()
        known = self._known.get(folded)
        if known is None:
            known = self._known[folded] = self._decide(folded)
        return known

    def _decide(self, word: str) -> bool:
        last = len(self.query_words) - 1
        for position, query_word in enumerate(self.query_words):
            budget = typo_budget(query_word)
            if word == query_word or _distance(word, query_word, budget) <= budget:
                return True
            if position == last and self._prefix_matches(word, query_word, budget):
                return True
        return False

    @staticmethod
    def _prefix_matches(word: str, query_word: str, budget: int) -> bool:
        if word.startswith(query_word):
            return True
        shortest = max(1, len(query_word) - budget)
        longest = min(len(word), len(query_word) + budget)
        return any(
            _distance(word[:end], query_word, budget) <= budget
            for end in range(shortest, longest + 1)
        )


def _marked(text: str, spans: list[tuple[int, int]]) -> str:
    out: list[str] = []
    at = 0
    for start, end in spans:
        out.append(html.escape(text[at:start]))
        out.append(f"<mark>{html.escape(text[start:end])}</mark>")
        at = end
    out.append(html.escape(text[at:]))
    return "".join(out)


def _matched_spans(
    matcher: WordMatcher, text: str, start: int = 0, end: int | None = None
) -> Iterator[tuple[int, int]]:
    for found in _WORD.finditer(text, start, len(text) if end is None else end):
        if matcher.matches(found.group()):
            yield found.span()


def mark(matcher: WordMatcher, text: str) -> str | None:
    """`text` escaped with its matched words marked; None when none matched."""
    spans = list(_matched_spans(matcher, text))
    return _marked(text, spans) if spans else None


def excerpt(matcher: WordMatcher, text: str, *, size: int = EXCERPT_CHARS) -> str | None:
    """At most `size` characters of `text` (plus `…` where cut) around the best match,
    the window holding the most distinct matched words; None when nothing matched."""
    spans = _spans_in(matcher, text)
    if not spans:
        return None
    best_start = _best_window_start(text, spans, size)
    window_start, window_end = _window(text, spans, best_start, size)
    inside = [(s, e) for s, e in spans if s >= window_start and e <= window_end]
    shifted = [(s - window_start, e - window_start) for s, e in inside]
    body = _marked(text[window_start:window_end], shifted)
    prefix = ELLIPSIS if window_start > 0 else ""
    suffix = ELLIPSIS if window_end < len(text) else ""
    return prefix + body.strip() + suffix


def _best_window_start(text: str, spans: list[tuple[int, int]], size: int) -> int:
    """The start of the span that begins the window with the most distinct matched
    words (the first such window): one pass of a sliding window over the spans."""
    found = [text[start:end].lower() for start, end in spans]
    counts: dict[str, int] = {}
    best_start, best_score = spans[0][0], 0
    ahead = 0
    for index, (start, _) in enumerate(spans):
        while ahead < len(spans) and spans[ahead][1] <= start + size:
            counts[found[ahead]] = counts.get(found[ahead], 0) + 1
            ahead += 1
        if len(counts) > best_score:
            best_start, best_score = start, len(counts)
        if ahead > index:  # the window moves past this span
            left = found[index]
            counts[left] -= 1
            if not counts[left]:
                del counts[left]
    return best_start


def _spans_in(matcher: WordMatcher, text: str) -> list[tuple[int, int]]:
    """The matched words of a content: all of them when it is short, else those in the
    stretch around the first match (a long file is not scanned to its end)."""
    limit = _FUZZY_SCAN_CHARS
    if len(text) <= limit:
        return list(_matched_spans(matcher, text))
    first = next(_matched_spans(matcher, text), None)
    if first is None:
        return []
    return list(_matched_spans(matcher, text, first[0], min(len(text), first[0] + limit)))


def _window(text: str, spans: list[tuple[int, int]], anchor: int, size: int) -> tuple[int, int]:
    """A window of at most `size` characters starting a little before `anchor` (so the
    match has some context), moved to word boundaries."""
    start = max(0, anchor - size // 4)
    end = min(len(text), start + size)
    start = max(0, min(start, end - size))
    if start > 0:
        # Do not cut a word: start after the next space.
        space = text.find(" ", start, anchor)
        start = space + 1 if space != -1 else start
    if end < len(text):
        space = text.rfind(" ", anchor, end)
        end = space if space != -1 and space > anchor else end
    return start, end


@dataclass
class Highlighter:
    """The highlights of one search's items: `{field: html}` for the fields that matched,
    from file_name, tags and content, as far as `search_in` let them match."""

    query: SearchQuery
    _text: WordMatcher = field(init=False)
    _file_name: WordMatcher = field(init=False)

    def __post_init__(self) -> None:
        self._text = WordMatcher.for_query(self.query.text or "")
        # The `file_name` filter matches the name too.
        name_words = [*self._searched(SearchField.FILE_NAME), *words(self.query.file_name or "")]
        self._file_name = WordMatcher(name_words)

    def _searched(self, searched: SearchField) -> list[str]:
        return self._text.query_words if searched in self.query.search_in else []

    @property
    def wants_content(self) -> bool:
        return bool(self._searched(SearchField.CONTENT))

    def of_item(self, file_name: str, tag_names: list[str], content: str) -> dict[str, str]:
        found: dict[str, str] = {}
        if self._file_name and (marked := mark(self._file_name, file_name)):
            found["file_name"] = marked
        if self._searched(SearchField.TAGS):
            tags = [marked for name in tag_names if (marked := mark(self._text, name))]
            if tags:
                found["tags"] = ", ".join(tags)
        if self.wants_content and content and (cut := excerpt(self._text, content)):
            found["content"] = cut
        return found
