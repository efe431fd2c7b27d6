"""Extraction throughput per file type, on real files, through the service's extractor.

The files of `bench.files`: per type, the test suite's small sample and a larger one as a
workshop keeps it. Every file goes through `service.extraction.Extractor` with the
service's limits: the isolated child process the derived-data worker uses, one file at a
time, each answer read back through its pipe.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.files import Sample, samples
from bench.stats import percentile
from service.config import Settings
from service.extraction import Extractor

MB = 1024 * 1024
MIN_RUNS = 2


@dataclass(frozen=True)
class Throughput:
    sample: Sample
    characters: int
    runs: int
    seconds: float
    p50_seconds: float

    def as_dict(self) -> dict[str, Any]:
        size = len(self.sample.data)
        return {
            "file": self.sample.label,
            "type": self.sample.file_type,
            "bytes": size,
            "characters": self.characters,
            "runs": self.runs,
            "files_per_second": round(self.runs / self.seconds, 1),
            "megabytes_per_second": round(size * self.runs / self.seconds / 1e6, 2),
            "p50_ms": round(self.p50_seconds * 1000, 2),
        }


def measure_extraction(settings: Settings, *, seconds_per_file: float) -> dict[str, Any]:
    """Each sample extracted again and again for about `seconds_per_file` (at least
    MIN_RUNS times), after one extraction that starts the child and checks the text."""
    made = samples()
    results: list[Throughput] = []
    extractor = Extractor(
        timeout_s=settings.content_timeout_s,
        memory_bytes=settings.content_memory_mb * MB,
        max_chars=settings.content_max_chars,
    )
    with tempfile.TemporaryDirectory(prefix="bench-extraction-") as folder, extractor:
        for number, sample in enumerate(made):
            path = Path(folder) / f"{number}{sample.file_type}"
            path.write_bytes(sample.data)
            first = extractor.extract(path, sample.file_type)
            if first.status != "extracted":
                raise RuntimeError(f"{sample.label}: {first.status} ({first.error})")
            timings: list[float] = []
            began = time.perf_counter()
            while len(timings) < MIN_RUNS or time.perf_counter() - began < seconds_per_file:
                started = time.perf_counter()
                extractor.extract(path, sample.file_type)
                timings.append(time.perf_counter() - started)
            results.append(
                Throughput(
                    sample=sample,
                    characters=len(first.text),
                    runs=len(timings),
                    seconds=sum(timings),
                    p50_seconds=percentile(timings, 0.5),
                )
            )
    return {
        "limits": {
            "timeout_s": settings.content_timeout_s,
            "memory_mb": settings.content_memory_mb,
            "max_chars": settings.content_max_chars,
        },
        "files": [result.as_dict() for result in results],
    }
