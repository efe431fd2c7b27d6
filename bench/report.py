"""The results: a table per section, each target judged, BENCHMARKS.md tables, one JSON line."""

from __future__ import annotations

import json
import os
import platform
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.report_bulk import bulk_section
from bench.report_content import text_section, text_share
from bench.report_previews import previews_section

RATIO_TARGET = 2.0
# "Unchanged", within what a few uploads on a shared machine vary by.
UPLOAD_TARGET = 1.25


@dataclass(frozen=True)
class Target:
    name: str
    goal: str
    measured: str
    met: bool | None  # None: not measured in this run

    def as_dict(self) -> dict[str, Any]:
        return {"target": self.name, "goal": self.goal, "measured": self.measured, "met": self.met}


def _run(results: dict[str, Any], engine: str) -> dict[str, Any] | None:
    return next((run for run in results["runs"] if run["engine"] == engine), None)


def _reindex(results: dict[str, Any], engine: str) -> dict[str, Any] | None:
    return next((r for r in results["reindex"] if r["engine"] == engine), None)


def _latency_targets(embedded: dict[str, Any] | None) -> list[Target]:
    targets = []
    for name, facets, limit_ms in (
        ("p50 without facets", False, 10),
        ("p50 with facets", True, 25),
    ):
        goal = f"<= {limit_ms} ms, every query (embedded)"
        chosen = [q for q in embedded["queries"] if q["facets"] == facets] if embedded else []
        if not chosen:
            targets.append(Target(name, goal, "not measured (no embedded run)", None))
            continue
        worst = max(chosen, key=lambda q: q["http"]["p50_ms"])
        measured = worst["http"]["p50_ms"]
        targets.append(
            Target(
                name, goal, f"{measured:.1f} ms (slowest: {worst['name']})", measured <= limit_ms
            )
        )
    return targets


def _ratio_target(
    name: str,
    run: dict[str, Any] | None,
    missing: str,
    chosen: Callable[[dict[str, Any]], bool] = lambda query: True,
) -> Target:
    goal = f"service p50 <= {RATIO_TARGET:g} x Meilisearch's p50, every query"
    queries = [q for q in run["queries"] if chosen(q)] if run else []
    measured = [q for q in queries if q["ratio"] is not None]
    if not measured:
        return Target(name, goal, f"not measured ({missing})", None)
    worst = max(measured, key=lambda q: q["ratio"])
    return Target(
        name,
        goal,
        f"{worst['ratio']:.2f}x at the most ({worst['name']})",
        worst["ratio"] <= RATIO_TARGET,
    )


def judge(results: dict[str, Any]) -> list[Target]:
    """The issue's targets, at the library size of the run."""
    embedded = _run(results, "embedded")
    on_meilisearch = _run(results, "meilisearch")
    no_meilisearch = "no Meilisearch" if results["meilisearch"] is None else "no baseline run"
    targets = _latency_targets(embedded)
    targets.append(
        _ratio_target(
            "every query within 2x of Meilisearch's own HTTP time",
            embedded,
            "no embedded run" if embedded is None else no_meilisearch,
        )
    )
    targets.append(
        _ratio_target(
            "service on Meilisearch adds at most 2x to Meilisearch's own time",
            on_meilisearch,
            "the service did not run on Meilisearch" if on_meilisearch is None else no_meilisearch,
        )
    )
    missing = "no embedded run" if embedded is None else no_meilisearch
    targets.append(
        _ratio_target(
            "content searches within 2x of Meilisearch's own HTTP time (embedded)",
            embedded,
            missing,
            lambda query: bool(query.get("content")) and not query.get("highlight"),
        )
    )
    targets.append(
        _ratio_target(
            "content searches with highlight=true within 2x of Meilisearch's own "
            "highlighting (embedded)",
            embedded,
            missing,
            lambda query: bool(query.get("highlight")),
        )
    )
    reindexed = _reindex(results, "embedded")
    goal = ">= 20,000 assets/s"
    if reindexed is None:
        targets.append(Target("full reindex, embedded", goal, "not measured", None))
    else:
        rate = reindexed["assets_per_second"]
        targets.append(Target("full reindex, embedded", goal, f"{rate:,} assets/s", rate >= 20_000))
    targets.append(_load_target(results))
    committed = results.get("commit_to_searchable")
    if committed:
        p99 = committed["latency"]["p99_ms"]
        targets.append(
            Target(
                f"commit-to-searchable p99 at {committed['writes_per_second']:g} writes/s "
                f"({committed['engine']})",
                "<= 1000 ms",
                f"{p99:.0f} ms",
                p99 <= 1000,
            )
        )
    upload = results.get("upload")
    if upload:
        growth = upload["peak_memory_growth_mib"]
        targets.append(
            Target(
                f"peak memory growth, {upload['megabytes']:g} MB upload",
                "< 50 MB",
                f"{growth:.1f} MiB",
                growth * 1.048576 < 50,
            )
        )
    targets.append(_content_upload_target(results.get("content_upload")))
    targets.append(_photo_upload_target(results.get("photo_upload")))
    targets.append(_bulk_target(results.get("bulk")))
    return targets


