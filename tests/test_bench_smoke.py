"""A small run of scripts/bench: it runs in the shape it reports, every query has its
HTTP floor and, with a Meilisearch, Meilisearch's own time on the same documents; where
the index and the SQL way must agree (listings and tag filters), their totals are the same."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bench.meilisearch_server import HOW_TO_ENABLE, meilisearch_binary

ROOT = Path(__file__).resolve().parent.parent
ASSETS = 400
REQUESTS = 8
WORKERS = 2
HAVE_MEILISEARCH = bool(os.environ.get("MEDIA_TEST_MEILISEARCH_URL")) or bool(meilisearch_binary())


@pytest.fixture(scope="module")
def bench_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], str]:
    """One small run for the whole module: its summary and its markdown."""
    tmp_path = tmp_path_factory.mktemp("bench")
    finished = subprocess.run(  # noqa: S603  (our own argument list)
        [
            sys.executable,
            "-m",
            "bench",
            "--assets",
            str(ASSETS),
            "--work-dir",
            str(tmp_path / "bench"),
            "--requests",
            str(REQUESTS),
            "--sql-runs",
            "1",
            "--write-rate",
            "10",
            "--write-seconds",
            "1",
            "--upload-mb",
            "2",
            "--workers",
            str(WORKERS),
            "--engines",
            "embedded,meilisearch" if HAVE_MEILISEARCH else "embedded",
            "--markdown",
            str(tmp_path / "results.md"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert finished.returncode == 0, finished.stderr[-3000:]
    summary = json.loads(finished.stdout.strip().splitlines()[-1])
    return summary, (tmp_path / "results.md").read_text()


def test_the_service_runs_in_the_shape_the_summary_reports(
    bench_run: tuple[dict[str, Any], str],
) -> None:
    summary, markdown = bench_run
    assert summary["workers"] == WORKERS
    assert summary["runs"], "no query run"
    for run in summary["runs"]:
        # Counted from /proc while the service ran, not copied from the arguments.
        assert run["shape"]["api_processes"] == WORKERS, run["shape"]
        assert run["shape"]["indexer_processes"] == 1, run["shape"]
        assert run["shape"]["clients"] == 1
        assert run["shape"]["assets"] == ASSETS
        assert run["shape"]["engine"] == run["engine"]
    assert f"**{WORKERS} API processes** and 1 indexer process" in markdown
    assert f"**{ASSETS} assets**" in markdown


def test_every_query_has_its_http_floor_and_agrees_with_the_sql_way(
    bench_run: tuple[dict[str, Any], str],
) -> None:
    summary, markdown = bench_run
    assert summary["assets"] == ASSETS
    for run in summary["runs"]:
        assert len(run["queries"]) == 28
        for query in run["queries"]:
            assert query["http"]["count"] == REQUESTS
            assert query["floor"]["count"] == REQUESTS
            assert query["floor"]["p50_ms"] > 0
            if not query["text"]:
                assert query["total"] == query["sql_total"], query["name"]
    assert summary["reindex"][0]["engine"] == "embedded"
    assert summary["commit_to_searchable"]["latency"]["count"] == 10
    assert summary["upload"]["megabytes"] == 2
    assert {target["target"] for target in summary["targets"]} >= {
        "p50 without facets",
        "p50 with facets",
        "every query within 2x of Meilisearch's own HTTP time",
        "full reindex, embedded",
    }
    assert "| default listing |" in markdown
    assert "| floor p50 ms |" in markdown


def test_meilisearch_own_time_and_load_rate_on_the_same_documents(
    bench_run: tuple[dict[str, Any], str],
) -> None:
    if not HAVE_MEILISEARCH:
        pytest.skip(
            f"{HOW_TO_ENABLE}: the Meilisearch-direct columns, its load rate and the run "
            "of the service on Meilisearch went unchecked"
        )
    summary, markdown = bench_run
    version = summary["meilisearch"]["version"]
    assert summary["meilisearch_load"]["documents"] == ASSETS
    assert {r["engine"] for r in summary["reindex"]} == {"embedded", "meilisearch"}
    assert {run["engine"] for run in summary["runs"]} == {"embedded", "meilisearch"}
    for run in summary["runs"]:
        for query in run["queries"]:
            meili = query["meilisearch"]
            assert meili["count"] == REQUESTS
            assert query["meilisearch_mode"] == "page"
            # The ratio of the unrounded p50s: within rounding of the reported ones.
            ratio = query["http"]["p50_ms"] / meili["p50_ms"]
            assert query["ratio"] == pytest.approx(ratio, rel=0.03, abs=0.01)
            # The same documents and the same request: the same assets.
            if run["engine"] == "meilisearch" or not query["text"]:
                assert query["meilisearch_total"] == query["total"], query["name"]
    judged = {target["target"]: target for target in summary["targets"]}
    for name in (
        "every query within 2x of Meilisearch's own HTTP time",
        "service on Meilisearch adds at most 2x to Meilisearch's own time",
        "reindex into Meilisearch within 2x of Meilisearch's own load rate",
    ):
        assert judged[name]["met"] is not None, name
    assert f"Meilisearch {version}." in markdown
    assert "### The service on the meilisearch engine" in markdown
    assert "| Meilisearch's own load |" in markdown
