"""Per-process staging: a process's start-up sweep removes only what ended processes left
(`serve --workers N` respawns a dead worker while the others are receiving uploads)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from service.storage import STAGING_DIR_NAME, LocalStorage

# A worker that dies (as by kill -9) in the middle of receiving an upload.
_DIES_MID_UPLOAD = """
import os, signal, sys
from pathlib import Path
from service.storage import LocalStorage
writer = LocalStorage(Path(sys.argv[1])).stage(limit=1 << 20)
writer.write(b"half an upload")
os.kill(os.getpid(), signal.SIGKILL)
"""
# A worker starting up (its lifespan builds the storage), then stopping.
_STARTS = """
import sys
from pathlib import Path
from service.storage import LocalStorage
LocalStorage(Path(sys.argv[1])).close()
"""


def _run(script: str, root: Path) -> int:
    return subprocess.run([sys.executable, "-c", script, str(root)], check=False).returncode  # noqa: S603


def _staged_uploads(root: Path) -> list[Path]:
    return sorted((root / STAGING_DIR_NAME).rglob("upload-*.part"))


def test_start_up_sweeps_what_ended_processes_left_and_not_a_live_upload(tmp_path: Path) -> None:
    root = tmp_path / "files"
    live = LocalStorage(root)
    try:
        streaming = live.stage(limit=1 << 20)
        streaming.write(b"sku,price\n")
        assert _run(_DIES_MID_UPLOAD, root) < 0  # killed by its signal
        assert len(_staged_uploads(root)) == 2

        assert _run(_STARTS, root) == 0

        # The dead worker's upload is gone; the live one is still there and completes.
        [left] = _staged_uploads(root)
        streaming.write(b"a1,2.50\n")
        staged = streaming.finish()
        assert staged.path == left
        assert left.read_bytes() == b"sku,price\na1,2.50\n"
    finally:
        live.close()
    assert _staged_uploads(root) == []