def _bulk_target(bulk: dict[str, Any] | None) -> Target:
    """Issue 14: a bulk tag by query completes and is searchable when it answers."""
    goal = "answers 200, not pending, and a search for the tag then finds every asset"
    if not bulk:
        return Target("bulk add_tags by a query", goal, "not measured", None)
    add = bulk["add"]
    return Target(
        f"bulk add_tags of {add['matched']:,} assets by a query ({bulk['engine']})",
        goal,
        f"{add['seconds']:.1f} s ({add['seconds_per_10k']:.2f} s per 10,000), "
        f"{add['found_by_tag']:,} found",
        not add["pending"] and add["found_by_tag"] == add["matched"],
    )


def _content_upload_target(upload: dict[str, Any] | None) -> Target:
    """Extraction happens after the answer: an upload whose text is extracted, and one
    sent while that extraction runs, answer as fast as one with nothing to extract."""
    goal = (
        f"p50 <= {UPLOAD_TARGET:g} x a same-size PNG's with nothing extracted, for the PDF "
        "and for a PNG sent during the PDF's extraction"
    )
    if not upload:
        return Target("upload latency unchanged by extraction", goal, "not measured", None)
    idle = upload["png_idle"]["p50_ms"]
    pdf = upload["pdf"]["p50_ms"] / idle
    busy = upload["png_during_extraction"]["p50_ms"] / idle
    return Target(
        f"upload latency of a {upload['megabytes']:g} MB PDF unchanged by extraction "
        f"({upload['engine']})",
        goal,
        f"PDF {pdf:.2f}x, PNG during extraction {busy:.2f}x (PNG alone: {idle:.0f} ms)",
        max(pdf, busy) <= UPLOAD_TARGET,
    )


def _photo_upload_target(upload: dict[str, Any] | None) -> Target:
    """Previews are rendered after the answer: a photo sent while another is rendered
    answers as fast as one sent with nothing to render."""
    goal = f"p50 <= {UPLOAD_TARGET:g} x the same photo's with nothing being rendered"
    if not upload:
        return Target("upload latency unchanged by preview rendering", goal, "not measured", None)
    idle = upload["photo_idle"]["p50_ms"]
    busy = upload["photo_during_rendering"]["p50_ms"] / idle
    return Target(
        f"upload latency of a {upload['megabytes']:g} MB photo unchanged by preview "
        f"rendering ({upload['engine']})",
        goal,
        f"{busy:.2f}x (alone: {idle:.0f} ms)",
        busy <= UPLOAD_TARGET,
    )


def _load_target(results: dict[str, Any]) -> Target:
    name = "reindex into Meilisearch within 2x of Meilisearch's own load rate"
    goal = f"Meilisearch's own assets/s <= {RATIO_TARGET:g} x the reindex's"
    reindexed = _reindex(results, "meilisearch")
    own = results.get("meilisearch_load")
    if reindexed is None or own is None:
        return Target(name, goal, "not measured", None)
    ratio = own["assets_per_second"] / reindexed["assets_per_second"]
    return Target(
        name,
        goal,
        f"{ratio:.2f}x ({reindexed['assets_per_second']:,} against "
        f"{own['assets_per_second']:,} assets/s)",
        ratio <= RATIO_TARGET,
    )


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


