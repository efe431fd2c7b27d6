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
from functools import cached_property

from indexer.query import SearchField, SearchQuery
from indexer.text import typo_budget, words

EXCERPT_CHARS = 240
ELLIPSIS = "…"
# Letters, digits and combining marks: the contract's word characters.
_WORD = re.compile(r"[^\W_]+(?:[\u0300-\u036f]+[^\W_]*)*")
_ASCII_WORD = re.compile(r"[a-z0-9]+")
# A text with no exact or plain-prefix match is scanned this far for a typo: the cost of
# a highlight stays bounded whatever the file.
_FUZZY_SCAN_CHARS = 20_000


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


def _prefix_distance(query_word: str, text: str, limit: int) -> int:
    """The least distance between `query_word` and any prefix of `text` (one table: its
    last row holds the distance to every prefix), or `limit + 1` once above it."""
    previous_previous: list[int] = []
    previous = list(range(len(text) + 1))
    for i in range(1, len(query_word) + 1):
        current = [i] + [0] * len(text)
        for j in range(1, len(text) + 1):
            cost = 0 if query_word[i - 1] == text[j - 1] else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if (
                i > 1
                and j > 1
                and query_word[i - 1] == text[j - 2]
                and query_word[i - 2] == text[j - 1]
            ):
                current[j] = min(current[j], previous_previous[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        previous_previous, previous = previous, current
    return min(previous[1:], default=limit + 1)


@dataclass
class WordMatcher:
    """Whether a text word matches any word of a query (results kept per word)."""

    query_words: list[str]
    _known: dict[str, bool] = field(default_factory=dict)
    _accepted: set[str] = field(default_factory=set)
    _rejected: set[str] = field(default_factory=set)

    @classmethod
    def for_query(cls, text: str) -> WordMatcher:
        return cls(words(text))

    @cached_property
    def plain(self) -> re.Pattern[str]:
        """The words that match exactly (the last one also as a plain prefix): found at C
        speed, they place a long text's excerpt without a typo check of every word."""
        *others, last = self.query_words or [""]
        choices = [*(re.escape(word) for word in others), re.escape(last) + r"[^\W_]*"]
        return re.compile(r"(?<![^\W_])(?:" + "|".join(choices) + r")(?![^\W_])", re.IGNORECASE)

    def __bool__(self) -> bool:
        return bool(self.query_words)

    def matches(self, word: str) -> bool:
        folded = unicodedata.normalize("NFC", word).lower()
        known = self._known.get(folded)
        if known is None:
            known = self._known[folded] = self._decide(folded)
        return known

    def matching(self, folded_words: set[str]) -> set[str]:
        """Those of these words (NFC, lowercased) that match: set operations for the words
        judged before, the rule only for new ones."""
        for word in folded_words - self._accepted - self._rejected:
            (self._accepted if self._decide(word) else self._rejected).add(word)
        return folded_words & self._accepted

    def _decide(self, word: str) -> bool:
        last = len(self.query_words) - 1
        for position, query_word in enumerate(self.query_words):
            prefix = position == last
            if word == query_word or (prefix and word.startswith(query_word)):
                return True
            budget = typo_budget(query_word)
            if not budget:
                continue
            if prefix:
                # Some prefix of the word within the budget: the word cut to the longest
                # such prefix has the query word within the budget of one of its prefixes.
                head = word[: len(query_word) + budget]
                if len(head) >= len(query_word) - budget and (
                    _prefix_distance(query_word, head, budget) <= budget
                ):
                    return True
            elif (
                abs(len(word) - len(query_word)) <= budget
                and _distance(word, query_word, budget) <= budget
            ):
                return True
        return False


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
    # Inside the window every word is checked by the whole rule, typos included.
    shown = text[window_start:window_end]
    body = _marked(shown, list(_matched_spans(matcher, shown)))
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


def _is_word_character(text: str, at: int) -> bool:
    return 0 <= at < len(text) and (text[at].isalnum() or unicodedata.combining(text[at]) > 0)


def _occurrences(
    text: str, words: list[str], *, last_as_prefix: bool
) -> list[tuple[int, int]] | None:
    """Where these lowercase words stand as whole words in `text` (the last one also as
    the start of a longer word): by `str.find` on the lowercased text, at C speed. None
    when that cannot be told so (text that is not ASCII: lowercasing may move characters,
    and words may be in another normal form)."""
    if not text.isascii():
        return None
    lowered = text.lower()
    spans: set[tuple[int, int]] = set()
    for position, word in enumerate(words):
        grows = last_as_prefix and position == len(words) - 1
        at = lowered.find(word)
        while at != -1:
            end = at + len(word)
            if not _is_word_character(text, at - 1):
                while grows and _is_word_character(text, end):
                    end += 1
                if not _is_word_character(text, end):
                    spans.add((at, end))
            at = lowered.find(word, at + 1)
    return sorted(spans)


def _spans_in(matcher: WordMatcher, text: str) -> list[tuple[int, int]]:
    """Where the excerpt may go: the words that match exactly or as a plain prefix, all
    over the text; failing those (the engine found the text by a typo), the words within
    the typo budget in its first stretch."""
    plain = _occurrences(text, matcher.query_words, last_as_prefix=True)
    if plain is None:
        plain = [found.span() for found in matcher.plain.finditer(text)]
    if plain:
        return plain
    stretch = text[:_FUZZY_SCAN_CHARS]
    # Each distinct word is judged once (cut and lowercased at C speed), then the words
    # that matched are found again.
    if stretch.isascii():
        found = _ASCII_WORD.findall(stretch.lower())  # the same words, faster
    else:
        found = _WORD.findall(unicodedata.normalize("NFC", stretch).lower())
    hits = sorted(matcher.matching(set(found)))
    if not hits:
        return []
    again = _occurrences(stretch, hits, last_as_prefix=False)
    if again is not None:
        return again
    alternatives = "|".join(re.escape(word) for word in sorted(hits, key=len, reverse=True))
    pattern = re.compile(rf"(?<![^\W_])(?:{alternatives})(?![^\W_])", re.IGNORECASE)
    return [found.span() for found in pattern.finditer(stretch)]


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
