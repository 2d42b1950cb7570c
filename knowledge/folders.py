"""Writing a model folder once, whoever else tries at the same time: an exclusive file lock and
an atomic swap of a finished staging folder into place (the materialised encoder, the adapted one)."""

from __future__ import annotations

import fcntl
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["exclusive_lock", "new_staging", "swap_into_place"]


def new_staging(dest: Path) -> Path:
    """A fresh, empty staging folder beside ``dest``, to be called under ``dest``'s
    :func:`exclusive_lock`: staging folders of ``dest`` left by a writer that was killed (a
    model's worth of disk each) are removed first; only the lock's holder writes one."""
    for leftover in dest.parent.glob(f".{dest.name}.tmp-*"):
        shutil.rmtree(leftover, ignore_errors=True)
    return Path(tempfile.mkdtemp(prefix=f".{dest.name}.tmp-", dir=dest.parent))


def swap_into_place(staging: Path, dest: Path) -> None:
    """Rename ``staging`` to ``dest``, moving an outdated folder aside first."""
    staging.chmod(0o755)
    if not dest.exists():
        staging.rename(dest)
        return
    retired = Path(tempfile.mkdtemp(prefix=f".{dest.name}.old-", dir=dest.parent))
    retired.rmdir()
    dest.rename(retired)
    staging.rename(dest)
    shutil.rmtree(retired, ignore_errors=True)


@contextmanager
def exclusive_lock(path: Path) -> Iterator[None]:
    """An exclusive advisory lock on ``path`` (created if missing), so concurrent processes
    write a folder only once."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
