"""A scratch folder for pseudonymised person-level files that never outlives its process.

A ``TemporaryDirectory`` is removed when the block ends, but not when the process is killed: the
folder with pseudonymised persons would stay in ``$TMPDIR``. So a small watcher process (not a
child that dies with us: a session of its own) removes the folder as soon as this process is gone,
however it ended; and every new run first removes folders that dead runs left behind.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Final

PREFIX: Final = "wijkradar-linkage-"
WATCHER: Final = """
import os, shutil, sys, time
owner, folder = int(sys.argv[1]), sys.argv[2]
while True:
    try:
        os.kill(owner, 0)
    except ProcessLookupError:
        break
    except PermissionError:
        pass
    time.sleep(0.2)
shutil.rmtree(folder, ignore_errors=True)
"""


@contextmanager
def scratch_folder() -> Iterator[Path]:
    """Yield a private temporary folder that is removed when the block ends or the process dies."""
    _remove_orphans()
    folder = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-"))
    watcher = subprocess.Popen(  # noqa: S603  # our own interpreter and script
        [sys.executable, "-c", WATCHER, str(os.getpid()), str(folder)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        watcher.kill()
        watcher.wait()


def _remove_orphans() -> None:
    """Remove scratch folders of runs whose process no longer exists."""
    for folder in Path(tempfile.gettempdir()).glob(f"{PREFIX}*"):
        owner = folder.name.removeprefix(PREFIX).split("-", 1)[0]
        if owner.isdigit() and not _alive(int(owner)):
            shutil.rmtree(folder, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
