"""`scripts/bench`: index-backed list and search against the SQL way, side by side.

Builds (or reuses) a synthetic library, measures a full reindex on each engine that is
available, starts the real service on the embedded engine, drives it over HTTP with
concurrent clients, answers the same queries the SQL way on the same database, then
measures commit-to-searchable under a steady write load and one large upload. Prints
tables, and the summary last as one JSON line.
"""

from __future__ import annotations

import argparse
import json
import shlex
import shutil
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session

from bench.ingest import (
    measure_commit_to_searchable,
    measure_reindex,
    measure_upload,
    meilisearch_settings,
)
from bench.library import Library, generate
from bench.load import http_total, run_http, run_sql
from bench.queries import PAGE, build_queries
from bench.report import judge, machine, markdown_tables, print_tables, summary_line
from bench.server import Service
from service.config import Settings
from store.db import make_engine
from store.migrate import upgrade
from store.models import MediaAsset

LIBRARY_FILE = "library.json"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="scripts/bench", description=__doc__)
    parser.add_argument("--assets", type=int, default=100_000, help="library size")
    parser.add_argument(
        "--work-dir",
        type=Path,
        default=None,
        help="where the library lives (default .bench/<assets>); kept between runs",
    )
    parser.add_argument("--fresh", action="store_true", help="regenerate an existing library")
    parser.add_argument("--requests", type=int, default=300, help="HTTP requests per query")
    parser.add_argument("--clients", type=int, default=1, help="concurrent keep-alive HTTP clients")
    parser.add_argument(
        "--workers",
        type=int,
        default=2,
        help="API processes (`serve --workers`; the indexer runs beside them)",
    )
    parser.add_argument("--sql-runs", type=int, default=3, help="SQL-way runs per query")
    parser.add_argument("--write-rate", type=float, default=50.0, help="writes a second")
    parser.add_argument("--write-seconds", type=float, default=20.0)
    parser.add_argument("--upload-mb", type=float, default=100.0)
    parser.add_argument(
        "--engines",
        default="embedded,meilisearch",
        help="engines whose full reindex is measured, when available",
    )
    parser.add_argument("--markdown", type=Path, default=None, help="also write the tables here")
    return parser.parse_args(argv)


def prepare_library(settings: Settings, assets: int, fresh: bool) -> Library:
    """The library of the work dir, generated when it is missing, of another size or --fresh."""
    saved = settings.data_dir / LIBRARY_FILE
    if saved.exists() and not fresh:
        library = Library.from_json(saved.read_text())
        if library.assets == assets:
            print(f"Reusing the library of {assets:,} assets in {settings.data_dir}.")
            upgrade(settings.resolved_database_url)  # a library made by an older schema
            return library
    if settings.data_dir.exists():
        shutil.rmtree(settings.data_dir)
    settings.data_dir.mkdir(parents=True)
    upgrade(settings.resolved_database_url)
    db = make_engine(settings.resolved_database_url)
    started = time.perf_counter()
    library = generate(db, assets)
    db.dispose()
    print(f"Generated {assets:,} assets in {time.perf_counter() - started:.1f} s.")
    saved.write_text(library.to_json())
    return library


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    work_dir: Path = args.work_dir or Path(".bench") / str(args.assets)
    settings = Settings(data_dir=work_dir.resolve() / "data", search_engine="embedded")
    library = prepare_library(settings, args.assets, args.fresh)
    db = make_engine(settings.resolved_database_url)
    with Session(db) as session:
        counted = session.execute(select(func.count()).select_from(MediaAsset)).scalar_one()
    results: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": shlex.join(["scripts/bench", *(argv if argv is not None else sys.argv[1:])]),
        "machine": machine(),
        "assets": counted,
        "database": db.dialect.name,
        "clients": args.clients,
        "workers": args.workers,
        "requests": args.requests,
        "sql_runs": args.sql_runs,
        "page": PAGE,
        "reindex": [],
        "queries": [],
    }
    engines = {name.strip() for name in args.engines.split(",")}

    # Ingest: a full reindex on each engine; the embedded one is then the one queried.
    if "meilisearch" in engines:
        with meilisearch_settings(settings, work_dir.resolve()) as meili:
            if meili is None:
                print("Meilisearch: none found (MEDIA_TEST_MEILISEARCH_URL or a binary on PATH).")
            else:
                results["reindex"].append(measure_reindex(db, meili, counted).as_dict())
                print(f"reindex: {results['reindex'][-1]}")
    results["reindex"].insert(0, measure_reindex(db, settings, counted).as_dict())
    print(f"reindex: {results['reindex'][0]}")

    service = Service(
        settings.data_dir,
        {"MEDIA_SEARCH_ENGINE": "embedded"},
        work_dir.resolve() / "service.log",
        workers=args.workers,
    )
    try:
        for query in build_queries(library):
            http = run_http(service, query, requests=args.requests, clients=args.clients)
            entry: dict[str, Any] = {
                "name": query.name,
                "tagged": query.tagged,
                "text": query.text,
                "facets": query.facets,
                "http": http.as_dict(),
                "total": http_total(service, query),
                "sql": None,
                "speedup": None,
            }
            if args.sql_runs > 0:
                sql, sql_total = run_sql(db, query, runs=args.sql_runs)
                entry["sql"] = sql.as_dict()
                entry["sql_total"] = sql_total
                entry["speedup"] = round(sql.p50_ms / http.p50_ms, 1)
            results["queries"].append(entry)
            print(f"{query.name}: {json.dumps(entry)}", flush=True)
        # What ran, counted from /proc once every query has been answered.
        results["shape"] = {
            **service.shape().as_dict(),
            "clients": args.clients,
            "engine": "embedded",
            "assets": counted,
        }
        if args.write_seconds > 0:
            latency, pending = measure_commit_to_searchable(
                service,
                library.sample_asset_ids,
                library.sample_file_names,
                rate=args.write_rate,
                seconds=args.write_seconds,
            )
            results["commit_to_searchable"] = {
                "writes_per_second": args.write_rate,
                "latency": latency.as_dict(),
                "pending": pending,
            }
        if args.upload_mb > 0:
            results["upload"] = measure_upload(service, int(args.upload_mb * 1_000_000)).as_dict()
    finally:
        service.stop()
        db.dispose()

    targets = judge(results)
    print_tables(results, targets)
    if args.markdown:
        args.markdown.write_text(markdown_tables(results, targets) + "\n")
    print(summary_line(results, targets))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
