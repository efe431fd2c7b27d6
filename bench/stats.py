"""Latency figures: percentiles by the nearest-rank method, in milliseconds."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


def percentile(samples: Sequence[float], fraction: float) -> float:
    ordered = sorted(samples)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def p50_and_max(seconds: Sequence[float]) -> dict[str, float]:
    """A few timed uploads' figures: their median and their slowest, in milliseconds."""
    return {
        "p50_ms": round(percentile(seconds, 0.5) * 1000, 1),
        "max_ms": round(max(seconds) * 1000, 1),
    }


@dataclass(frozen=True)
class Latency:
    count: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    per_second: float

    @classmethod
    def of(cls, seconds: Sequence[float], wall_seconds: float) -> Latency:
        return cls(
            count=len(seconds),
            p50_ms=percentile(seconds, 0.50) * 1000,
            p95_ms=percentile(seconds, 0.95) * 1000,
            p99_ms=percentile(seconds, 0.99) * 1000,
            per_second=len(seconds) / wall_seconds if wall_seconds > 0 else 0.0,
        )

    def as_dict(self) -> dict[str, float]:
        return {
            "count": self.count,
            "p50_ms": round(self.p50_ms, 2),
            "p95_ms": round(self.p95_ms, 2),
            "p99_ms": round(self.p99_ms, 2),
            "per_second": round(self.per_second, 1),
        }
