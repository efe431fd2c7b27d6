"""The text of a CSV file, decoded by the same decision the upload check makes."""

from __future__ import annotations

from pathlib import Path

from service.extraction.result import Unreadable
from service.extraction.text import TextBudget
from service.text_encoding import NotText, decoded_chunks, text_encoding

# A line longer than this is handed over in parts, so one line cannot fill memory.
LONGEST_LINE = 1024 * 1024


def extract(path: Path, budget: TextBudget) -> None:
    try:
        encoding = text_encoding(path)
    except NotText as exc:
        raise Unreadable(f"The CSV file is not text: {exc}.") from exc
    pending = ""
    for text in decoded_chunks(path, encoding):
        # Whole lines go to the budget, so no run of spaces is split between two pieces.
        lines, _, pending = (pending + text).rpartition("\n")
        budget.add(lines)
        if len(pending) > LONGEST_LINE:
            budget.add(pending, separator=" ")
            pending = ""
        if budget.full:
            return
    budget.add(pending)
