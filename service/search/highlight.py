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
from collections.abc import Collection
from dataclasses import dataclass, field
from functools import cached_property

from rapidfuzz import process
from rapidfuzz.distance import OSA

from indexer.query import SearchField, SearchQuery
from indexer.text import typo_budget, words

EXCERPT_CHARS = 240
ELLIPSIS = "…"
# Letters, digits and combining marks: the contract's word characters.
_WORD = re.compile(r"[^\W_]+(?:[\u0300-\u036f]+[^\W_]*)*")
# A text with no exact or plain-prefix match is scanned this far for a typo: the cost of
# a highlight stays bounded whatever the file.
_FUZZY_SCAN_CHARS = 20_000


def _within(query_word: str, budget: int, candidates: Collection[str]) -> set[str]:
    """The candidates within `budget` edits of `query_word`, adjacent transpositions
    counting one (optimal string alignment, as Tantivy's fuzzy queries count): one call
    of rapidfuzz's C++ loop for the lot."""
    found = process.extract(
        query_word, list(candidates), scorer=OSA.distance, score_cutoff=budget, limit=None
    )
    return {choice for choice, _, _ in found}


@dataclass
class WordMatcher:
    """Which text words match a query's words (each word judged once per matcher)."""

    query_words: list[str]
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

    def matching(self, folded_words: set[str]) -> set[str]:
        """Those of these words (NFC, lowercased) that match: set operations for the words
        judged before, the rule for the new ones all at once."""
        new = folded_words - self._accepted - self._rejected
        if new:
            hits = self._decide(new)
            self._accepted |= hits
            self._rejected |= new - hits
        return folded_words & self._accepted

    def typo_matching(self, folded_words: set[str]) -> set[str]:
        """Those of these words within a query word's typo budget as whole words: some of
        what `matching` finds, at a fraction of its cost."""
        hits: set[str] = set()
        for query_word in self.query_words:
            budget = typo_budget(query_word)
            if budget:
                hits |= _within(query_word, budget, folded_words)
        return hits

    def _decide(self, new: set[str]) -> set[str]:
        hits: set[str] = set()
        last = len(self.query_words) - 1
        for position, query_word in enumerate(self.query_words):
            prefix = position == last
            hits |= {word for word in new if word == query_word}
            if prefix:
                hits |= {word for word in new if word.startswith(query_word)}
            budget = typo_budget(query_word)
            open_words = new - hits
            if not budget or not open_words:
                continue
            hits |= _within(query_word, budget, open_words)
            if prefix:
                hits |= self._prefix_hits(query_word, budget, new - hits)
        return hits

    @staticmethod
    def _prefix_hits(query_word: str, budget: int, candidates: set[str]) -> set[str]:
        """Words one of whose prefixes is within the budget (search-as-you-type)."""
        hits: set[str] = set()
        shortest = max(1, len(query_word) - budget)
        for length in range(shortest, len(query_word) + budget + 1):
            heads: dict[str, list[str]] = {}
            for word in candidates:
                if len(word) > length:  # a prefix shorter than the word itself
                    heads.setdefault(word[:length], []).append(word)
            for head in _within(query_word, budget, heads):
                hits.update(heads[head])
        return hits


def _marked(text: str, spans: list[tuple[int, int]]) -> str:
    out: list[str] = []
    at = 0
    for start, end in spans:
        out.append(html.escape(text[at:start]))
        out.append(f"<mark>{html.escape(text[start:end])}</mark>")
        at = end
    out.append(html.escape(text[at:]))
    return "".join(out)


def _matched_spans(matcher: WordMatcher, text: str) -> list[tuple[int, int]]:
    """Where the matched words of a short text are (a name, a tag, an excerpt): its
    words judged together, in one call of the matcher."""
    found = [
        (unicodedata.normalize("NFC", word.group()).lower(), word.span())
        for word in _WORD.finditer(text)
    ]
    hits = matcher.matching({folded for folded, _ in found})
    return [span for folded, span in found if folded in hits]


def mark(matcher: WordMatcher, text: str) -> str | None:
    """`text` escaped with its matched words marked; None when none matched."""
    spans = _matched_spans(matcher, text)
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
    body = _marked(shown, _matched_spans(matcher, shown))
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
    """For ASCII text (the only text `_occurrences` reads): a letter or digit."""
    return 0 <= at < len(text) and text[at].isalnum()


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
    distinct = set(words(stretch))  # the index's own word rule, NFC and lowercased
    # Whole words with a typo first (one C++ pass each): only when there are none, the
    # costlier look at every word's prefixes.
    hits = sorted(matcher.typo_matching(distinct) or matcher.matching(distinct))
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
