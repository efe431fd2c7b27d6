"""`scripts/bench`: the service's list and search against Meilisearch's own time, the HTTP
floor and the SQL way, on the same documents, in one run.

Builds (or reuses) a synthetic library, a share of whose documents hold extracted text,
and measures a full reindex on the embedded engine, the index's size against one built
without the text, and the extraction throughput per file type on real files. With a
Meilisearch (a URL or a binary on PATH), loads the same documents into an index of its
own, timing its load rate and its size (and again without the text), and reindexes the
service into another index. Then, for each engine in --engines, starts the real service
(`serve --workers N`), counts its processes, and times each query through it, the floor
(`GET /healthz`) and the same query sent to Meilisearch directly; the SQL way answers
each query on the same database. Last, on the last run (the embedded one when it runs),
commit-to-searchable under a steady write load, one large upload, uploads of a PDF
whose text is extracted after the answer against a PNG of the same size, a camera's
photo uploaded alone and while another one's previews are rendered, and a bulk change: a
new tag added to many assets selected by a query, and removed again. The preview
rendering throughput per type is measured beside the extraction's. Prints tables, and
the summary last as one JSON line.
"""

from __future__ import annotations

import argparse
import json
import shlex
import shutil
import sys
import time
import uuid
from contextlib import ExitStack
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session

from bench.bulk import measure_bulk
from bench.content_size import (
    content_shape,
    embedded_sizes,
    meilisearch_loaded,
    meilisearch_without_content,
)
from bench.content_text import WORDS_PER_DOCUMENT
from bench.extraction import measure_extraction, measure_rendering
from bench.ingest import (
    measure_commit_to_searchable,
    measure_content_upload,
    measure_reindex,
    measure_upload,
    meilisearch_settings,
)
from bench.library import DEFAULT_CONTENT_SHARE, TEXT_TYPE_SHARE, Library, generate
from bench.load import first_page, run_floor, run_http, run_meilisearch, run_sql
from bench.meilisearch_direct import (
    DirectIndex,
    Meilisearch,
    build_documents,
    check_settings,
    load,
)
from bench.meilisearch_server import HOW_TO_ENABLE, meilisearch_server
from bench.photo_upload import measure_photo_upload
from bench.queries import PAGE, BenchQuery, build_queries
from bench.report import judge, machine, markdown_tables, print_tables, summary_line
from bench.server import Service
from service.config import Settings
from store.db import make_engine
from store.migrate import upgrade
from store.models import MediaAsset

LIBRARY_FILE = "library.json"
ENGINES = {"embedded", "meilisearch"}


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
    parser.add_argument(
        "--content-share",
        type=float,
        default=DEFAULT_CONTENT_SHARE,
        help="share of the assets that hold extracted text (documents only, so at most "
        f"{TEXT_TYPE_SHARE:g})",
    )
    parser.add_argument("--requests", type=int, default=300, help="HTTP requests per query")
    parser.add_argument("--clients", type=int, default=1, help="concurrent keep-alive HTTP clients")
    parser.add_argument(
        "--workers",
        type=int,
        default=2,
        help="API processes (`serve --workers`; the indexer runs beside them)",
    )
    parser.add_argument(
        "--sql-runs", type=int, default=3, help="SQL-way runs per query (0: no SQL way)"
    )
    parser.add_argument("--write-rate", type=float, default=50.0, help="writes a second")
    parser.add_argument("--write-seconds", type=float, default=20.0)
    parser.add_argument("--upload-mb", type=float, default=100.0)
    parser.add_argument(
        "--content-upload-mb",
        type=float,
        default=20.0,
        help="size of the PDF (and of the PNG it is compared with) whose uploads are timed "
        "with its text extracted after the answer (0: none)",
    )
    parser.add_argument("--content-uploads", type=int, default=5, help="rounds of those uploads")
    parser.add_argument(
        "--extraction-seconds",
        type=float,
        default=2.0,
        help="time spent extracting each sample file, for the throughput per type (0: none)",
    )
    parser.add_argument(
        "--rendering-seconds",
        type=float,
        default=2.0,
        help="time spent rendering the previews of each sample picture, for the throughput "
        "per type (0: none)",
    )
    parser.add_argument(
        "--photo-uploads",
        type=int,
        default=5,
        help="rounds of a camera photo's upload, alone and while another is rendered (0: none)",
    )
    parser.add_argument(
        "--bulk-assets",
        type=int,
        default=50_000,
        help="assets a bulk add_tags (and remove_tags) by a query changes, at most the "
        "library (0: none)",
    )
    parser.add_argument(
        "--without-content",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also build each index from the same documents without their text, for the "
        "size the text adds",
    )
    parser.add_argument(
        "--engines",
        default="embedded,meilisearch",
        help="engines the service runs on, one query run each, with a full reindex into "
        "each (meilisearch: when one is available)",
    )
    parser.add_argument(
        "--meilisearch-baseline",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="Meilisearch's own load rate and HTTP time on the same documents, when one "
        "is available",
    )
    parser.add_argument("--markdown", type=Path, default=None, help="also write the tables here")
    return parser.parse_args(argv)


