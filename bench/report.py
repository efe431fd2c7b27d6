"""The results: a table per section, each target judged, BENCHMARKS.md tables, one JSON line."""

from __future__ import annotations

import json
import os
import platform
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SPEEDUP_TARGET = 50.0


@dataclass(frozen=True)
class Target:
    name: str
    goal: str
    measured: str
    met: bool

    def as_dict(self) -> dict[str, Any]:
        return {"target": self.name, "goal": self.goal, "measured": self.measured, "met": self.met}


def judge(results: dict[str, Any]) -> list[Target]:
    targets: list[Target] = []
    queries = results["queries"]
    plain = [q for q in queries if not q["facets"]]
    faceted = [q for q in queries if q["facets"]]
    for name, chosen, percentile, limit_ms in (
        ("p50 without facets", plain, "p50_ms", 10),
        ("p50 with facets", faceted, "p50_ms", 25),
        ("p99, every query", queries, "p99_ms", 100),
    ):
        if chosen:
            worst = max(chosen, key=lambda q: q["http"][percentile])
            measured = worst["http"][percentile]
            targets.append(
                Target(
                    name,
                    f"<= {limit_ms} ms",
                    f"{measured:.1f} ms (slowest: {worst['name']})",
                    measured <= limit_ms,
                )
            )
    for claim, label in (
        ("tagged", "tag-filtered queries"),
        ("text", "full-text queries with totals"),
        ("facets", "facet counts"),
    ):
        measured = [q for q in queries if q[claim] and q.get("speedup") is not None]
        if measured:
            worst = min(measured, key=lambda q: q["speedup"])
            targets.append(
                Target(
                    f"speed-up over the SQL way, {label}",
                    f">= {SPEEDUP_TARGET:.0f}x",
                    f"{worst['speedup']:.0f}x at the least ({worst['name']})",
                    worst["speedup"] >= SPEEDUP_TARGET,
                )
            )
    for reindexed in results["reindex"]:
        if reindexed["engine"] == "embedded":
            rate = reindexed["assets_per_second"]
            targets.append(
                Target(
                    "full reindex, embedded",
                    ">= 20,000 assets/s",
                    f"{rate:,} assets/s",
                    rate >= 20_000,
                )
            )
    if results.get("commit_to_searchable"):
        p99 = results["commit_to_searchable"]["latency"]["p99_ms"]
        rate = results["commit_to_searchable"]["writes_per_second"]
        targets.append(
            Target(
                f"commit-to-searchable p99 at {rate:g} writes/s",
                "<= 1000 ms",
                f"{p99:.0f} ms",
                p99 <= 1000,
            )
        )
    if results.get("upload"):
        growth = results["upload"]["peak_memory_growth_mib"]
        targets.append(
            Target(
                "peak memory growth, 100 MB upload",
                "< 50 MB",
                f"{growth:.1f} MiB",
                growth * 1.048576 < 50,
            )
        )
    return targets


def machine() -> dict[str, Any]:
    model = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    memory_gib = 0.0
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        first = meminfo.read_text().splitlines()[0].split()
        memory_gib = int(first[1]) / (1024 * 1024)
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "memory_gib": round(memory_gib, 1),
        "python": platform.python_version(),
        "system": platform.platform(),
    }


def print_tables(results: dict[str, Any], targets: list[Target]) -> None:
    print()
    print(markdown_tables(results, targets))


def markdown_tables(results: dict[str, Any], targets: list[Target]) -> str:
    lines = [
        f"Library: {results['assets']:,} assets on {results['database']}, "
        f"`serve --workers {results['workers']}` measured as "
        f"{results['shape']['api_processes']} API and "
        f"{results['shape']['indexer_processes']} indexer processes, "
        f"{results['clients']} concurrent HTTP clients, {results['requests']} requests "
        f"a query, {results['page']} results a page, SQL way {results['sql_runs']} runs a query.",
        "",
        "| query | p50 ms | p95 ms | p99 ms | req/s | SQL way p50 ms | speed-up | total |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for query in results["queries"]:
        http = query["http"]
        sql = query.get("sql")
        sql_p50 = f"{sql['p50_ms']:.0f}" if sql else "n/a"
        speedup = f"{query['speedup']:.0f}x" if query.get("speedup") is not None else "n/a"
        lines.append(
            f"| {query['name']} | {http['p50_ms']:.1f} | {http['p95_ms']:.1f} | "
            f"{http['p99_ms']:.1f} | {http['per_second']:.0f} | {sql_p50} | {speedup} | "
            f"{query['total']:,} |"
        )
    lines += ["", "| ingest | figure |", "|---|---|"]
    for reindexed in results["reindex"]:
        lines.append(
            f"| full reindex, {reindexed['engine']} | {reindexed['assets_per_second']:,} "
            f"assets/s ({reindexed['seconds']:.1f} s; `check` after it "
            f"{reindexed['check_seconds']:.1f} s) |"
        )
    committed = results.get("commit_to_searchable")
    if committed:
        latency = committed["latency"]
        lines.append(
            f"| commit-to-searchable at {committed['writes_per_second']:g} writes/s | "
            f"p50 {latency['p50_ms']:.0f} ms, p99 {latency['p99_ms']:.0f} ms "
            f"({latency['count']} writes, {committed['pending']} answered pending) |"
        )
    upload = results.get("upload")
    if upload:
        lines.append(
            f"| {upload['megabytes']:.0f} MB upload | {upload['megabytes_per_second']:.0f} MB/s, "
            f"peak memory +{upload['peak_memory_growth_mib']:.1f} MiB "
            f"({upload['peak_measured_by']}) |"
        )
    lines += ["", "| target | goal | measured | met |", "|---|---|---|---|"]
    for target in targets:
        lines.append(
            f"| {target.name} | {target.goal} | {target.measured} | "
            f"{'yes' if target.met else '**no**'} |"
        )
    return "\n".join(lines)


def summary_line(results: dict[str, Any], targets: list[Target]) -> str:
    return json.dumps({**results, "targets": [t.as_dict() for t in targets]}, sort_keys=True)
