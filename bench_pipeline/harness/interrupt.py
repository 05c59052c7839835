"""Ctrl-C and SIGTERM as one clean stop: the running workers die at once, their rows never reach the store.

The CLI's signal handler calls `request()`: it records why, and kills the
process tree of every worker the runner has registered with `tracking`. The
runner sees its worker end and raises `Interrupted` instead of turning the
killed runs into rows (a killed run is not a measurement). Code that loops over
cells calls `check()` between them.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable
from typing import TypeVar

from bench_pipeline.harness.sampler import kill_tree


class Interrupted(Exception):
    """The user (Ctrl-C) or the system (SIGTERM) asked the measurement to stop."""


T = TypeVar("T")

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


class Stopped(Exception):
    """An interrupt stopped a pipeline command: says what was being measured."""


# Seconds a stopped command waits for its cell to wind down (workers killed, a cluster stopped).
STOP_GRACE_S = 30.0


def interruptible(work: Callable[[], T], hard_stop: Callable[[], None]) -> T:
    """work() in a thread, with SIGINT and SIGTERM turned into a clean stop.

    Dagster captures interrupts only in the main thread; here the main thread
    keeps them: a signal kills the running workers at once (`request`), the
    cell step then fails without writing rows and the pipeline raises
    `Interrupted` between cells. A second signal, or a step that does not end
    within the grace time (a wait for a pool slot), calls `hard_stop`, which
    marks this process's runs failed and exits at once."""
    box: dict = {}

    def target():
        try:
            box["result"] = work()
        except BaseException as exc:  # noqa: BLE001 - re-raised in the main thread
            box["error"] = exc

    def on_signal(signum, _frame):
        if requested():
            hard_stop()
        request(signal.Signals(signum).name)

    thread = threading.Thread(target=target, name="bench-pipeline", daemon=True)
    old = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        thread.start()
        while thread.is_alive():
            thread.join(0.2)
            if requested():
                thread.join(STOP_GRACE_S)
                if thread.is_alive():
                    hard_stop()
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)
    if requested():
        error = box.get("error")
        raise Stopped(f"interrupted ({reason()})" + (f" {error}" if isinstance(error, Interrupted) and str(error)
                                                      else ""))
    if "error" in box:
        raise box["error"]
    return box["result"]


def terminate_as_interrupt(_signum, _frame):
    """A SIGTERM handler: `cell`, `query` and the other one-shot commands stop on it as on Ctrl-C."""
    raise KeyboardInterrupt
