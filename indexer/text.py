"""How text becomes words, and how many typos a word may carry, as the contract sets them."""

from __future__ import annotations

import re

# A word is a run of letters or digits: `leather_wallet-2.jpg` is leather, wallet, 2, jpg.
_WORD = re.compile(r"[^\W_]+")


def words(text: str) -> list[str]:
    return [word.lower() for word in _WORD.findall(text)]


def typo_budget(word: str) -> int:
    """Up to 1 typo from 5 letters, 2 from 9."""
    if len(word) >= 9:
        return 2
    if len(word) >= 5:
        return 1
    return 0
