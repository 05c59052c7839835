"""A query's scratch folder (answers, stderr, spill files) that outlives no one.

Each folder holds `.owner`, flocked by the process that made it for as long as
it uses the folder. A process killed with SIGKILL cannot remove its folder, but
the kernel drops its flock: `remove_dead()`, called when a command starts and by
the daemon's reaper sensor, removes every `bench-query-*` folder whose owner is
gone, the moment it is gone. `.owner` appears only already locked (locked under
another name, then renamed), so an unlocked `.owner` always means a dead owner.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import tempfile
import time
from pathlib import Path

PREFIX = "bench-query-"
_OWNER = ".owner"
_UNNAMED_S = 60  # a folder with no .owner yet is being made; one this old lost its maker before the lock


@contextlib.contextmanager
def scratch_folder():
    root = Path(tempfile.mkdtemp(prefix=PREFIX))
    fd = None
    try:  # a failed open, lock or rename (no descriptors, a full disk) leaves neither the folder nor the fd
        fd = os.open(root / ".owner-locking", os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.rename(root / ".owner-locking", root / _OWNER)
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)
        if fd is not None:
            os.close(fd)


def remove_dead(tmp: str | os.PathLike | None = None) -> list[Path]:
    """Remove the scratch folders of processes that died without cleaning up; return them."""
    removed = []
    for root in Path(tmp or tempfile.gettempdir()).glob(f"{PREFIX}*"):
        if _owner_gone(root):
            shutil.rmtree(root, ignore_errors=True)
            removed.append(root)
    return removed


def _owner_gone(root: Path) -> bool:
    try:
        fd = os.open(root / _OWNER, os.O_RDWR)
    except FileNotFoundError:
        try:  # being made or removed right now, unless its maker died before the lock
            return time.time() - root.stat().st_mtime >= _UNNAMED_S
        except OSError:
            return False
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False  # its owner is alive
    finally:
        os.close(fd)
    return True