def prepare_library(
    settings: Settings, assets: int, *, content_share: float, fresh: bool
) -> Library:
    """The library of the work dir, generated when it is missing, --fresh, or other than
    these arguments and this generator would make (another size, share of text, or
    generator version)."""
    saved = settings.data_dir / LIBRARY_FILE
    if saved.exists() and not fresh:
        library = Library.from_json(saved.read_text())
        if library.is_like(assets=assets, content_share=content_share):
            print(f"Reusing the library of {assets:,} assets in {settings.data_dir}.")
            upgrade(settings.resolved_database_url)  # a library made by an older schema
            return library
        print(f"The library in {settings.data_dir} is of another shape: generating it again.")
    if settings.data_dir.exists():
        shutil.rmtree(settings.data_dir)
    settings.data_dir.mkdir(parents=True)
    upgrade(settings.resolved_database_url)
    db = make_engine(settings.resolved_database_url)
    started = time.perf_counter()
    library = generate(db, assets, content_share=content_share)
    db.dispose()
    print(f"Generated {assets:,} assets in {time.perf_counter() - started:.1f} s.")
    saved.write_text(library.to_json())
    return library


def service_env(engine: str, meili: Settings | None) -> dict[str, str]:
    """The MEDIA_* variables that put the service on `engine`."""
    if engine == "embedded":
        return {"MEDIA_SEARCH_ENGINE": "embedded"}
    assert meili is not None
    return {
        "MEDIA_SEARCH_ENGINE": "meilisearch",
        "MEDIA_MEILISEARCH_URL": meili.meilisearch_url,
        "MEDIA_MEILISEARCH_API_KEY": meili.meilisearch_api_key or "",
        "MEDIA_MEILISEARCH_INDEX": meili.meilisearch_index,
    }


