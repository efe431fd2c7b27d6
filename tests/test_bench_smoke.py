"""A small run of scripts/bench: it keeps working, and where the index and the SQL way
must agree (listings and tag filters), their totals are the same."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_a_small_benchmark_runs_and_agrees_with_the_sql_way(tmp_path: Path) -> None:
    finished = subprocess.run(  # noqa: S603  (our own argument list)
        [
            sys.executable,
            "-m",
            "bench",
            "--assets",
            "400",
            "--work-dir",
            str(tmp_path / "bench"),
            "--requests",
            "8",
            "--sql-runs",
            "1",
            "--write-rate",
            "10",
            "--write-seconds",
            "1",
            "--upload-mb",
            "2",
            "--workers",
            "2",
            "--engines",
            "embedded",
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
    assert summary["assets"] == 400
    # The shape is counted from /proc: two API processes and one indexer process.
    assert summary["shape"]["api_processes"] == 2
    assert summary["shape"]["indexer_processes"] == 1
    assert len(summary["queries"]) == 16
    for query in summary["queries"]:
        assert query["http"]["count"] == 8
        if not query["text"]:
            assert query["total"] == query["sql_total"], query["name"]
    assert summary["reindex"][0]["engine"] == "embedded"
    assert summary["commit_to_searchable"]["latency"]["count"] == 10
    assert summary["upload"]["megabytes"] == 2
    assert {target["target"] for target in summary["targets"]} >= {
        "p50 without facets",
        "full reindex, embedded",
    }
    assert "| default listing |" in (tmp_path / "results.md").read_text()
