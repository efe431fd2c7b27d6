"""The `media-assets` command: serve the API, print a token, run or maintain the indexer."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from service.auth import issue_token
from service.config import Settings
from service.token_commands import CommandRefused, add_token_commands

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from indexer.engines.base import SearchEngine
    from store.derived import DerivedQueue

# How old a file no row names must be before `check --repair` removes it: far longer than
# any write takes from promoting its file to committing its row.
DEFAULT_GRACE_SECONDS = 3600.0


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from service.app import create_app
    from service.web.sign_in import SIGN_IN_HOURS, base_url, sign_in_url
    from store.db import make_engine
    from store.migrate import require_current_schema

    db = make_engine(settings.resolved_database_url)
    try:
        require_current_schema(db)
    finally:
        db.dispose()
    secret = settings.resolved_auth_secret(create=True)
    assert secret is not None
    if settings.auth_secret:
        # A configured secret is a deployment: its logs must not hold a working token.
        print(
            "Auth secret from MEDIA_AUTH_SECRET; no token is printed "
            "(`media-assets token --sub NAME` makes one).",
            flush=True,
        )
    else:
        token = issue_token(secret=secret, subject="admin", scope="media:admin", ttl_seconds=None)
        print(f"Auth secret from {settings.data_dir / 'auth_secret'}.", flush=True)
        print(f"Admin token (sub=admin, scope=media:admin):\n  {token}", flush=True)
        link = sign_in_url(args.host, args.port, secret=secret)
        print(
            f"Open the library (this link signs you in for {SIGN_IN_HOURS} hours): {link}",
            flush=True,
        )
        print(
            "A fresh link, any time: ./scripts/sign-in-link (media-assets sign-in-link), "
            "with the same --host and --port.",
            flush=True,
        )
    print(f"API docs: {base_url(args.host, args.port)}docs", flush=True)
    if args.workers == 1:
        uvicorn.run(
            create_app(settings),
            host=args.host,
            port=args.port,
            log_level="info",
            limit_concurrency=settings.limit_concurrency,
            timeout_keep_alive=settings.keep_alive_seconds,
        )
        return 0
    return _serve_workers(args, settings)


def _serve_workers(args: argparse.Namespace, settings: Settings) -> int:
    """Several API processes; the indexing runs in one process of its own beside them."""
    import os
    import subprocess

    import uvicorn

    indexer = None
    if settings.run_indexer:
        indexer = subprocess.Popen([sys.executable, "-m", "service.cli", "indexer"])
    # The workers build their app from the environment: none of them indexes.
    os.environ["MEDIA_RUN_INDEXER"] = "false"
    try:
        uvicorn.run(
            "service.app:create_app",
            factory=True,
            host=args.host,
            port=args.port,
            workers=args.workers,
            log_level="info",
            limit_concurrency=settings.limit_concurrency,
            timeout_keep_alive=settings.keep_alive_seconds,
        )
    finally:
        if indexer is not None:
            indexer.terminate()
            indexer.wait(timeout=30)
    return 0


def _open_index(settings: Settings) -> tuple[Engine, SearchEngine]:
    from indexer.query import open_engine
    from store.db import make_engine
    from store.migrate import require_current_schema

    db = make_engine(settings.resolved_database_url)
    require_current_schema(db)
    return db, open_engine(settings.engine_config)


def _migrate(_args: argparse.Namespace, settings: Settings) -> int:
    from store.migrate import upgrade

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.resolved_database_url)
    print("The database schema is up to date.")
    return 0


def _indexer(_args: argparse.Namespace, settings: Settings) -> int:
    import signal
    import threading

    from indexer.query import EngineUnavailable
    from indexer.worker import IndexerWorker
    from service.derived_worker import derived_worker_for

    db, engine = _open_index(settings)

    worker = IndexerWorker(db, engine)
    extraction = derived_worker_for(settings, db)
    stopped = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopped.set())
    try:
        worker.start()
    except EngineUnavailable as exc:
        print(f"media-assets: {exc}", file=sys.stderr)
        return 2
    extraction.start()
    print(f"Indexer running on the {engine.name} engine; Ctrl-C stops it.", flush=True)
    stopped.wait()
    extraction.stop()
    worker.stop()
    return 0


def _extract(args: argparse.Namespace, settings: Settings) -> int:
    """Extract the text of files now, with a progress bar: pending ones (--missing), and
    those that failed (--failed) or every file (--all) again."""
    from service.derived_worker import TEXT
    from service.extraction import EXTRACTOR_VERSION
    from store import content as stored_content

    again_statuses = {"all": ["extracted", "empty", "failed"], "failed": ["failed"]}
    return _derive(
        args,
        settings,
        job=TEXT,
        queue=stored_content.QUEUE,
        version=EXTRACTOR_VERSION,
        statuses=again_statuses,
        done_sentence="Extracted {done} files; the indexer adds their text to the index.",
    )


def _previews(args: argparse.Namespace, settings: Settings) -> int:
    """Render previews now, with a progress bar: pending ones (--missing), those that
    failed (--failed) or every file (--all) again."""
    from service.derived_worker import PREVIEWS
    from service.extraction import RENDERER_VERSION
    from store import previews as stored_previews

    again_statuses = {"all": ["ready", "failed"], "failed": ["failed"]}
    return _derive(
        args,
        settings,
        job=PREVIEWS,
        queue=stored_previews.QUEUE,
        version=RENDERER_VERSION,
        statuses=again_statuses,
        done_sentence="Rendered previews of {done} files.",
    )


def _derive(
    args: argparse.Namespace,
    settings: Settings,
    *,
    job: str,
    queue: DerivedQueue,
    version: int,
    statuses: dict[str, list[str]],
    done_sentence: str,
) -> int:
    """Work through one derived-data queue now, beside any running worker."""
    from indexer.progress import ProgressBar
    from service.derived_worker import derived_worker_for
    from store.db import make_engine
    from store.migrate import require_current_schema

    db = make_engine(settings.resolved_database_url)
    try:
        require_current_schema(db)
        again = 0
        if args.all:
            again = queue.request_again(
                db, statuses=statuses["all"], older_than_version=version + 1
            )
        elif args.failed:
            again = queue.request_again(db, statuses=statuses["failed"])
        total = queue.pending_count(db)
        print(f"{total} files to do ({again} asked for again).", file=sys.stderr)
        worker = derived_worker_for(settings, db, jobs=frozenset({job}))
        try:
            with ProgressBar(args.command, total) as bar:
                done = worker.drain(on_each=bar.advance)
        finally:
            worker.stop()
        print(done_sentence.format(done=done))
    finally:
        db.dispose()
    return 0


def _reindex(_args: argparse.Namespace, settings: Settings) -> int:
    from indexer.maintenance import reindex

    db, engine = _open_index(settings)
    done = reindex(db, engine)
    print(f"Rebuilt the {engine.name} index and swapped it in.")
    if done.replayed is not None:
        print(
            f"{done.replayed} assets written during the rebuild went into the new index at "
            "its swap; they are queued once more for the indexer, as a safety net."
        )
    else:
        print(
            f"{done.waiting_for} outbox rows pending at the swap were not being applied: the "
            "indexer queues the assets written during the rebuild once it has applied them."
        )
    return 0


def _lag(args: argparse.Namespace, settings: Settings) -> int:
    from sqlmodel import Session

    from store.db import make_engine
    from store.models import utc_now
    from store.outbox import lag

    db = make_engine(settings.resolved_database_url)
    with Session(db) as session:
        pending = lag(session)
    oldest = (utc_now() - pending.oldest).total_seconds() if pending.oldest else 0.0
    print(f"pending: {pending.pending}, oldest: {oldest:.1f}s")
    return 1 if oldest > args.max_seconds else 0


def _check(args: argparse.Namespace, settings: Settings) -> int:
    from indexer.maintenance import find_drift, queue_repair

    files_found = _check_files(args, settings)
    db, engine = _open_index(settings)
    drift = find_drift(db, engine)
    for label, ids in (
        ("missing", drift.missing),
        ("stale", drift.stale),
        ("orphan", drift.orphans),
    ):
        print(f"{label}: {len(ids)}")
        for asset_id in ids[:20]:
            print(f"  {asset_id}")
    if drift.total and args.repair:
        queue_repair(db, drift)
        print(f"Queued {drift.total} assets for the indexer to repair.")
    return 1 if drift.total or files_found else 0


def _check_files(args: argparse.Namespace, settings: Settings) -> int:
    """Compare the stored files with the rows; with --repair remove what nothing owns."""
    from service.file_check import find_file_drift, repair_file_drift
    from store.db import make_engine
    from store.migrate import require_current_schema

    db = make_engine(settings.resolved_database_url)
    try:
        require_current_schema(db)
        found = find_file_drift(db, settings.files_dir, grace_seconds=args.grace_seconds)
        listed: list[tuple[str, list[str]]] = [
            ("files without rows", found.orphan_files),
            ("rows without files", [f"{asset} {key}" for asset, key in found.rows_without_files]),
            ("abandoned staging", [str(path) for path in found.abandoned_staging]),
        ]
        for label, entries in listed:
            print(f"{label}: {len(entries)}")
            for entry in entries[:20]:
                print(f"  {entry}")
        if found.recent_unnamed:
            print(
                f"{len(found.recent_unnamed)} files without rows are younger than "
                f"{args.grace_seconds:g}s and may belong to writes under way; left alone."
            )
        if found.total and args.repair:
            removed = repair_file_drift(db, settings.files_dir, found)
            print(f"Removed {removed} orphan files and abandoned staging entries.")
            if found.rows_without_files:
                print("Rows without files need their files uploaded again or the assets deleted.")
    finally:
        db.dispose()
    return found.total


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="media-assets", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the HTTP API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--workers", type=int, default=1, help="API processes; >1 runs the indexer as its own"
    )
    serve.set_defaults(handler=_serve)

    add_token_commands(commands)

    migrate = commands.add_parser("migrate", help="upgrade the database schema")
    migrate.set_defaults(handler=_migrate)
    commands.add_parser("indexer", help="run the indexer alone").set_defaults(handler=_indexer)
    commands.add_parser(
        "reindex", help="rebuild the search index from the database and swap it in"
    ).set_defaults(handler=_reindex)
    lag = commands.add_parser(
        "lag", help="the indexer's lag; exits 1 past --max-seconds (a health check)"
    )
    lag.add_argument("--max-seconds", type=float, default=300.0)
    lag.set_defaults(handler=_lag)
    for name, handler, help_text in (
        ("extract", _extract, "extract the text of files now (search inside files)"),
        ("previews", _previews, "render the previews and image facts of files now"),
    ):
        derive = commands.add_parser(name, help=f"{help_text}, with a progress bar")
        which = derive.add_mutually_exclusive_group()
        which.add_argument("--missing", action="store_true", help="files not done yet (default)")
        which.add_argument("--failed", action="store_true", help="also retry failed ones")
        which.add_argument("--all", action="store_true", help="every file again")
        derive.set_defaults(handler=handler)
    check = commands.add_parser(
        "check", help="compare the index and the stored files with the database"
    )
    check.add_argument(
        "--repair",
        action="store_true",
        help="queue drifted assets for reindexing; remove orphan files and abandoned staging",
    )
    check.add_argument(
        "--grace-seconds",
        type=float,
        default=DEFAULT_GRACE_SECONDS,
        help="leave files without rows younger than this alone: they may be writes under way"
        f" (default {DEFAULT_GRACE_SECONDS:g})",
    )
    check.set_defaults(handler=_check)
    return parser


# Exit codes beside 0 (done), 1 (`check` found drift) and 2 (bad arguments).
EXIT_SCHEMA = 2
EXIT_ENGINE = 3
EXIT_REFUSED = 4


def main(argv: list[str] | None = None) -> int:
    from indexer.query import EngineUnavailable
    from store.migrate import SchemaNotCurrent

    args = build_parser().parse_args(argv)
    handler = args.handler
    try:
        result: int = handler(args, Settings())
    except SchemaNotCurrent as exc:
        print(f"media-assets: {exc}", file=sys.stderr)
        return EXIT_SCHEMA
    except CommandRefused as exc:
        print(f"media-assets {args.command}: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    except EngineUnavailable as exc:
        # The index or its server cannot do it now: say why, without a traceback.
        print(f"media-assets {args.command}: {exc}", file=sys.stderr)
        return EXIT_ENGINE
    return result


if __name__ == "__main__":
    raise SystemExit(main())
