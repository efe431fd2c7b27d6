"""The extraction child process: limits itself, then extracts text from or renders
previews of one requested file at a time.

Started by `Extractor` as `python -m service.extraction.child MEMORY_BYTES CPU_SECONDS`.
It reads request frames on stdin and writes one answer frame per request on what was
stdout; stdout itself is pointed at stderr, so a library that prints cannot corrupt
the protocol. End of input means the parent is done: the child exits.
"""

from __future__ import annotations

import os
import resource
import sys
import warnings
from typing import TYPE_CHECKING, BinaryIO

from service.extraction.protocol import (
    RENDER,
    answer,
    kind_of,
    parse_render_request,
    parse_request,
    read_frame_blocking,
    render_answer,
    write_frame,
)
from service.extraction.rendition import RENDERING_ACTIVITY, Rendition
from service.extraction.result import Extraction

if TYPE_CHECKING:
    from service.extraction.dispatch import Extract

Reply = tuple[dict[str, object], bool]  # the answer, and whether the child leaves after it


def _limit_memory(memory_bytes: int) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))


def _limit_cpu_for_next_file(cpu_seconds: int) -> None:
    """Processor time is counted over the process's life, so the limit moves per file.

    The parent's wall-clock limit is the one that normally acts; this one ends a child
    whose parent is gone while it spins on a hostile file.
    """
    usage = resource.getrusage(resource.RUSAGE_SELF)
    soft = int(usage.ru_utime + usage.ru_stime) + cpu_seconds
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))


def _extracted(message: dict[str, object], memory_bytes: int, chosen: dict[str, Extract]) -> Reply:
    # Loaded by `_serve` already: this import only names them.
    from service.extraction.dispatch import extract_file, memory_sentence

    path, file_type, max_chars = parse_request(message)
    try:
        result = extract_file(
            chosen.get(file_type),
            path,
            file_type=file_type,
            max_chars=max_chars,
            memory_bytes=memory_bytes,
        )
    except MemoryError:
        # Half-done C libraries may hold memory the error never gave back: answer, leave.
        return answer(Extraction.failed(memory_sentence(memory_bytes)), leaving=True), True
    return answer(result), False


def _rendered(message: dict[str, object], memory_bytes: int) -> Reply:
    path, file_type = parse_render_request(message)
    try:
        # Loaded on the first render, inside the limits (see `rendering`).
        from service.extraction.rendering import render_file

        result, previews = render_file(path, file_type=file_type, memory_bytes=memory_bytes)
    except MemoryError:
        from service.extraction.dispatch import memory_sentence

        failed = Rendition.failed(memory_sentence(memory_bytes, activity=RENDERING_ACTIVITY))
        return render_answer(failed, None, leaving=True), True
    return render_answer(result, previews), False


def _serve(requests: BinaryIO, answers: BinaryIO, memory_bytes: int, cpu_seconds: int) -> None:
    # The extractors' libraries load here, inside the limits, not in the parent.
    from service.extraction.dispatch import extractors

    chosen = extractors(inflate_limit=memory_bytes)
    write_frame(answers, {"ready": True})
    while (message := read_frame_blocking(requests)) is not None:
        _limit_cpu_for_next_file(cpu_seconds)
        if kind_of(message) == RENDER:
            reply, leaving = _rendered(message, memory_bytes)
        else:
            reply, leaving = _extracted(message, memory_bytes, chosen)
        write_frame(answers, reply)
        if leaving:
            return


def main() -> None:
    memory_bytes, cpu_seconds = int(sys.argv[1]), int(sys.argv[2])
    answers = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    warnings.simplefilter("ignore")  # openpyxl and pypdfium2 warn about files, not about us
    _limit_memory(memory_bytes)
    _serve(sys.stdin.buffer, answers, memory_bytes, cpu_seconds)
    # Nothing is left to clean up (every answer is written, every file closed), and
    # tearing the extractors' libraries down costs the parent 0.1-0.2 s of waiting.
    answers.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