def _ms(latency: dict[str, Any] | None, key: str = "p50_ms", digits: int = 1) -> str:
    return f"{latency[key]:.{digits}f}" if latency else "n/a"


def _count(number: int, noun: str) -> str:
    plural = noun + ("es" if noun.endswith(("s", "ch")) else "s")
    return f"{number:,} {noun if number == 1 else plural}"


def _times(ratio: float | None) -> str:
    if ratio is None:
        return "n/a"
    return f"{ratio:.1f}x" if ratio < 10 else f"{ratio:.0f}x"


def _shape_line(results: dict[str, Any], run: dict[str, Any]) -> str:
    shape = run["shape"]
    indexer = (
        _count(shape["indexer_processes"], "indexer process")
        if shape["indexer_processes"]
        else "the indexer in a thread of the API process"
    )
    meilisearch = results["meilisearch"]
    return (
        f"**Shape:** `media-assets serve --workers {results['workers']}` on the "
        f"**{shape['engine']}** engine, counted from /proc as "
        f"**{_count(shape['api_processes'], 'API process')}** and {indexer} "
        f"({shape['processes']} processes in all); "
        f"**{_count(shape['clients'], 'keep-alive HTTP client')}** at once; "
        f"**{shape['assets']:,} assets** on {results['database']}, {text_share(results)}; "
        + (f"Meilisearch {meilisearch['version']}." if meilisearch else "no Meilisearch.")
    )


def _method(results: dict[str, Any]) -> list[str]:
    meilisearch = results["meilisearch"]
    lines = [
        f"Each row, one after another on the same service: {results['requests']} requests of "
        f"the query through `GET /api/media-assets` ({results['page']} results a page, its "
        "variants cycled); then the **floor**, as many `GET /healthz` on the same service "
        "with the same clients (no token check, no search, no database)",
    ]
    if results.get("meilisearch_load") and meilisearch:
        retrieve = json.dumps(meilisearch.get("retrieve", ["*"]))
        lines[-1] += (
            "; then **Meilisearch**: as many `POST /indexes/<uid>/search` with the same "
            "clients, to an index of its own holding the same documents (`to_meilisearch` "
            "of `DocumentLoader`'s) with the same settings (`SETTINGS`). Each is the one "
            "request a client would make for the page: the service's words, filters, sort "
            "and facets, `matchingStrategy: all`, `page`/`hitsPerPage` (the exact "
            f"`totalHits`; `offset` only where marked), `attributesToRetrieve: {retrieve}`. "
            "**x Meilisearch** is the service's p50 over Meilisearch's"
        )
    lines[-1] += (
        ". Every request is timed to the last byte of the answer, on keep-alive "
        "connections, with `Accept-Encoding: identity`."
    )
    lines[-1] += (
        " The `content:` rows search words found only inside files (a common trade word, "
        "a rare word of the text's tail, two words, a 5-letter prefix, a typo); the "
        "`search_in=content` row a word of the names, in the text alone."
    )
    if meilisearch and results.get("meilisearch_load"):
        lines[-1] += (
            " With `highlight=true` the service computes its highlights itself, from the "
            "text in the database, for the page's items; Meilisearch's request is its "
            "nearest equivalent, its own highlighting (`attributesToHighlight` on the "
            "words of the name, tags and text, `attributesToCrop` on the text's words, "
            "`cropLength: 40`): those rows compare the service's total with Meilisearch's "
            "own highlighting, not the same work."
        )
    if results["sql_runs"]:
        lines[-1] += (
            f" The SQL way (`ILIKE`, a join per tag, `COUNT(*)`, `GROUP BY` facets) runs "
            f"{_count(results['sql_runs'], 'time')} a query on the same database; its "
            "speed-up is over the service's p50, for information."
        )
    return lines


