"""A small run of scripts/bench: it runs in the shape it reports (processes, clients,
library size, and the share of the library with text and its words, counted again here
in its database), every query has its HTTP floor and, with a Meilisearch, Meilisearch's
own time on the same documents; where the index and the SQL way must agree (listings and
tag filters), their totals are the same; extraction, index sizes and uploads whose text
is extracted after the answer are measured, and so are preview rendering and uploads of
a photo while another is rendered; a bulk change by a query is timed, and the count it
reports is the one the query selects in its database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlmodel import col

from bench.content_text import WORDS_PER_DOCUMENT
from bench.meilisearch_server import HOW_TO_ENABLE, meilisearch_binary
from indexer.text import words
from service.config import Settings
from store.db import make_engine
from store.models import AssetContent, MediaAsset

ROOT = Path(__file__).resolve().parent.parent
ASSETS = 400
REQUESTS = 8
WORKERS = 2
CONTENT_SHARE = 0.1
CONTENT_UPLOADS = 2
PHOTO_UPLOADS = 2
BULK_ASSETS = 300  # fewer than the library: the query is a real cut-off, not everything
HAVE_MEILISEARCH = bool(os.environ.get("MEDIA_TEST_MEILISEARCH_URL")) or bool(meilisearch_binary())


@pytest.fixture(scope="module")
def bench_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("bench")


@pytest.fixture(scope="module")
def bench_run(bench_dir: Path) -> tuple[dict[str, Any], str]:
    """One small run for the whole module: its summary and its markdown."""
    tmp_path = bench_dir
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
            "--content-share",
            str(CONTENT_SHARE),
            "--content-upload-mb",
            "2",
            "--content-uploads",
            str(CONTENT_UPLOADS),
            "--extraction-seconds",
            "0.01",
            "--rendering-seconds",
            "0.01",
            "--photo-uploads",
            str(PHOTO_UPLOADS),
            "--bulk-assets",
            str(BULK_ASSETS),
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
            if query["highlight"]:
                # A highlight row measured pages whose items carry marked words.
                assert query["highlighted"] > 0, query["name"]
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


def test_the_library_holds_the_text_the_summary_reports(
    bench_run: tuple[dict[str, Any], str], bench_dir: Path
) -> None:
    summary, markdown = bench_run
    content = summary["content"]
    # Counted again here, word by word, in the database the run used.
    db = make_engine(Settings(data_dir=bench_dir / "bench" / "data").resolved_database_url)
    try:
        with db.connect() as connection:
            rows = connection.execute(
                select(col(AssetContent.status), col(AssetContent.text))
            ).all()
    finally:
        db.dispose()
    texts = [text or "" for status, text in rows if status == "extracted"]
    counts = [len(words(text)) for text in texts]
    assert len(rows) == ASSETS
    assert {status for status, _ in rows} <= {"extracted", "empty", "unsupported"}
    assert content["with_text"] == len(texts) > 0
    assert content["share_with_text"] == pytest.approx(len(texts) / ASSETS, abs=1e-4)
    assert content["share_with_text"] == pytest.approx(CONTENT_SHARE, abs=0.05)
    assert content["words"]["words_total"] == sum(counts)
    assert content["words"]["words_min"] == min(counts)
    assert content["words"]["words_max"] == max(counts)
    fewest = min(low for low, _ in WORDS_PER_DOCUMENT.values())
    most = max(high for _, high in WORDS_PER_DOCUMENT.values())
    assert fewest <= min(counts) and max(counts) <= most * 1.1
    share = f"**{content['share_with_text']:.1%} with extracted text**"
    assert markdown.count(share) >= 1 + len(summary["runs"])  # each shape line, the text
    assert f"**{min(counts):,} to {max(counts):,} words**" in markdown


def test_extraction_index_size_and_uploads_with_extraction_are_measured(
    bench_run: tuple[dict[str, Any], str],
) -> None:
    summary, markdown = bench_run
    files = summary["extraction"]["files"]
    assert sorted({measured["type"] for measured in files}) == [
        ".csv",
        ".docx",
        ".pdf",
        ".svg",
        ".xlsx",
    ]
    for measured in files:
        assert measured["characters"] > 0 and measured["files_per_second"] > 0, measured
    embedded = summary["index_size"]["embedded"]
    assert embedded["bytes_with_content"] > embedded["bytes_without_content"] > 0
    if HAVE_MEILISEARCH:
        meili = summary["index_size"]["meilisearch"]
        assert meili["document_bytes"] > meili["without_content"]["document_bytes"] > 0
    upload = summary["content_upload"]
    assert upload["uploads"] == CONTENT_UPLOADS
    assert upload["characters_kept"] > 0
    for series in ("png_idle", "pdf", "png_during_extraction", "content_searchable_after_answer"):
        assert upload[series]["p50_ms"] > 0, series
    judged = {target["target"] for target in summary["targets"]}
    assert "upload latency of a 2 MB PDF unchanged by extraction (embedded)" in judged
    for heading in ("#### Extraction throughput", "#### Index size", "#### Uploads while"):
        assert heading in markdown


def test_preview_rendering_and_uploads_while_rendering_are_measured(
    bench_run: tuple[dict[str, Any], str],
) -> None:
    summary, markdown = bench_run
    files = summary["rendering"]["files"]
    assert sorted({measured["type"] for measured in files}) == [
        ".gif",
        ".jpg",
        ".pdf",
        ".png",
        ".svg",
    ]
    for measured in files:
        assert measured["files_per_second"] > 0 and measured["preview_bytes"] > 0, measured
        assert measured["width"] > 0 and measured["height"] > 0, measured
    camera = next(measured for measured in files if measured["file"].startswith("camera JPEG"))
    assert (camera["width"], camera["height"]) == (4000, 6000)  # EXIF orientation 6
    upload = summary["photo_upload"]
    assert upload["uploads"] == PHOTO_UPLOADS
    assert upload["megapixels"] == 24 and upload["megabytes"] > 5
    for series in ("photo_idle", "photo_during_rendering", "previews_ready_after_answer"):
        assert upload[series]["p50_ms"] > 0, series
    judged = {target["target"] for target in summary["targets"]}
    photo = f"upload latency of a {upload['megabytes']:g} MB photo unchanged by preview rendering"
    assert f"{photo} (embedded)" in judged
    for heading in ("### Previews", "#### Preview throughput", "#### Uploads while previews"):
        assert heading in markdown


def test_a_bulk_change_by_query_is_timed_and_searchable_when_it_answers(
    bench_run: tuple[dict[str, Any], str], bench_dir: Path
) -> None:
    summary, markdown = bench_run
    bulk = summary["bulk"]
    assert bulk["assets"] == BULK_ASSETS
    assert bulk["engine"] == summary["runs"][-1]["engine"]
    cutoff = datetime.fromisoformat(bulk["query"]["uploaded_before"])
    # Counted again here: the assets the query selects in the database the run used.
    db = make_engine(Settings(data_dir=bench_dir / "bench" / "data").resolved_database_url)
    try:
        with db.connect() as connection:
            selected = connection.execute(
                select(func.count()).where(col(MediaAsset.uploaded_at) <= cutoff)
            ).scalar_one()
    finally:
        db.dispose()
    add, remove = bulk["add"], bulk["remove"]
    assert BULK_ASSETS <= selected < ASSETS
    assert add["action"] == "add_tags"
    assert add["matched"] == add["changed"] == add["found_by_tag"] == selected
    assert remove["action"] == "remove_tags"
    assert remove["matched"] == remove["changed"] == selected
    assert remove["found_by_tag"] == 0
    for step in (add, remove):
        assert not step["pending"]
        assert step["seconds"] > 0
        per_10k = step["seconds"] / step["matched"] * 10_000
        # Both figures are rounded to 0.01 in the summary: `seconds` by up to 0.005 s,
        # which moves the rate by 0.005 s per asset matched, times 10,000.
        rounding = 0.005 / step["matched"] * 10_000 + 0.005
        assert step["seconds_per_10k"] == pytest.approx(per_10k, abs=rounding)
    judged = {target["target"]: target for target in summary["targets"]}
    target = judged[f"bulk add_tags of {selected} assets by a query ({bulk['engine']})"]
    assert target["met"] is True
    assert "### Bulk changes" in markdown
    assert f"| add_tags | {selected} |" in markdown
