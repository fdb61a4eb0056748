"""Writing a new version of the warehouse file while others read the old one.

DuckDB lets one process write a file or many read it, never both. So that the website and other
commands keep reading while the CLI writes, a write goes to a copy of the file, under a lock file
that lets one writer at a time in, and the finished copy replaces the file in one rename. Readers
that opened the old version keep it until they reopen (the website does when it sees a new one).
A killed writer leaves the old version as it was; its unfinished copy is removed by the next.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import IO

SUFFIX = ".nieuw"


class NewVersion:
    """One writer's copy of the warehouse; :meth:`publish` puts it in place, :meth:`discard` drops it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock: IO[str] | None = path.with_name(path.name + ".lock").open("a+")
        _lock(self._lock)
        for stale in path.parent.glob(f".{path.name}.*{SUFFIX}*"):  # left by a killed writer
            stale.unlink(missing_ok=True)
        self.copy = path.with_name(f".{path.name}.{os.getpid()}{SUFFIX}")
        if path.exists():
            shutil.copyfile(path, self.copy)
            wal = path.with_name(path.name + ".wal")
            if wal.exists():  # a write the file has not absorbed yet
                shutil.copyfile(wal, self.copy.with_name(self.copy.name + ".wal"))

    def publish(self) -> None:
        """Replace the warehouse with the finished copy (one rename) and let the next writer in."""
        try:
            os.replace(self.copy, self.path)
            _sync_folder(self.path.parent)
        finally:
            self._release()

    def discard(self) -> None:
        """Drop the copy, leaving the warehouse as it was."""
        try:
            self.copy.unlink(missing_ok=True)
            self.copy.with_name(self.copy.name + ".wal").unlink(missing_ok=True)
        finally:
            self._release()

    def _release(self) -> None:
        if self._lock is not None:
            self._lock.close()  # closing the file releases the lock
            self._lock = None


def _lock(handle: IO[str]) -> None:
    """Wait for the exclusive lock on the lock file (one writer at a time)."""
    try:
        import fcntl

        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
    except ImportError:  # Windows
        import msvcrt

        msvcrt.locking(handle.fileno(), msvcrt.LK_LOCK, 1)  # type: ignore[attr-defined,unused-ignore]


def _sync_folder(folder: Path) -> None:
    """Make the rename durable (POSIX); a no-op where folders cannot be opened."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
