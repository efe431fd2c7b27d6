"""The progress of a long command (`reindex`, `extract`, `previews`) on stderr: rich's bar
on a terminal, plain lines anywhere else (a pipe, a log file, CI), where a redrawn bar
would leave carriage returns and escape codes."""

from __future__ import annotations

import sys
from types import TracebackType
from typing import TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

# Without a terminal: a line at each tenth of the way, so a log of a million-asset
# rebuild holds a dozen lines, not a million.
PLAIN_STEPS = 10


class ProgressBar:
    """`with ProgressBar("reindex", total) as bar: bar.advance(n)`; the bar, or the plain
    lines, end when the block does."""

    def __init__(self, label: str, total: int, *, stream: TextIO | None = None) -> None:
        self.label = label
        self.total = total
        self.done = 0
        self._stream = stream if stream is not None else sys.stderr
        self._terminal = self._stream.isatty()
        self._progress: Progress | None = None
        self._next_step = 1

    def __enter__(self) -> ProgressBar:
        if self._terminal:
            self._progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TaskProgressColumn(),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                console=Console(file=self._stream),
            )
            self._progress.start()
            self._task = self._progress.add_task(self.label, total=self.total)
        elif self.total:
            self._line()
        return self

    def advance(self, count: int = 1) -> None:
        self.done += count
        if self._progress is not None:
            self._progress.update(self._task, completed=self.done)
            return
        reached = PLAIN_STEPS * min(self.done, self.total) // max(self.total, 1)
        if reached >= self._next_step and self.done < self.total:
            self._next_step = reached + 1
            self._line()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._progress is not None:
            self._progress.stop()
        else:
            self._line()  # where it ended, also when it failed half way

    def _line(self) -> None:
        share = 100 * min(self.done, self.total) // max(self.total, 1) if self.total else 100
        print(f"{self.label}: {self.done}/{self.total} ({share}%)", file=self._stream, flush=True)
