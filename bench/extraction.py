"""Derived-data throughput per file type, on real files, through the service's child
process: text extraction (`bench.files.samples`) and preview rendering
(`bench.files.preview_samples`).

Every file goes through `service.extraction.Extractor` with the service's limits: the
isolated child process the derived-data worker uses, one file at a time, each answer
read back through its pipe (and, for previews, both WebP files written to disk).
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.files import Sample, preview_samples, samples
from bench.stats import percentile
from service.config import Settings
from service.extraction import Extractor

MB = 1024 * 1024
MIN_RUNS = 2


@dataclass(frozen=True)
class Throughput:
    sample: Sample
    made: dict[str, Any]  # what the first run made: characters, or the picture's size
    runs: int
    seconds: float
    p50_seconds: float

    def as_dict(self) -> dict[str, Any]:
        size = len(self.sample.data)
        return {
            "file": self.sample.label,
            "type": self.sample.file_type,
            "bytes": size,
            **self.made,
            "runs": self.runs,
            "files_per_second": round(self.runs / self.seconds, 1),
            "megabytes_per_second": round(size * self.runs / self.seconds / 1e6, 2),
            "p50_ms": round(self.p50_seconds * 1000, 2),
        }


# One run on one file: what it made, for the report; it raises if the file failed.
Work = Callable[[Extractor, Path, str], dict[str, Any]]


def _extract(extractor: Extractor, path: Path, file_type: str) -> dict[str, Any]:
    extraction = extractor.extract(path, file_type)
    if extraction.status != "extracted":
        raise RuntimeError(f"{path.name}: {extraction.status} ({extraction.error})")
    return {"characters": len(extraction.text)}


def _render(extractor: Extractor, path: Path, file_type: str) -> dict[str, Any]:
    small, large = path.with_suffix(".small.webp"), path.with_suffix(".large.webp")
    rendition = extractor.render(path, file_type, small=small, large=large)
    if rendition.status != "ready":
        raise RuntimeError(f"{path.name}: {rendition.status} ({rendition.error})")
    return {
        "width": rendition.width,
        "height": rendition.height,
        "preview_bytes": small.stat().st_size + large.stat().st_size,
    }


def _throughput(
    settings: Settings, made: list[Sample], work: Work, *, seconds_per_file: float
) -> list[dict[str, Any]]:
    """Each sample worked on again and again for about `seconds_per_file` (at least
    MIN_RUNS times), after one run that starts the child and checks the result."""
    results: list[Throughput] = []
    extractor = Extractor(
        timeout_s=settings.content_timeout_s,
        memory_bytes=settings.content_memory_mb * MB,
        max_chars=settings.content_max_chars,
    )
    with tempfile.TemporaryDirectory(prefix="bench-derived-") as folder, extractor:
        for number, sample in enumerate(made):
            path = Path(folder) / f"{number}{sample.file_type}"
            path.write_bytes(sample.data)
            first = work(extractor, path, sample.file_type)
            timings: list[float] = []
            began = time.perf_counter()
            while len(timings) < MIN_RUNS or time.perf_counter() - began < seconds_per_file:
                started = time.perf_counter()
                work(extractor, path, sample.file_type)
                timings.append(time.perf_counter() - started)
            results.append(
                Throughput(
                    sample=sample,
                    made=first,
                    runs=len(timings),
                    seconds=sum(timings),
                    p50_seconds=percentile(timings, 0.5),
                )
            )
    return [result.as_dict() for result in results]


def _limits(settings: Settings) -> dict[str, Any]:
    return {
        "timeout_s": settings.content_timeout_s,
        "memory_mb": settings.content_memory_mb,
        "max_chars": settings.content_max_chars,
    }


def measure_extraction(settings: Settings, *, seconds_per_file: float) -> dict[str, Any]:
    """The text of each document sample, extracted for about `seconds_per_file`."""
    files = _throughput(settings, samples(), _extract, seconds_per_file=seconds_per_file)
    return {"limits": _limits(settings), "files": files}


def measure_rendering(settings: Settings, *, seconds_per_file: float) -> dict[str, Any]:
    """Both previews of each picture sample, rendered for about `seconds_per_file`."""
    made = preview_samples()
    files = _throughput(settings, made, _render, seconds_per_file=seconds_per_file)
    return {"limits": _limits(settings), "files": files}
