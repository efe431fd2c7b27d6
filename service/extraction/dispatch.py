"""Inside the child process: the extractor for each file type, and failures as sentences."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path

from service.extraction import csv, docx, pdf, svg, xlsx
from service.extraction.kinds import EXTRACTABLE_TYPES
from service.extraction.result import Extraction, Unreadable
from service.extraction.text import TextBudget

Extract = Callable[[Path, TextBudget], None]
MB = 1024 * 1024
LONGEST_DETAIL = 200
OUT_OF_MEMORY_PHRASES = ("out of memory", "memory allocation failed", "cannot allocate memory")


def extractors(*, inflate_limit: int) -> dict[str, Extract]:
    """Each extractable type's extractor; Office files may inflate up to `inflate_limit` bytes."""
    chosen: dict[str, Extract] = {
        ".pdf": pdf.extract,
        ".docx": partial(docx.extract, inflate_limit=inflate_limit),
        ".xlsx": partial(xlsx.extract, inflate_limit=inflate_limit),
        ".csv": csv.extract,
        ".svg": svg.extract,
    }
    assert set(chosen) == EXTRACTABLE_TYPES, "kinds.EXTRACTABLE_TYPES names every extractor"
    return chosen


def memory_sentence(memory_bytes: int, *, activity: str = "Extraction") -> str:
    return f"{activity} needed more than the memory limit of {memory_bytes // MB:,} MB."


def extract_file(
    extract: Extract | None, path: Path, *, file_type: str, max_chars: int, memory_bytes: int
) -> Extraction:
    """The text of one file; every way a file can be bad ends as `failed` with a sentence.

    A MemoryError propagates: the caller answers, then leaves, since a process that ran
    out of memory halfway through a C library is not one to trust with the next file.
    """
    if extract is None:
        return Extraction.unsupported()
    budget = TextBudget(max_chars)
    kind = file_type.lstrip(".").upper()
    try:
        extract(path, budget)
    except Unreadable as exc:
        return Extraction.failed(str(exc))
    except FileNotFoundError:
        return Extraction.failed("The file is missing from storage.")
    except MemoryError:
        raise
    except Exception as exc:  # any library error on a bad file is a failed file, not a crash
        detail = f"{exc.__class__.__name__}: {exc}"[:LONGEST_DETAIL]
        # C parsers (expat, libxml2) report a failed allocation as a parse error.
        if any(phrase in detail.lower() for phrase in OUT_OF_MEMORY_PHRASES):
            return Extraction.failed(memory_sentence(memory_bytes))
        return Extraction.failed(
            f"The {kind} file could not be read; it may be damaged ({detail})."
        )
    return budget.result()
