"""One measurement at a time per machine: an exclusive flock on one file that every state folder shares.

Every command that measures (`run`, `cell`, `query`, the suites, the UI's runs)
holds it while it measures, so two measurements never share the CPU. The
kernel releases a flock when its process ends, however it ends (kill -9, OOM),
so a dead holder never blocks anyone. The holder writes who it is (command,
pid, since when) into the file; a waiting command prints that once.
`BENCH_LOCK_FILE` moves the file (tests use their own).

The lock is re-entrant within a process: a cell that holds it runs queries that
take it again.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
import sys
import threading
import time
from pathlib import Path

from bench_pipeline.harness import interrupt

DEFAULT_LOCK_FILE = "/tmp/bench_pipeline-measurement.lock"
_state = {"fd": None, "depth": 0}
_guard = threading.RLock()


def lock_path() -> Path:
    return Path(os.environ.get("BENCH_LOCK_FILE") or DEFAULT_LOCK_FILE)


class LockError(OSError):
    """The lock file cannot be opened: one line, exit 2."""


def _open(path: Path) -> int:
    # Open an existing file without O_CREAT: in a sticky /tmp with fs.protected_regular, O_CREAT on another
    # user's file is refused even when the file itself is writable.
    try:
        return os.open(path, os.O_RDWR)
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise LockError(f"measurement lock {path} cannot be opened ({exc.strerror}); BENCH_LOCK_FILE moves it") \
            from None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    except OSError as exc:
        raise LockError(f"measurement lock {path} cannot be created ({exc.strerror}); BENCH_LOCK_FILE moves it") \
            from None
    with contextlib.suppress(OSError):
        os.fchmod(fd, 0o666)  # any user's benchmark shares the machine
    return fd


def holder() -> dict | None:
    """Who holds the lock now ({'pid', 'command', 'since', ...}), or None when it is free."""
    path = lock_path()
    if not path.exists():
        return None
    fd = _open(path)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            try:
                return json.loads(path.read_text() or "{}") or {"pid": None, "command": "unknown"}
            except ValueError:
                return {"pid": None, "command": "unknown"}
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def describe(h: dict) -> str:
    return f"{h.get('command', 'unknown')} (pid {h.get('pid')}, since {h.get('since', '?')})"


@contextlib.contextmanager
def measurement_lock(command: str, poll_s: float = 0.2, say=None):
    """Hold the machine's measurement lock for the block; wait (saying for whom, once) while another holds it.

    An interrupt while waiting raises `interrupt.Interrupted`."""
    say = say or (lambda line: print(line, file=sys.stderr, flush=True))
    with _guard:
        if _state["depth"]:
            _state["depth"] += 1
            try:
                yield
            finally:
                _state["depth"] -= 1
            return
        fd = _open(lock_path())
        told = False
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if not told:
                        h = holder()
                        if h:
                            say(f"bench-pipeline: waiting for the measurement lock {lock_path()}, held by "
                                f"{describe(h)}")
                            told = True
                    interrupt.check()
                    time.sleep(poll_s)
        except BaseException:
            os.close(fd)
            raise
        info = {"pid": os.getpid(), "command": command,
                "since": dt.datetime.now().astimezone().isoformat(timespec="seconds")}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(info).encode(), 0)
        _state.update(fd=fd, depth=1)
        try:
            yield
        finally:
            _state.update(fd=None, depth=0)
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)


def this_command() -> str:
    """How the running process was started, for the lock's holder line."""
    argv = [Path(sys.argv[0]).name, *sys.argv[1:]] if sys.argv and sys.argv[0] else ["python"]
    return " ".join(argv)[:200]