def measure_query(
    service: Service,
    query: BenchQuery,
    direct: DirectIndex | None,
    args: argparse.Namespace,
) -> dict[str, Any]:
    """One row: the service, its HTTP floor and Meilisearch's own time, one after another."""
    http = run_http(service, query, requests=args.requests, clients=args.clients)
    floor = run_floor(service, requests=args.requests, clients=args.clients)
    first = first_page(service, query)
    entry: dict[str, Any] = {
        "name": query.name,
        "tagged": query.tagged,
        "text": query.text,
        "facets": query.facets,
        "content": query.content,
        "highlight": query.highlight,
        "http": http.as_dict(),
        "floor": floor.as_dict(),
        "total": first.total,
        "highlighted": first.highlighted if query.highlight else None,
        "meilisearch": None,
        "ratio": None,
    }
    if direct is not None:
        meili, mode = run_meilisearch(direct, query, requests=args.requests, clients=args.clients)
        entry["meilisearch"] = meili.as_dict()
        entry["meilisearch_mode"] = mode
        entry["meilisearch_total"] = direct.total(query)
        entry["ratio"] = round(http.p50_ms / meili.p50_ms, 2)
    return entry


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    work_dir: Path = (args.work_dir or Path(".bench") / str(args.assets)).resolve()
    settings = Settings(data_dir=work_dir / "data", search_engine="embedded")
    engines = [name.strip() for name in args.engines.split(",") if name.strip()]
    unknown = set(engines) - ENGINES
    if unknown or not engines:
        raise SystemExit(f"--engines: choose among {', '.join(sorted(ENGINES))}")
    if not 0 <= args.content_share <= TEXT_TYPE_SHARE:
        raise SystemExit(f"--content-share: between 0 and {TEXT_TYPE_SHARE:g}, the documents")
    library = prepare_library(
        settings, args.assets, content_share=args.content_share, fresh=args.fresh
    )
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
        "engines": engines,
        "content": {
            **content_shape(db),
            "share_asked": args.content_share,
            "words": asdict(library.content),
            "words_per_document": WORDS_PER_DOCUMENT,
        },
        "meilisearch": None,
        "meilisearch_load": None,
        "index_size": {},
        "reindex": [],
        "runs": [],
    }
    queries = build_queries(library)
    with ExitStack() as cleanup:
        cleanup.callback(db.dispose)

        # Ingest: a full reindex on the embedded engine, the one the service uses by default.
        results["reindex"].append(measure_reindex(db, settings, counted).as_dict())
        print(f"reindex: {results['reindex'][-1]}", flush=True)
        if args.without_content:
            sizes = embedded_sizes(db, settings.index_dir, work_dir / "index-without-content")
            results["index_size"]["embedded"] = sizes
            print(f"index size: {sizes}", flush=True)
        if args.extraction_seconds > 0:
            results["extraction"] = measure_extraction(
                settings, seconds_per_file=args.extraction_seconds
            )
            print(f"extraction: {results['extraction']}", flush=True)
        if args.rendering_seconds > 0:
            results["rendering"] = measure_rendering(
                settings, seconds_per_file=args.rendering_seconds
            )
            print(f"rendering: {results['rendering']}", flush=True)

        # Meilisearch: its own load rate and an index for its own HTTP times, and a full
        # reindex of the service into an index of the service's.
        meili: Meilisearch | None = None
        if args.meilisearch_baseline or "meilisearch" in engines:
            shutil.rmtree(work_dir / "meili", ignore_errors=True)  # a binary started here
            server = cleanup.enter_context(meilisearch_server(work_dir))
            if server is None:
                print(f"Meilisearch: none, so no Meilisearch figures ({HOW_TO_ENABLE}).")
            else:
                meili = Meilisearch(*server)
                cleanup.callback(meili.close)
                results["meilisearch"] = {"version": meili.version()}
        direct: DirectIndex | None = None
        if meili is not None and args.meilisearch_baseline:
            check_settings()
            documents = build_documents(db)
            uid = f"bench_direct_{uuid.uuid4().hex[:8]}"
            cleanup.callback(meili.discard_index, uid)
            used_before = meili.used_bytes()
            results["meilisearch_load"] = load(meili, uid, documents).as_dict()
            print(f"Meilisearch's own load: {results['meilisearch_load']}", flush=True)
            sizes = meilisearch_loaded(meili, uid, meili.used_bytes() - used_before)
            direct = DirectIndex(meili, uid, documents.retrieve)
            results["meilisearch"]["retrieve"] = documents.retrieve
            del documents
            if args.without_content:
                sizes["without_content"] = meilisearch_without_content(meili, db)
            results["index_size"]["meilisearch"] = sizes
            print(f"Meilisearch index size: {sizes}", flush=True)
        meili_settings: Settings | None = None
        if meili is not None and "meilisearch" in engines:
            meili_settings = meilisearch_settings(settings, meili.url, meili.api_key)
            cleanup.callback(meili.discard_index, meili_settings.meilisearch_index)
            results["reindex"].append(measure_reindex(db, meili_settings, counted).as_dict())
            print(f"reindex: {results['reindex'][-1]}", flush=True)

        # Queries over HTTP, once per engine the service runs on. The embedded run goes
        # last: its write load then changes documents no other run reads.
        runs = [engine for engine in engines if engine != "embedded" and meili_settings]
        runs += ["embedded"] if "embedded" in engines else []
        if not runs:
            raise SystemExit("No engine to run the service on.")
        sql: dict[str, tuple[dict[str, float], int]] = {}
        for number, engine in enumerate(runs):
            service = Service(
                settings.data_dir,
                service_env(engine, meili_settings),
                work_dir / "service.log",
                workers=args.workers,
            )
            try:
                run: dict[str, Any] = {"engine": engine, "queries": []}
                for query in queries:
                    entry = measure_query(service, query, direct, args)
                    if args.sql_runs > 0 and query.name not in sql:
                        latency, sql_total = run_sql(db, query, runs=args.sql_runs)
                        sql[query.name] = latency.as_dict(), sql_total
                    if query.name in sql:
                        entry["sql"], entry["sql_total"] = sql[query.name]
                        entry["speedup"] = round(
                            entry["sql"]["p50_ms"] / entry["http"]["p50_ms"], 1
                        )
                    run["queries"].append(entry)
                    print(f"{engine}, {query.name}: {json.dumps(entry)}", flush=True)
                # What ran, counted from /proc once every query has been answered.
                run["shape"] = {
                    **service.shape().as_dict(),
                    "clients": args.clients,
                    "engine": engine,
                    "assets": counted,
                }
                results["runs"].append(run)
                if number == len(runs) - 1:
                    measure_writes(service, library, args, engine, results, assets=counted)
            finally:
                service.stop()

    targets = judge(results)
    print_tables(results, targets)
    if args.markdown:
        args.markdown.write_text(markdown_tables(results, targets) + "\n")
    print(summary_line(results, targets))
    return 0


