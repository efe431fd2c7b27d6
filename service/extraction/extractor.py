"""The parent's side: a long-lived child process that extracts text and renders previews,
one file at a time.

The child runs the extractors and renderers under a memory limit it sets on itself; the
parent holds the wall-clock limit. A child that overruns the time is killed with its
process group, a child that dies is reaped and explained, and either way the next file
gets a fresh child: a hostile file costs one failed result, never the caller's process.
"""

from __future__ import annotations

import contextlib
import math
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from service.extraction.kinds import has_extractor, has_preview
from service.extraction.protocol import (
    ChildGone,
    TimedOut,
    encode,
    parse_answer,
    parse_render_answer,
    read_frame,
    render_request,
    request,
)
from service.extraction.rendition import RENDERING_ACTIVITY, Rendition
from service.extraction.result import Extraction
from service.extraction.written import write_previews

# Where `service` is importable from, whichever checkout or install this module is in.
IMPORT_ROOT = Path(__file__).resolve().parents[2]
# Starting a child loads PDFium, lxml and openpyxl: seconds on a loaded machine, and not
# the file's fault, so it has its own allowance outside the per-file limit.
STARTUP_SECONDS = 30.0
EXIT_GRACE_SECONDS = 2.0
CHILD_VARIABLES = frozenset({"PATH", "HOME", "LANG", "TMPDIR", "TZ"})
# numpy (openpyxl imports it when installed; the perceptual hash needs it) would start an
# OpenBLAS thread per core, each with a buffer the memory limit counts, for linear
# algebra the child never does. One thread also keeps a killed child a single process,
# so it is reaped as soon as it is seen dead.
CHILD_SETTINGS = {"OPENBLAS_NUM_THREADS": "1"}
MB = 1024 * 1024


@dataclass(frozen=True)
class _Work:
    """What the child is asked to do, as failure sentences name it."""

    activity: str  # "Extraction took longer than …"
    process: str  # "The extraction process crashed …"


EXTRACTION = _Work("Extraction", "extraction")
RENDERING = _Work(RENDERING_ACTIVITY, "preview")


def _seconds(value: float) -> str:
    return f"{value:g}"


class StartFailed(Exception):
    """The child process did not come up; the message says how, as a phrase."""


def _cause(code: int) -> str:
    """An exit code as words: negative codes are the signal that ended the process."""
    if code >= 0:
        return f"exit code {code}"
    try:
        return f"signal {signal.Signals(-code).name}"
    except ValueError:
        return f"signal {-code}"


def _child_environment() -> dict[str, str]:
    """What the child needs to run Python, and none of the service's settings or secrets:
    it reads hostile files, so a flaw in a parser should find as little as possible."""
    env = {
        name: value
        for name, value in os.environ.items()
        if name in CHILD_VARIABLES or name.startswith(("LC_", "PYTHON"))
    }
    env.update(CHILD_SETTINGS)
    env["PYTHONPATH"] = os.pathsep.join(
        part for part in (str(IMPORT_ROOT), env.get("PYTHONPATH")) if part
    )
    return env


class _Child:
    """One running child process and its pipes."""

    def __init__(self, *, memory_bytes: int, cpu_seconds: int, startup_s: float) -> None:
        env = _child_environment()
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "service.extraction.child", str(memory_bytes), str(cpu_seconds)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            cwd=IMPORT_ROOT,
            env=env,
            # Its own process group, so a kill reaches anything it started too.
            start_new_session=True,
        )
        assert self.process.stdin is not None and self.process.stdout is not None
        self.requests = self.process.stdin
        self.answers = self.process.stdout.fileno()
        self.max_rss_bytes = 0
        try:
            read_frame(self.answers, time.monotonic() + startup_s)  # "ready"
        except TimedOut as exc:
            self.kill()
            raise StartFailed(f"it was not ready within {_seconds(startup_s)} s") from exc
        except ChildGone as exc:
            code = self.let_end()
            raise StartFailed(
                f"it stopped with {_cause(code)}; the memory limit of "
                f"{memory_bytes // MB:,} MB may be too small for its libraries"
            ) from exc

    def ask(self, request: dict[str, object], timeout_s: float) -> dict[str, object]:
        try:
            self.requests.write(encode(request))
            self.requests.flush()
        except BrokenPipeError as exc:
            raise ChildGone("the child no longer reads requests") from exc
        return read_frame(self.answers, time.monotonic() + timeout_s)

    def kill(self) -> int:
        """End the child and its process group now; its exit code, as `reap` gives it."""
        if self.process.returncode is None:
            # A child that already died is a zombie until reaped: the group still
            # exists, the signal changes nothing, and its own exit status is kept.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
        return self.reap()

    def let_end(self) -> int:
        """The exit code of a child that closed its output: it is on its way out.

        It gets a moment to finish by itself (Python closes its pipes before it exits),
        so its own exit status is the one read, not the kill's.
        """
        deadline = time.monotonic() + EXIT_GRACE_SECONDS
        while self.process.returncode is None and time.monotonic() < deadline:
            if not self._wait(os.WNOHANG):
                time.sleep(0.01)
        return self.kill()

    def _wait(self, options: int) -> bool:
        """Reap the child if it has ended (or wait for it, without WNOHANG)."""
        # wait4 rather than Popen.wait: its resource usage says how big the child grew.
        pid, status, usage = os.wait4(self.process.pid, options)
        if pid == 0:
            return False
        self.process.returncode = os.waitstatus_to_exitcode(status)
        self.max_rss_bytes = usage.ru_maxrss * 1024
        return True

    def reap(self) -> int:
        """Wait for the child to end; its exit code (negative: the signal that ended it)."""
        if self.process.returncode is None:
            self._wait(0)
        for pipe in (self.process.stdin, self.process.stdout):
            # The unread request in a dead child's pipe cannot be flushed: no matter.
            if pipe is not None:
                with contextlib.suppress(OSError):
                    pipe.close()
        return self.process.returncode

    def close(self) -> None:
        """Ask the child to leave (end of its input), and make sure it has."""
        try:
            self.requests.close()
            self.process.wait(timeout=2)
        except (OSError, subprocess.TimeoutExpired):
            pass
        self.kill()