def _query_table(run: dict[str, Any]) -> list[str]:
    lines = [
        "| query | p50 ms | p95 ms | p99 ms | req/s | floor p50 ms | Meilisearch p50 ms "
        "| x Meilisearch | total | SQL way p50 ms | speed-up |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for query in run["queries"]:
        http = query["http"]
        ratio = _times(query["ratio"])
        meili = _ms(query["meilisearch"])
        if query["meilisearch"] and query.get("meilisearch_mode") != "page":
            meili += f" ({query['meilisearch_mode']})"
        total = f"{query['total']:,}"
        if query["meilisearch"] and query["meilisearch_total"] != query["total"]:
            total += f" (Meilisearch: {query['meilisearch_total']:,})"
        speedup = _times(query.get("speedup"))
        lines.append(
            f"| {query['name']} | {http['p50_ms']:.1f} | {http['p95_ms']:.1f} | "
            f"{http['p99_ms']:.1f} | {http['per_second']:.0f} | {_ms(query['floor'], digits=2)} "
            f"| {meili} | {ratio} | {total} | {_ms(query.get('sql'), digits=0)} | {speedup} |"
        )
    return lines


def _ingest_table(results: dict[str, Any]) -> list[str]:
    lines = ["| ingest | figure |", "|---|---|"]
    for reindexed in results["reindex"]:
        lines.append(
            f"| full reindex, {reindexed['engine']} | {reindexed['assets_per_second']:,} "
            f"assets/s ({reindexed['seconds']:.1f} s; `check` after it "
            f"{reindexed['check_seconds']:.1f} s) |"
        )
    own = results.get("meilisearch_load")
    if own:
        lines.append(
            f"| Meilisearch's own load | {own['assets_per_second']:,} assets/s "
            f"({own['documents']:,} documents in {own['seconds']:.1f} s: "
            f"{_count(own['batches'], 'batch')} of {own['batch_size']:,} sent at once to a "
            "fresh index with the service's settings, until its last task succeeded; "
            f"building the documents took {own['build_seconds']:.1f} s before, not counted) |"
        )
        into = next((r for r in results["reindex"] if r["engine"] == "meilisearch"), None)
        if into:
            lines.append(
                f"| reindex into Meilisearch against its own load | "
                f"{own['assets_per_second'] / into['assets_per_second']:.2f}x slower |"
            )
    committed = results.get("commit_to_searchable")
    if committed:
        latency = committed["latency"]
        lines.append(
            f"| commit-to-searchable at {committed['writes_per_second']:g} writes/s "
            f"({committed['engine']}) | "
            f"p50 {latency['p50_ms']:.0f} ms, p99 {latency['p99_ms']:.0f} ms "
            f"({latency['count']} writes, {committed['pending']} answered pending) |"
        )
    upload = results.get("upload")
    if upload:
        lines.append(
            f"| {upload['megabytes']:g} MB upload ({upload['engine']}) | "
            f"{upload['megabytes_per_second']:.0f} MB/s, "
            f"peak memory +{upload['peak_memory_growth_mib']:.1f} MiB "
            f"({upload['peak_measured_by']}) |"
        )
    return lines


def markdown_tables(results: dict[str, Any], targets: list[Target]) -> str:
    """Every figure with the shape it was measured in: processes, clients, engine,
    library size and Meilisearch version head each table."""
    lines = [*_method(results), ""]
    order = results["engines"]
    for run in sorted(results["runs"], key=lambda run: order.index(run["engine"])):
        lines += [f"### The service on the {run['engine']} engine", ""]
        lines += [_shape_line(results, run), "", *_query_table(run), ""]
    lines += ["### Ingest", ""]
    lines += [
        f"{results['assets']:,} assets on {results['database']}; "
        + (
            f"Meilisearch {results['meilisearch']['version']}."
            if results["meilisearch"]
            else "no Meilisearch."
        ),
        "",
        *_ingest_table(results),
        "",
        *text_section(results),
        *previews_section(results),
        *bulk_section(results),
        "### Targets",
        "",
        f"At {results['assets']:,} assets.",
        "",
        "| target | goal | measured | met |",
        "|---|---|---|---|",
    ]
    for target in targets:
        met = "n/a" if target.met is None else "yes" if target.met else "**no**"
        lines.append(f"| {target.name} | {target.goal} | {target.measured} | {met} |")
    return "\n".join(lines)


def summary_line(results: dict[str, Any], targets: list[Target]) -> str:
    return json.dumps({**results, "targets": [t.as_dict() for t in targets]}, sort_keys=True)
