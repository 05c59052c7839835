"""One query's conversation with its worker, as a state machine: an event in, the reply and the rows out.

The runner (runner.py) owns the process, the pipes and the clock; this object owns every decision: when a run
starts and ends for the memory sampler and the quiet-machine guard, how many warm runs the query gets, which
noisy run is measured again, and what status each run's row ends with. It touches no process, so scripted event
sequences with a fake sampler test it in-process (bench_pipeline_tests/harness/test_query_loop.py).
"""

from __future__ import annotations

import json
import os
import statistics
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from bench_pipeline.analysis import stats
from bench_pipeline.harness import protocol as p
from bench_pipeline.harness.noise import NOISY_CORES, noisy_retries
from bench_pipeline.report.fmt import MiB

DEFAULT_REPEATS = 3
STARTUP_TIMEOUT_S = 300.0


@dataclass(frozen=True)
class Repetitions:
    """How many warm runs a query gets.

    At least `min_warm` when they fit in `budget_s` seconds of warm runs (and
    never fewer than 1); then more, up to `max_warm`, until the 95 % interval of
    the typical time lies within `precision` of it (stats.typical) or the budget
    is spent. `max_warm` None: exactly `min_warm` runs, whatever they cost (the
    `query` command's default, and tests that count rows). Noisy runs are
    measured again on top (noise.py) and do not count here."""

    min_warm: int = DEFAULT_REPEATS
    max_warm: int | None = None
    precision: float = 0.05
    budget_s: float = 30.0

    def more(self, warm: list[float], spent: float, estimate: float) -> bool:
        """warm: the kept warm times so far; spent: seconds of every warm run; estimate: the next run's."""
        n = len(warm)
        if self.max_warm is None:
            return n < self.min_warm
        if n >= max(self.max_warm, self.min_warm):
            return False
        if n == 0:
            return True  # never fewer than one warm run
        fits = spent + estimate <= self.budget_s
        if n < self.min_warm:
            return n == 0 or fits
        interval = stats.typical(warm)
        return fits and (interval is None or interval.relative_half_width > self.precision)

    @property
    def most_runs(self) -> int:
        """Cold + warm + noisy re-runs: the worker's own bound."""
        return 1 + max(self.max_warm or 0, self.min_warm) + noisy_retries()


class Sampler(Protocol):
    """What the loop asks of the memory sampler (harness.sampler.TreeSampler)."""

    over_budget: bool
    window_processes: int | None

    def start_window(self) -> int: ...

    def end_window(self) -> int: ...


class Noise(Protocol):
    """What the loop asks of the quiet-machine guard (harness.noise.NoiseMeter)."""

    def mark(self) -> None: ...

    def background_cores(self) -> float | None: ...


@dataclass
class Step:
    """The loop's answer to one event: the reply for the worker (a protocol word, `kill`, or None: nothing) and the
    run's row when this event made it final (for the listeners)."""

    reply: str | None = None
    row: dict | None = None


