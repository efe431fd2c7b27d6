"""What an extraction ends as: the one result shape both processes speak about."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Status = Literal["extracted", "empty", "unsupported", "failed"]
# Each status by its name, to read one back from JSON with its type.
STATUSES: dict[str, Status] = {
    "extracted": "extracted",
    "empty": "empty",
    "unsupported": "unsupported",
    "failed": "failed",
}


@dataclass(frozen=True)
class Extraction:
    """The text of one file, or why there is none.

    `truncated` says more than the caller's `max_chars` characters were found; `text`
    then holds the first `max_chars`. `error` is a sentence for people, set only when
    the status is `failed` (encrypted, damaged, over the time or memory limit).
    """

    status: Status
    text: str
    truncated: bool
    error: str | None

    @classmethod
    def failed(cls, error: str) -> Extraction:
        return cls(status="failed", text="", truncated=False, error=error)

    @classmethod
    def unsupported(cls) -> Extraction:
        return cls(status="unsupported", text="", truncated=False, error=None)


class Unreadable(Exception):
    """An extractor's way to say why a file has no text: the message is the sentence shown."""