class Extractor:
    """A long-lived, isolated child process that extracts text and renders previews, one
    file at a time.

    Safe to share between threads: calls are serialised by a lock, since the child
    reads one file at a time. Each call waits at most `timeout_s` for its file (plus
    the start of a fresh child when one is needed). Keep at most `max_chars` characters
    per file; the child may use `memory_bytes` of address space.
    """

    def __init__(self, *, timeout_s: float, memory_bytes: int, max_chars: int) -> None:
        self.timeout_s = timeout_s
        self.memory_bytes = memory_bytes
        self.max_chars = max_chars
        self._lock = threading.Lock()
        self._child: _Child | None = None

    def extract(self, path: Path, file_type: str) -> Extraction:
        """The text of the file at `path`; a bad file ends as `failed`, never as an exception."""
        file_type = file_type.lower()
        if not has_extractor(file_type):
            return Extraction.unsupported()
        asked = request(path.absolute(), file_type=file_type, max_chars=self.max_chars)
        answer = self._ask(asked, EXTRACTION)
        return Extraction.failed(answer) if isinstance(answer, str) else parse_answer(answer)

    def render(self, path: Path, file_type: str, *, small: Path, large: Path) -> Rendition:
        """Write the WebP previews of the file at `path`, fitting 320x320 (`small`) and
        1280x1280 (`large`), and read its image facts on the way.

        Raster images are never enlarged; SVGs and PDFs' first pages are drawn at the size
        that fits. Both files are written whole (under another name, then renamed) and only
        when `ready`: otherwise neither exists afterwards, whatever was there before. A bad
        file ends as `failed`, never as an exception.
        """
        file_type = file_type.lower()
        rendition, previews = Rendition.none(), None
        if has_preview(file_type):
            answer = self._ask(render_request(path.absolute(), file_type=file_type), RENDERING)
            if isinstance(answer, str):
                rendition = Rendition.failed(answer)
            else:
                rendition, previews = parse_render_answer(answer)
        return write_previews(rendition, previews, small=small, large=large)

    def _ask(self, asked: dict[str, object], work: _Work) -> dict[str, object] | str:
        """The child's answer to `asked`, or why there is none, as a sentence."""
        with self._lock:
            try:
                child = self._running_child()
            except (StartFailed, OSError) as exc:
                return f"The {work.process} process could not start: {exc}."
            try:
                answer = child.ask(asked, self.timeout_s)
            except TimedOut:
                self._drop_child()
                return f"{work.activity} took longer than {_seconds(self.timeout_s)} s, the limit."
            except (ChildGone, OSError):
                return self._death_sentence(work)
            if answer.get("leaving") is True:
                self._drop_child()
            return answer

    @property
    def child_pid(self) -> int | None:
        """The running child's process id, if one runs: for operators' tools and tests."""
        child = self._child
        return None if child is None else child.process.pid

    def close(self) -> None:
        """Stop the child process; a later `extract` or `render` would start a new one."""
        with self._lock:
            if self._child is not None:
                self._child.close()
                self._child = None

    def __enter__(self) -> Extractor:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _running_child(self) -> _Child:
        if self._child is not None and self._child.process.poll() is not None:
            # It died between files (the system's OOM killer, say): not this file's doing.
            self._drop_child()
        if self._child is None:
            child_startup = max(STARTUP_SECONDS, self.timeout_s)
            cpu_seconds = math.ceil(self.timeout_s) + 5
            self._child = _Child(
                memory_bytes=self.memory_bytes, cpu_seconds=cpu_seconds, startup_s=child_startup
            )
        return self._child

    def _drop_child(self) -> int:
        assert self._child is not None
        child, self._child = self._child, None
        return child.kill()

    def _death_sentence(self, work: _Work) -> str:
        """Why the child died on this file, as far as its exit status and size can tell."""
        assert self._child is not None
        child, self._child = self._child, None
        code = child.let_end()
        limit = f"the memory limit of {self.memory_bytes // MB:,} MB"
        # The child's own limit makes allocations fail (C libraries then abort or crash);
        # only the system, or an operator, sends SIGKILL.
        if code == -signal.SIGKILL:
            return (
                f"The {work.process} process was killed by the system, "
                "most likely for using too much memory."
            )
        if code == -signal.SIGXCPU:
            return f"{work.activity} used more processor time than its limit."
        # A crash after growing to half the limit was, as far as can be told, an allocation
        # that the limit refused.
        if child.max_rss_bytes >= self.memory_bytes // 2:
            return f"{work.activity} needed more than {limit}: the process ran out of memory."
        return (
            f"The {work.process} process crashed on this file ({_cause(code)}): "
            f"the file may be damaged, or need more than {limit}."
        )
