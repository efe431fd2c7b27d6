"""Free space where the service writes, against the floor MEDIA_MIN_FREE_BYTES sets."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class DiskSpace:
    path: Path
    free_bytes: int

    def as_json(self) -> dict[str, object]:
        return {"path": str(self.path), "free_bytes": self.free_bytes}


def disk_space(paths: list[Path]) -> list[DiskSpace]:
    """The free space of each distinct filesystem among `paths` (those that exist)."""
    seen: set[int] = set()
    found: list[DiskSpace] = []
    for path in paths:
        try:
            device = os.stat(path).st_dev
            free = shutil.disk_usage(path).free
        except OSError:
            continue
        if device not in seen:
            seen.add(device)
            found.append(DiskSpace(path, free))
    return found


def low_disk_problem(spaces: list[DiskSpace], *, min_free_bytes: int) -> str | None:
    """A sentence naming each filesystem below the floor, or None when all are above it."""
    low = [space for space in spaces if space.free_bytes < min_free_bytes]
    if not low:
        return None
    named = "; ".join(f"{space.path} has {space.free_bytes} bytes free" for space in low)
    return f"low disk: {named}, below the floor of {min_free_bytes} (MEDIA_MIN_FREE_BYTES)"
