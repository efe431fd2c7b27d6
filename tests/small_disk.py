"""A real, small, fillable filesystem for the tests that meet a full disk: a 16 MiB
tmpfs mounted over a directory (the tests run as root), or a skip where mounting is
impossible (a file write cannot be made to fail for real without one)."""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

FILLER = ".filler"


class SmallDisk:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def fill(self) -> None:
        """Write a filler until the filesystem refuses even one more byte."""
        size = 65536
        with (self.directory / FILLER).open("ab", buffering=0) as handle:
            while size:
                try:
                    handle.write(b"\0" * size)
                except OSError as exc:
                    if exc.errno != errno.ENOSPC:
                        raise
                    size //= 2

    def free(self) -> None:
        (self.directory / FILLER).unlink()


def mount_tmpfs(directory: Path) -> str | None:
    """Mount a 16 MiB tmpfs over `directory` (created if need be); why not, or None."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        return "a full disk needs a tmpfs, and mounting one needs root"
    directory.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(  # noqa: S603
        ["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(directory)],  # noqa: S607
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        return f"could not mount a tmpfs: {mounted.stderr.decode().strip()}"
    return None


def unmount(directory: Path) -> None:
    subprocess.run(["umount", "-l", str(directory)], check=False)  # noqa: S603, S607


@contextlib.contextmanager
def small_disk(directory: Path) -> Iterator[SmallDisk]:
    """A 16 MiB tmpfs over `directory` for the duration, or a skip where impossible."""
    impossible = mount_tmpfs(directory)
    if impossible is not None:
        pytest.skip(impossible)
    try:
        yield SmallDisk(directory)
    finally:
        unmount(directory)
