"""The quiet-machine guard: how much CPU the rest of the machine used while a run ran.

The machine's busy CPU time (every core: user, system, irq, steal, ...) minus
what the measured process tree and the runner itself used, over the run's wall
time, in cores. A run during which other work took more than NOISY_CORES of a
core is `noisy`: the runner measures it again (at most NOISY_RETRIES times per
query) and keeps it, flagged, if it stays noisy. CPU time is counted in ticks
of 10 ms, so a run shorter than MIN_WINDOW_S is judged over a window reaching
back over the runs before it. `BENCH_NOISY_RETRIES` changes the re-measures
(the tests set 0, so that what they count does not depend on the machine's load).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

import psutil

NOISY_CORES = 0.25
NOISY_RETRIES = 3
MIN_WINDOW_S = 0.25


def noisy_retries() -> int:
    # keeps pyarrow, pydantic, pydantic_settings off the import path
    from bench_pipeline.config.settings import env_number

    return env_number("BENCH_NOISY_RETRIES", NOISY_RETRIES, int)


def _busy_seconds() -> float:
    t = psutil.cpu_times()
    total = sum(getattr(t, f) for f in t._fields if f not in ("guest", "guest_nice"))  # guests are in user
    return total - t.idle - getattr(t, "iowait", 0.0)


def _cpu_seconds(procs) -> float:
    total = 0.0
    for p in procs:
        try:
            c = p.cpu_times()
            total += c.user + c.system
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            pass
    return total


class NoiseMeter:
    def __init__(self, members: Callable[[], list[psutil.Process]]):
        """members: the measured processes now (the worker's tree, a cluster's JVMs)."""
        self._members = members
        self._me = psutil.Process(os.getpid())
        self._marks: list[tuple[float, float, float]] = []

    def _snapshot(self) -> tuple[float, float, float]:
        return time.monotonic(), _busy_seconds(), _cpu_seconds([self._me, *self._members()])

    def mark(self) -> None:
        """A run starts (or the worker is ready)."""
        self._marks.append(self._snapshot())

    def background_cores(self) -> float | None:
        """CPU the rest of the machine used since the last mark far enough back, in cores (None: too short)."""
        now = self._snapshot()
        base = next((m for m in reversed(self._marks) if now[0] - m[0] >= MIN_WINDOW_S), None)
        if base is None:
            if not self._marks or now[0] - self._marks[0][0] < MIN_WINDOW_S / 2:
                return None
            base = self._marks[0]
        window = now[0] - base[0]
        return max(0.0, ((now[1] - base[1]) - (now[2] - base[2])) / window)
