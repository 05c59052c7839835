"""Ctrl-C and SIGTERM as one clean stop: the running workers die at once, their rows never reach the store.

The CLI's signal handler calls `request()`: it records why, and kills the
process tree of every worker the runner has registered with `tracking`. The
runner sees its worker end and raises `Interrupted` instead of turning the
killed runs into rows (a killed run is not a measurement). Code that loops over
cells calls `check()` between them.
"""

from __future__ import annotations

import contextlib
import threading

from bench_pipeline.harness.sampler import kill_tree


class Interrupted(Exception):
    """The user (Ctrl-C) or the system (SIGTERM) asked the measurement to stop."""


_event = threading.Event()
_reason: list[str] = []
_lock = threading.RLock()  # request() runs in a signal handler, which a second signal may re-enter
_active: set[int] = set()  # pids of running workers (roots of their process trees)


def request(reason: str) -> None:
    if not _event.is_set():
        _reason[:] = [reason]
    _event.set()
    with _lock:
        pids = list(_active)
    for pid in pids:
        kill_tree(pid)


def requested() -> bool:
    return _event.is_set()


def reason() -> str:
    return _reason[0] if _reason else "interrupted"


def check() -> None:
    if _event.is_set():
        raise Interrupted()


def reset() -> None:
    """Forget an earlier request (tests run several commands in one process)."""
    with _lock:
        _event.clear()
        _reason.clear()


@contextlib.contextmanager
def tracking(pid: int):
    """Register a running worker, so that an interrupt kills it; an interrupt already asked kills it at once."""
    with _lock:
        _active.add(pid)
        late = _event.is_set()
    if late:
        kill_tree(pid)
    try:
        yield
    finally:
        with _lock:
            _active.discard(pid)
