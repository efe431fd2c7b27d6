"""The text inside the synthetic documents: sentences of Zipf-ranked workshop words.

Word frequencies follow Zipf's law over `vocabulary.content_words()`: the word of rank r
is drawn with weight 1/r^1.2, which leaves about a sixth of the text to the made-up tail,
so a trade word is found in many documents and a word of the tail in a few, as in a real
library. Sentences are drawn once into a pool, then each document is a run of sentences
drawn from the pool: a word's share of all the text is what Zipf gives, at a fraction of
the cost of drawing a million documents word by word (documents share sentences, as a
library's boilerplate does). Seeded: the same library size and share give the same text.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from itertools import accumulate

from bench.vocabulary import FUNCTION_WORDS, NAME_WORDS, TAIL_SIZE, TRADE_WORDS, content_words
from indexer.text import words
from service.extraction import has_extractor
from store.content import EMPTY, EXTRACTED, UNSUPPORTED

# Words a document holds, drawn log-uniformly between these bounds: manuals run long,
# price sheets and order lists shorter.
WORDS_PER_DOCUMENT = {
    ".pdf": (300, 4000),
    ".docx": (200, 3000),
    ".xlsx": (200, 2000),
    ".csv": (200, 2000),
}
TEXT_TYPES = frozenset(WORDS_PER_DOCUMENT)
ZIPF_EXPONENT = 1.2
SENTENCE_WORDS = (6, 18)
SENTENCES_PER_PARAGRAPH = (3, 8)
# Sentences in the pool: about a quarter of the sentences the documents will draw,
# within these bounds (400,000 sentences are about 5 million words).
POOL_BOUNDS = (2_000, 400_000)
RARE_WORDS_KEPT = 200


def content_status(file_type: str, *, has_text: bool) -> str:
    """What extraction would have said of a file of this type: its text, no text in an
    extractable file (a scan, a blank sheet, a drawing without words), or no extractor."""
    if has_text:
        return EXTRACTED
    return EMPTY if has_extractor(file_type) else UNSUPPORTED


def common_words() -> list[str]:
    """Trade words found only inside files, among the 150 most frequent trade words: each
    is in a good share of the documents."""
    ranked = [word for word in content_words() if word not in FUNCTION_WORDS]
    return [word for word in ranked[:150] if word in _CONTENT_ONLY_TRADE]


def middle_words() -> list[str]:
    """Every trade word found only inside files, whatever its rank."""
    return [word for word in content_words() if word in _CONTENT_ONLY_TRADE]


_CONTENT_ONLY_TRADE = frozenset(TRADE_WORDS) - NAME_WORDS - frozenset(FUNCTION_WORDS)


def _number(rng: random.Random) -> str:
    if rng.random() < 0.5:
        return f"{rng.randint(1, 60)}mm"
    return f"{rng.randint(2, 400)}.{rng.randint(0, 99):02d}"


@dataclass
class TextMaker:
    """Document text from a pool of sentences drawn once."""

    rng: random.Random
    pool: list[str]
    pool_words: list[int]
    used: bytearray  # which sentences of the pool some document holds

    @classmethod
    def for_library(cls, rng: random.Random, *, documents: int) -> TextMaker:
        """A pool sized for `documents` documents of text."""
        vocabulary = content_words()
        cumulative = list(
            accumulate(rank**-ZIPF_EXPONENT for rank in range(1, len(vocabulary) + 1))
        )
        mean_words = sum(
            (high - low) / math.log(high / low) for low, high in WORDS_PER_DOCUMENT.values()
        ) / len(WORDS_PER_DOCUMENT)
        mean_sentence = sum(SENTENCE_WORDS) / 2
        wanted = int(documents * mean_words / mean_sentence / 4)
        size = min(max(wanted, POOL_BOUNDS[0]), POOL_BOUNDS[1])
        pool: list[str] = []
        counts: list[int] = []
        for _ in range(size):
            drawn = rng.choices(vocabulary, cum_weights=cumulative, k=rng.randint(*SENTENCE_WORDS))
            if rng.random() < 0.25:  # a measure or a price, as workshop documents have
                drawn.insert(rng.randrange(len(drawn) + 1), _number(rng))
            sentence = " ".join(drawn)
            pool.append(sentence[0].upper() + sentence[1:] + ".")
            counts.append(len(words(sentence)))
        return cls(rng=rng, pool=pool, pool_words=counts, used=bytearray(size))

    def document(self, file_type: str) -> tuple[str, int]:
        """The text of one document of `file_type` and its number of words."""
        low, high = WORDS_PER_DOCUMENT[file_type]
        target = round(math.exp(self.rng.uniform(math.log(low), math.log(high))))
        rng, pool, counts, used = self.rng, self.pool, self.pool_words, self.used
        paragraphs: list[str] = []
        total = 0
        while total < target:
            sentences = rng.randint(*SENTENCES_PER_PARAGRAPH)
            picked = [rng.randrange(len(pool)) for _ in range(sentences)]
            for index in picked:
                used[index] = 1
            paragraphs.append(" ".join(pool[index] for index in picked))
            total += sum(counts[index] for index in picked)
        return "\n\n".join(paragraphs), total

    def rare_words(self, limit: int = RARE_WORDS_KEPT) -> list[str]:
        """Up to `limit` words of the tail that some document holds, rarest first: the
        words a search for something rare would use."""
        held: set[str] = set()
        for index, sentence in enumerate(self.pool):
            if self.used[index]:
                held.update(words(sentence))
        tail = content_words()[-TAIL_SIZE:]
        return [word for word in reversed(tail) if word in held][:limit]
