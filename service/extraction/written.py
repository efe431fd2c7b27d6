"""The parent's side of previews: the child's WebP bytes written whole, or not at all.

The child that reads hostile files never writes to storage; it hands back the encoded
previews, and they are written here under a hidden name beside the target, flushed to
disk and renamed into place. A preview on disk is therefore always a whole one, and a
rendition that is not `ready` leaves neither file behind (an older preview of a file
since replaced included).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from service.extraction.rendition import Previews, Rendition


def _write_whole(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(name, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(name)
        raise


def write_previews(
    rendition: Rendition, previews: Previews | None, *, small: Path, large: Path
) -> Rendition:
    """`rendition` once its previews are at `small` and `large`, or failed if they cannot be
    written; unless it is `ready`, neither file exists afterwards."""
    if rendition.status == "ready" and previews is not None:
        try:
            _write_whole(small, previews.small)
            _write_whole(large, previews.large)
            return rendition
        except OSError as exc:
            rendition = Rendition.failed(
                f"The previews could not be written to storage ({exc.strerror or exc})."
            )
    for target in (small, large):
        # Storage that refuses even this keeps a stale file, which `status` already disowns.
        with contextlib.suppress(OSError):
            target.unlink()
    return rendition