def measure_writes(
    service: Service,
    library: Library,
    args: argparse.Namespace,
    engine: str,
    results: dict[str, Any],
    *,
    assets: int,
) -> None:
    """Commit-to-searchable under a steady write load, one large upload, uploads whose
    text is extracted after the answer, photos whose previews are rendered after it, and
    a bulk change of many assets selected by a query."""
    if args.write_seconds > 0:
        latency, pending = measure_commit_to_searchable(
            service,
            library.sample_asset_ids,
            library.sample_file_names,
            rate=args.write_rate,
            seconds=args.write_seconds,
        )
        results["commit_to_searchable"] = {
            "engine": engine,
            "writes_per_second": args.write_rate,
            "latency": latency.as_dict(),
            "pending": pending,
        }
    if args.upload_mb > 0:
        upload = measure_upload(service, int(args.upload_mb * 1_000_000)).as_dict()
        results["upload"] = {**upload, "engine": engine}
    if args.content_upload_mb > 0 and args.content_uploads > 0:
        uploaded = measure_content_upload(
            service, int(args.content_upload_mb * 1_000_000), count=args.content_uploads
        )
        results["content_upload"] = {**uploaded.as_dict(), "engine": engine}
        print(f"content upload: {results['content_upload']}", flush=True)
    if args.photo_uploads > 0:
        photos = measure_photo_upload(service, count=args.photo_uploads)
        results["photo_upload"] = {**photos.as_dict(), "engine": engine}
        print(f"photo upload: {results['photo_upload']}", flush=True)
    if args.bulk_assets > 0:
        bulk = measure_bulk(service, args.bulk_assets, assets)
        results["bulk"] = {**bulk.as_dict(), "engine": engine}
        print(f"bulk: {results['bulk']}", flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
