"""The progress of `reindex`, `extract` and `previews`: rich's bar on a terminal (a real
pseudo-terminal here), plain lines through a pipe."""

from __future__ import annotations

import io
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from indexer.progress import ProgressBar
from service.app import create_app
from service.config import Settings
from tests import content_samples, samples
from tests.conftest import bearer, make_token, migrated_settings

ESCAPE = "\x1b["


@pytest.fixture
def library(tmp_path: Path) -> Settings:
    """Three photos and two PDFs, uploaded while no worker ran: nothing extracted or
    rendered yet."""
    settings = migrated_settings(tmp_path / "data", run_indexer=False, index_wait_ms=0)
    with TestClient(create_app(settings), headers=bearer(make_token())) as api:
        for number in range(3):
            body = samples.png(width=8 + number, height=8)
            files = {"file": (f"photo-{number}.png", body, "image/png")}
            assert api.post("/api/media-assets/upload", files=files).status_code == 201
        for number in range(2):
            body = content_samples.pdf()
            files = {"file": (f"manual-{number}.pdf", body, "application/pdf")}
            assert api.post("/api/media-assets/upload", files=files).status_code == 201
    return settings


def _environment(settings: Settings) -> dict[str, str]:
    return {
        **os.environ,
        "MEDIA_DATA_DIR": str(settings.data_dir),
        "MEDIA_DATABASE_URL": settings.resolved_database_url,
        "MEDIA_AUTH_SECRET": settings.auth_secret or "",
        "PYTHONIOENCODING": "utf-8",
    }


def _piped(settings: Settings, *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603  (our own argument list)
        [sys.executable, "-m", "service.cli", *arguments],
        env=_environment(settings),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _on_a_terminal(settings: Settings, *arguments: str) -> tuple[int, str]:
    """Run the command with its stderr on a pseudo-terminal; return its exit code and what
    the terminal received."""
    controller, terminal = pty.openpty()
    process = subprocess.Popen(  # noqa: S603  (our own argument list)
        [sys.executable, "-m", "service.cli", *arguments],
        env={**_environment(settings), "TERM": "xterm-256color", "COLUMNS": "100"},
        stdout=subprocess.DEVNULL,
        stderr=terminal,
    )
    os.close(terminal)
    received = bytearray()
    while True:
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # the terminal closed: the process has ended
            break
        if not chunk:
            break
        received += chunk
    os.close(controller)
    return process.wait(timeout=300), received.decode("utf-8", "replace")


def test_without_a_terminal_reindex_prints_plain_lines(library: Settings) -> None:
    done = _piped(library, "reindex")
    assert done.returncode == 0, done.stderr
    assert "\r" not in done.stderr and ESCAPE not in done.stderr
    lines = [line for line in done.stderr.splitlines() if line.startswith("reindex:")]
    assert lines[0] == "reindex: 0/5 (0%)"
    assert lines[-1] == "reindex: 5/5 (100%)"


def test_without_a_terminal_previews_and_extract_print_plain_lines(library: Settings) -> None:
    previews = _piped(library, "previews")
    assert previews.returncode == 0, previews.stderr
    assert "\r" not in previews.stderr and ESCAPE not in previews.stderr
    assert "previews: 0/5 (0%)" in previews.stderr.splitlines()
    assert "previews: 5/5 (100%)" in previews.stderr.splitlines()
    assert "Rendered previews of 5 files." in previews.stdout

    extract = _piped(library, "extract")
    assert extract.returncode == 0, extract.stderr
    assert "\r" not in extract.stderr and ESCAPE not in extract.stderr
    assert extract.stderr.splitlines()[-1] == "extract: 2/2 (100%)"


def test_on_a_terminal_reindex_draws_richs_bar(library: Settings) -> None:
    code, shown = _on_a_terminal(library, "reindex")
    assert code == 0, shown
    assert ESCAPE in shown  # redrawn in place
    assert "reindex" in shown and "━" in shown and "5/5" in shown and "100%" in shown
    assert "reindex: 5/5 (100%)" not in shown  # not the plain lines


def test_plain_lines_come_at_each_tenth_and_at_the_end() -> None:
    stream = io.StringIO()
    with ProgressBar("extract", 1000, stream=stream) as bar:
        for _ in range(1000):
            bar.advance()
    lines = stream.getvalue().splitlines()
    assert lines == [f"extract: {n * 100}/1000 ({n * 10}%)" for n in range(11)]

    nothing = io.StringIO()
    with ProgressBar("previews", 0, stream=nothing):
        pass
    assert nothing.getvalue() == "previews: 0/0 (100%)\n"

    halfway = io.StringIO()
    with pytest.raises(RuntimeError), ProgressBar("reindex", 10, stream=halfway) as bar:
        bar.advance(4)
        raise RuntimeError("the engine went away")
    assert halfway.getvalue().splitlines()[-1] == "reindex: 4/10 (40%)"
