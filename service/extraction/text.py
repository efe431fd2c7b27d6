"""Gathering extracted text within a character budget, with whitespace tidied on the way in.

Extractors hand over text piece by piece (a page, a paragraph, a row) and stop once the
budget says it is full, so a huge or hostile file never becomes a huge string here.
"""

from __future__ import annotations

import re

from service.extraction.result import Extraction

# C0 controls and DEL carry no words; PDFs and spreadsheets hold a few of them.
_CONTROLS = re.compile("[\x00-\x08\x0e-\x1f\x7f]")
_HORIZONTAL_SPACE = re.compile(r"[^\S\n]+")
_SPACE_AT_LINE_EDGE = re.compile(r" ?\n ?")
_BLANK_LINES = re.compile(r"\n{3,}")


def tidy(text: str) -> str:
    """Runs of spaces become one, line breaks stay, at most one blank line in a row."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROLS.sub(" ", text)
    text = _HORIZONTAL_SPACE.sub(" ", text)
    text = _SPACE_AT_LINE_EDGE.sub("\n", text)
    return _BLANK_LINES.sub("\n\n", text).strip()


class TextBudget:
    """Collects tidied pieces of text until it holds more than `max_chars` characters."""

    def __init__(self, max_chars: int) -> None:
        self.max_chars = max_chars
        self._pieces: list[str] = []
        self._length = 0

    @property
    def full(self) -> bool:
        """More than `max_chars` characters are held: the extractor can stop reading."""
        return self._length > self.max_chars

    def add(self, text: str, *, separator: str = "\n") -> None:
        """Append `text` after `separator` (nothing before the first piece)."""
        if self.full:
            return
        piece = tidy(text)
        if not piece:
            return
        if self._pieces:
            piece = separator + piece
        # Keep one character past the budget: it is how `truncated` is known.
        piece = piece[: self.max_chars + 1 - self._length]
        self._pieces.append(piece)
        self._length += len(piece)

    def result(self) -> Extraction:
        text = "".join(self._pieces)
        if not text.strip():
            return Extraction(status="empty", text="", truncated=False, error=None)
        return Extraction(
            status="extracted",
            text=text[: self.max_chars],
            truncated=len(text) > self.max_chars,
            error=None,
        )