class QueryLoop:
    def __init__(self, base: dict, repetitions: Repetitions, timeout_s: float, sampler: Sampler, noise: Noise,
                 budget_bytes: int | None = None, retries: int | None = None,
                 load: Callable[[], float] = lambda: os.getloadavg()[0]):
        """base: the columns every row of the query shares; retries: noisy warm runs measured again at most
        (None: the setting); load: the machine's load average now (a column of every run)."""
        self.base, self.reps, self.timeout_s, self.budget_bytes = base, repetitions, timeout_s, budget_bytes
        self.sampler, self.noise, self._load = sampler, noise, load
        self.most_retries = noisy_retries() if retries is None else retries
        self.deadline = STARTUP_TIMEOUT_S  # seconds the runner waits for the next event
        self.rows: list[dict] = []
        self.ready: dict = {}
        self.plan: str | None = None
        self.failure: tuple[str, str] | None = None  # (status, message) of the run that failed
        self.done = False
        self._current: dict | None = None
        self._warm: list[float] = []  # kept warm times
        self._spent = 0.0  # seconds of every warm run, noisy ones too
        self._retries = 0

    @property
    def finished(self) -> bool:
        return self.done or self.failure is not None

    def on_event(self, ev: dict) -> Step:
        kind = ev["event"]
        handler = {p.READY: self._ready, p.RUN_START: self._run_start, p.RUN_END: self._run_end,
                   p.CHECKS: self._checks, p.DONE: self._done, p.ERROR: self._error, p.TIMEOUT: self._timeout,
                   p.EOF: self._eof}.get(kind)
        if handler is None:
            return Step()  # an event this runner does not know: ignored, the deadline still holds
        step = handler(ev)
        if self.failure is not None and self._current is not None:
            # The run under way fails with the query; its row is final now.
            self._current.update(status=self.failure[0], message=self.failure[1], seconds=None,
                                 peak_rss_bytes=self.sampler.end_window(),
                                 processes=self.sampler.window_processes)
            step.row, self._current = self._current, None
            self.rows.append(step.row)
        return step

    def _ready(self, ev: dict) -> Step:
        self.ready = ev
        self.noise.mark()
        return Step(p.GO)

    def _run_start(self, ev: dict) -> Step:
        i = ev["i"]
        self._current = {**self.base, "run_index": i, "run_kind": "cold" if i == 0 else "warm",
                         "baseline_rss_bytes": self.sampler.start_window()}
        self.deadline = self.timeout_s
        self.noise.mark()
        return Step(p.GO)

    def _run_end(self, ev: dict) -> Step:
        row, seconds = self._current, ev["seconds"]
        background = self.noise.background_cores()
        noisy = background is not None and background > NOISY_CORES
        row.update(seconds=seconds, peak_rss_bytes=self.sampler.end_window(),
                   processes=self.sampler.window_processes, status="ok", message=None,
                   background_cores=background, load_avg=self._load(), noisy=noisy, kept=True)
        warm, reps = self._warm, self.reps
        if row["run_kind"] == "warm":
            self._spent += seconds
            estimate = statistics.median(warm) if warm else seconds
            # A noisy run is set aside only when another run will replace it; else kept, flagged.
            if noisy and self._retries < self.most_retries and reps.more(warm, self._spent, estimate):
                row["kept"] = False  # stored, never counted
                self._retries += 1
            else:
                warm.append(seconds)
        more = reps.more(warm, self._spent, statistics.median(warm) if warm else seconds)
        self.rows.append(row)
        self._current = None
        self.deadline = self.timeout_s  # conversion and clean-up between runs are untimed but bounded
        return Step(p.MORE if more else p.STOP, row)

    def _checks(self, ev: dict) -> Step:
        if self.rows and self.rows[-1]["run_index"] == ev["i"]:
            self.rows[-1]["checks"] = json.dumps(ev["checks"], sort_keys=True)
        return Step()

    def _done(self, ev: dict) -> Step:
        self.plan = ev.get("plan")
        self.done = True
        return Step()

    def _error(self, ev: dict) -> Step:
        # `unsupported`: the engine rejected the query's text (parse, plan), not a runtime error.
        self.failure = (ev.get("status", "error"), f"{ev['stage']}: {ev['message']}")
        return Step()

    def _timeout(self, ev: dict) -> Step:
        what = "start-up" if not self.ready else "query run"
        self.failure = ("timeout", f"{what} exceeded {self.deadline:g} s")
        return Step(p.KILL)

    def _eof(self, ev: dict) -> Step:
        """The worker's stdout closed before `done`; ev carries its `returncode` and the tail of its `stderr`."""
        if self.sampler.over_budget:
            self.failure = ("oom", f"process tree exceeded the memory budget of {self.budget_bytes / MiB:.0f} MiB")
        else:
            self.failure = ("error", f"worker exited with code {ev.get('returncode')}: {ev.get('stderr', '')}")
        return Step()

    def result(self) -> tuple[list[dict], dict | None]:
        """The query's rows once the conversation is over, and the row made here (a query that failed before any
        run began), which no listener has seen yet. Runs that finished before a failure were never validated:
        they carry the failure too, so no unchecked time is ever counted as ok."""
        made = None
        if self.failure and not self.rows:
            made = {**self.base, "run_index": 0, "run_kind": "cold", "status": self.failure[0],
                    "message": self.failure[1]}
            self.rows.append(made)
        elif self.failure:
            for r in self.rows:
                if r["status"] == "ok":
                    r.update(status=self.failure[0], message=f"not validated, the query ended with: {self.failure[1]}")
        for r in self.rows:
            r["startup_seconds"] = self.ready.get("startup_s")
            r["threads_verified"] = self.ready.get("threads_verified")
            r["engine_limits"] = self.ready.get("limits")
            if self.ready.get("version"):
                r["engine_version"] = self.ready["version"]
        if self.failure is None:
            self.rows[0]["plan"] = self.plan
        return self.rows, made
