"""What a pipeline command shows while it works (rich, on stderr).

Steps that are not cells (building a dataset, the plots and report) each get a
line; each measured cell gets a bar that moves with every query, its
description naming the run in progress (`B warm 3`); a line above them counts
the cells and estimates the time left from the seconds the same cells took when
they were last measured (and, for the others, from the cells done so far).
"""

from __future__ import annotations

import time

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn


def _clock(seconds: float) -> str:
    m, s = divmod(int(seconds), 60)
    h, m = divmod(m, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class ProgressDisplay:
    """The pipeline's observer (assets.pipeline.Observer) and the runner's listener (harness.runner.listening)."""

    def __init__(self, console: Console | None = None):
        self.console = console or Console(stderr=True)
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

    def __enter__(self) -> ProgressDisplay:
        self.progress.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self._finish_cell()
        self._finish_step()
        self.progress.__exit__(*exc)

    # -- the pipeline's observer -----------------------------------------------------------------
    def step(self, what: str) -> None:
        self._finish_cell()
        self._finish_step()
        self._step = self.progress.add_task(what, total=None, eta="")

    def cells(self, names: list[str], estimates: dict[str, float]) -> None:
        self._finish_cell()  # the last cell of an earlier batch (cluster, limits, wars measure several)
        self._finish_step()
        if not names:
            return
        self._names, self._estimates, self._done = list(names), dict(estimates), {}
        self._overall = self.progress.add_task(f"{len(names)} stale cells", total=len(names), eta=self._eta())

    def cell_start(self, name: str, reason: str, queries: int) -> None:
        self._finish_cell()
        self._finish_step()
        task = self.progress.add_task(f"cell {name:<18} ({reason[:36]})", total=queries, eta="")
        self._cell, self._query, self._started = (task, name, queries), None, time.monotonic()
        self._update_eta()

    # -- the runner's listener -------------------------------------------------------------------
    def on_run(self, row: dict) -> None:
        if self._cell is None:
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
    def _finish_step(self) -> None:
        if self._step is not None:
            self.progress.update(self._step, total=1, completed=1)
            self._step = None

    def _finish_cell(self) -> None:
        if self._cell is None:
            return
        task, name, queries = self._cell
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
        if self._overall is not None:
            self.progress.update(self._overall, eta=self._eta())
