"""How text becomes words, and how many typos a word may carry, as the contract sets them.

Both sides of the embedded index use these words: documents are indexed already split
(with Tantivy's whitespace tokenizer), so a query word and an indexed word are always
cut and lowercased by the same rule, in any script.
"""

from __future__ import annotations

import re
import unicodedata


def _is_word_character(ch: str) -> bool:
    # Letters and digits; combining marks belong to the letter they modify.
    return unicodedata.category(ch)[0] in "LNM"


_ASCII_WORD = re.compile(r"[a-z0-9]+")


def words(text: str) -> list[str]:
    """`leather_wallet-2.jpg` is leather, wallet, 2, jpg: split at anything that is not a
    letter or digit, after NFC normalisation (a macOS name in NFD matches its NFC twin)."""
    if text.isascii():
        # The same rule, at C speed, for the common case: a rebuild splits every name.
        return _ASCII_WORD.findall(text.lower())
    found: list[str] = []
    current: list[str] = []
    for ch in unicodedata.normalize("NFC", text):
        if _is_word_character(ch):
            current.append(ch)
        elif current:
            found.append("".join(current))
            current = []
    if current:
        found.append("".join(current))
    # A mark with no letter before it modifies nothing: drop it, keep the letters after.
    stripped = (_without_leading_marks(word) for word in found)
    return [word.lower() for word in stripped if word]


def _without_leading_marks(word: str) -> str:
    start = 0
    while start < len(word) and unicodedata.category(word[start])[0] == "M":
        start += 1
    return word[start:]


def analysed(text: str) -> str:
    """The words of `text`, lowercased and joined by spaces, ready for a whitespace tokenizer."""
    return " ".join(words(text))


def typo_budget(word: str) -> int:
    """Up to 1 typo from 5 letters, 2 from 9."""
    if len(word) >= 9:
        return 2
    if len(word) >= 5:
        return 1
    return 0
