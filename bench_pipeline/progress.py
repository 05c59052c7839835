"""What a pipeline command shows while it works (rich, on stderr).

Steps that are not cells (building a dataset, the plots and report) each get a
line; each measured cell gets a bar that moves with every query, its
description naming the run in progress (`B warm 3`); a line above them counts
the cells and estimates the time left from the seconds the same cells took when
they were last measured (and, for the others, from the cells done so far).
Interleaved rounds (the grid) get a bar per round that moves with every
process, naming the process in progress, the comparisons still open and the
time left in the budget.

When stderr is not a terminal (a log file, CI, nohup) nothing is drawn: a plain
line is printed as each step starts, each cell ends and each round ends, so a
log shows the run as it happens.
"""

from __future__ import annotations

import sys
import time

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn


def _clock(seconds: float) -> str:
    m, s = divmod(int(seconds), 60)
    h, m = divmod(m, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class ProgressDisplay:
    """What a pipeline command shows: it plays orchestrate.Observer's part (orchestrate.observing), gives the rounds a
    harness.rounds.Observer (rounds_observer) and is the runner's listener (harness.runner.listening, on_run)."""

    def __init__(self, console: Console | None = None):
        self.console = console or Console(stderr=True)
        self.plain = not self.console.is_terminal  # plain lines, as they happen
        self.progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                                 MofNCompleteColumn(), TimeElapsedColumn(), TextColumn("{task.fields[eta]}"),
                                 console=self.console, transient=False)
        self._step = None
        self._overall = None
        self._cell = None  # (task, name, queries)
        self._query: str | None = None
        self._names: list[str] = []
        self._estimates: dict[str, float] = {}
        self._done: dict[str, float] = {}  # cell -> seconds it took
        self._started = 0.0

        self._round = None  # (task, number, started)

    def __enter__(self) -> ProgressDisplay:
        if not self.plain:
            self.progress.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self._finish_cell()
        self._finish_step()
        if not self.plain:
            self.progress.__exit__(*exc)

    def say(self, line: str) -> None:
        """A plain line on stderr, now (the log's progress)."""
        print(f"[{time.strftime('%H:%M:%S')}] {line}", file=sys.stderr, flush=True)

    # -- the pipeline's observer -----------------------------------------------------------------
    def step(self, what: str) -> None:
        self._finish_cell()
        self._finish_step()
        if self.plain:
            self.say(what)
            return
        self._step = self.progress.add_task(what, total=None, eta="")

    def cells(self, names: list[str], estimates: dict[str, float]) -> None:
        self._finish_cell()  # the last cell of an earlier batch (cluster, limits, wars measure several)
        self._finish_step()
        if not names:
            return
        self._names, self._estimates, self._done = list(names), dict(estimates), {}
        if self.plain:
            self.say(f"{len(names)} stale cells: {', '.join(names)}")
            return
        self._overall = self.progress.add_task(f"{len(names)} stale cells", total=len(names), eta=self._eta())

    def cell_start(self, name: str, reason: str, queries: int) -> None:
        self._finish_cell()
        self._finish_step()
        if self.plain:
            self._cell, self._query, self._started = (None, name, queries), None, time.monotonic()
            self.say(f"cell {name} ({reason}): {queries} queries")
            return
        task = self.progress.add_task(f"cell {name:<18} ({reason[:36]})", total=queries, eta="")
        self._cell, self._query, self._started = (task, name, queries), None, time.monotonic()
        self._update_eta()

    # -- the runner's listener -------------------------------------------------------------------
    def on_run(self, row: dict) -> None:
        if self._round is not None and not self.plain:
            task, n, _ = self._round
            status = "" if row.get("status", "ok") == "ok" else f" {row['status']}"
            self.progress.update(task, description=f"round {n}: {row['engine']}|{row['threads_asked']} "
                                                   f"{row['query']} {row['run_kind']}{status}")
            return
        if self._cell is None or self.plain:
            return
        task, name, _ = self._cell
        if self._query is not None and row["query"] != self._query:
            self.progress.advance(task, 1)
        self._query = row["query"]
        status = "" if row.get("status", "ok") == "ok" else f" {row['status']}"
        noisy = " noisy" if row.get("noisy") else ""
        self.progress.update(task, description=f"cell {name:<18} {row['query']} {row['run_kind']} "
                                               f"{row['run_index']}{status}{noisy}")
        self._update_eta()

    # -- bookkeeping -----------------------------------------------------------------------------
    # -- the rounds' observer (harness.rounds.Observer) ---------------------------------------------
    def rounds_observer(self):
        from bench_pipeline.harness.rounds import Observer

        display = self

        class _Rounds(Observer):
            def round_start(self, n, todo, open_, seconds_left):
                display._finish_step()
                what = (f"round {n}: {len(todo)} processes, {open_} comparisons open, "
                        f"{_clock(max(seconds_left, 0))} of the budget left")
                if display.plain:
                    display.say(what)
                    return
                task = display.progress.add_task(what, total=len(todo), eta="")
                display._round = (task, n, time.monotonic())

            def process_done(self, m, rows):
                if display.plain or display._round is None:
                    return
                display.progress.advance(display._round[0], 1)

            def cell_whole(self, key, status):
                if display.plain:
                    display.say(f"cell {key}: every query measured" + ("" if status == "ok" else f" ({status})"))

            def round_end(self, n, measured, open_, seconds_left):
                shown = "; ".join(open_[:6]) + (f"; and {len(open_) - 6} more" if len(open_) > 6 else "")
                what = (f"round {n} done: {measured} processes; {len(open_)} comparisons open"
                        + (f" ({shown})" if open_ else "") + f"; {_clock(max(seconds_left, 0))} of the budget left")
                if display.plain:
                    display.say(what)
                    return
                task, _, _ = display._round
                display.progress.update(task, description=f"round {n} done: {measured} processes, "
                                                          f"{len(open_)} comparisons open",
                                        total=max(measured, 1), completed=max(measured, 1))
                display._round = None

        return _Rounds()

    def _finish_step(self) -> None:
        if self.plain:
            return
        if self._step is not None:
            self.progress.update(self._step, total=1, completed=1)
            self._step = None

    def _finish_cell(self) -> None:
        if self._cell is None:
            return
        task, name, queries = self._cell
        if self.plain:
            self._done[name] = time.monotonic() - self._started
            self._cell = None
            self.say(f"cell {name} done in {_clock(self._done[name])} ({len(self._done)} of {len(self._names)})")
            return
        self.progress.update(task, completed=queries)
        self._done[name] = time.monotonic() - self._started
        self._cell = None
        if self._overall is not None:
            self.progress.advance(self._overall, 1)
            self._update_eta()

    def _eta(self) -> str:
        """About how long the cells not done yet take, from their last measurement or the cells done so far."""
        left = [n for n in self._names if n not in self._done]
        if not left:
            return ""
        current = self._cell[1] if self._cell else None
        typical = (sum(self._done.values()) / len(self._done)) if self._done else None
        total = 0.0
        for n in left:
            guess = self._estimates.get(n, typical)
            if guess is None:
                return "time left: unknown until a cell is done"
            if n == current:
                guess = max(guess - (time.monotonic() - self._started), 0.0)
            total += guess
        return f"about {_clock(total)} left"

    def _update_eta(self) -> None:
        if self._overall is not None and not self.plain:
            self.progress.update(self._overall, eta=self._eta())
