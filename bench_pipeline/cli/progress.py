"""What a pipeline command shows while it works (rich, on stderr).

Steps that are not measurements (building a dataset, the plots and report) each
get a line. The measurements (every suite: one instrument, harness/rounds.py)
get a bar for round 1 that moves with every process, naming the process in
progress and the time left in the budget; then a line that names the open
comparison being fed, how many are open and the time left.

When stderr is not a terminal (a log file, CI, nohup) nothing is drawn: a plain
line is printed as each step starts, each cell is whole, round 1 ends and the
comparison being fed changes, so a log shows the run as it happens.
"""

from __future__ import annotations

import sys
import time

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from bench_pipeline.harness.rounds import Observer


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
                                 MofNCompleteColumn(), TimeElapsedColumn(), console=self.console, transient=False)
        self._step = None
        self._task = None  # round 1's bar, then the feeding line
        self._what = ""  # what the task's description starts with

    def __enter__(self) -> ProgressDisplay:
        if not self.plain:
            self.progress.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self._finish_step()
        self._finish_task()
        if not self.plain:
            self.progress.__exit__(*exc)

    def say(self, line: str) -> None:
        """A plain line on stderr, now (the log's progress)."""
        print(f"[{time.strftime('%H:%M:%S')}] {line}", file=sys.stderr, flush=True)

    # -- the pipeline's observer -----------------------------------------------------------------
    def step(self, what: str) -> None:
        self._finish_step()
        self._finish_task()
        if self.plain:
            self.say(what)
            return
        self._step = self.progress.add_task(what, total=None)

    # -- the runner's listener -------------------------------------------------------------------
    def on_run(self, row: dict) -> None:
        if self._task is None or self.plain:
            return
        status = "" if row.get("status", "ok") == "ok" else f" {row['status']}"
        self.progress.update(self._task, description=f"{self._what}: {row['engine']}|{row['threads_asked']} "
                                                     f"{row['query']} {row['run_kind']}{status}")

    # -- the rounds' observer (harness.rounds.Observer) ---------------------------------------------
    def rounds_observer(self):
        display = self

        class _Rounds(Observer):
            def round_start(self, todo, open_, seconds_left):
                display._finish_step()
                what = f"round 1: {len(todo)} processes, {_clock(max(seconds_left, 0))} of the budget left"
                display._start(what, len(todo), "round 1")

            def process_done(self, m, rows):
                if not display.plain and display._task is not None:
                    display.progress.advance(display._task, 1)

            def cell_whole(self, name, status):
                if display.plain:
                    display.say(f"cell {name}: every query measured" + ("" if status == "ok" else f" ({status})"))

            def round_end(self, measured, open_, seconds_left):
                shown = "; ".join(open_[:6]) + (f"; and {len(open_) - 6} more" if len(open_) > 6 else "")
                what = (f"round 1 done: {measured} processes; {len(open_)} comparisons open"
                        + (f" ({shown})" if open_ else "") + f"; {_clock(max(seconds_left, 0))} of the budget left")
                if display.plain:
                    display.say(what)
                    return
                display.progress.update(display._task, description=f"round 1 done: {measured} processes, "
                                                                    f"{len(open_)} comparisons open",
                                        total=max(measured, 1), completed=max(measured, 1))
                display._task = None

            def feeding(self, what, category, open_, seconds_left):
                line = (f"{category}: {what}; {open_} comparisons open, {_clock(max(seconds_left, 0))} of the "
                        f"budget left")
                if display.plain or display._task is None:
                    display._start(line, None, f"{category}: {what}")
                else:  # one line for everything after round 1, naming what is fed now
                    display._what = f"{category}: {what}"
                    display.progress.update(display._task, description=line)

            def finished(self, outcome):
                display._finish_task()
                if display.plain and outcome.later:
                    display.say(f"measured: {outcome.spending()}")

        return _Rounds()

    def _start(self, line: str, total: int | None, what: str) -> None:
        self._what = what
        if self.plain:
            self.say(line)
            return
        self._task = self.progress.add_task(line, total=total)

    def _finish_step(self) -> None:
        if self.plain or self._step is None:
            return
        self.progress.update(self._step, total=1, completed=1)
        self._step = None

    def _finish_task(self) -> None:
        if self.plain or self._task is None:
            return
        self.progress.update(self._task, total=1, completed=1)
        self._task = None
