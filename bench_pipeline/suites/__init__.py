"""The suites: what a suite is (its descriptor) and which there are (the registry).

A suite is a package `suites/<name>/` with the same parts: `cells.py` (what it
measures and how), `metrics.py`, `figures.py`, `settings.py` (its own settings,
if any), `section.py` + `report.html.j2` (its section of the report), and a
`SUITE` descriptor in its `__init__.py`. The orchestration (`defs/orchestrate.py`),
the CLI and the report read the descriptor; the Dagster layer has one module
per suite (`defs/<name>.py`). Nothing under `suites/` imports Dagster.

Every suite measures with the one instrument (`harness/instrument.py`): its
cells (`CellGroup.spec`) in interleaved rounds under the command's time budget,
processes going to the questions its answer needs (`Suite.questions`), most
important first. A cell materialized alone (the UI, the nightly schedule) is
measured the same way beside the stored cells (`measure_alone`).

Adding a suite: one folder and one entry in `NAMES`.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bench_pipeline.analysis import calibration, stats
from bench_pipeline.analysis.verdict import noise_of
from bench_pipeline.config.settings import Settings, SettingsBase, bench_home
from bench_pipeline.harness import provenance
from bench_pipeline.harness.instrument import fixed, measure_cells, share_deadline
from bench_pipeline.harness.rounds import evaluate
from bench_pipeline.report import fmt
from bench_pipeline.results.fields import columns

if TYPE_CHECKING:
    from bench_pipeline.analysis import stats
    from bench_pipeline.harness.instrument import CellResult, CellSpec
    from bench_pipeline.harness.rounds import Measurement, Question
    from bench_pipeline.results.store import ResultsStore

# Registry: suite name -> its package bench_pipeline.suites.<name>, in report order.
NAMES: tuple[str, ...] = ("grid", "workload", "cluster", "limits", "wars")


@dataclass(frozen=True)
class SuiteConfig:
    """What one run of a suite is measured with: the main settings and the suite's own (None: it has none)."""

    main: Settings
    own: SettingsBase | None = None

    @property
    def time_budget_s(self) -> float:
        """The command's time budget: the suite's own setting where it has one (its own default), else the
        main settings' (the grid's)."""
        own = getattr(self.own, "time_budget_s", None)
        return own if own is not None else self.main.time_budget_s


@dataclass(frozen=True)
class DataStep:
    """Data a suite's cells read, made by a (possibly partitioned) Dagster asset when it is not current."""

    asset: str
    what: str  # for the progress display: "dataset: 5,000,000 rows"
    fingerprint: Callable[[], str | None]  # of the data on disk now; None: not there
    partition: str | None = None


class BuildFailed(RuntimeError):
    """Data or outputs a suite needs could not be built (the failed step's own message): one line, exit 1."""


@dataclass(frozen=True)
class CellGroup:
    """The cells of one partitioned asset that a run asks for.

    `measured_with(key)` is what a fresh measurement of the cell carries: engine
    signature, dataset version, harness version, threads, warm runs, settings.
    The cell asset records it; a cell whose record differs is stale. `spec(key)`
    is how the instrument measures it; `latest_rows(keys)` the latest stored
    measurement of those cells' queries (summary rows, `key` added): what open
    questions are decided against, and what the report's figures show."""

    asset: str
    keys: list[str]
    measured_with: Callable[[str], dict]
    queries: int  # per cell, for the progress display
    spec: Callable[[str], CellSpec]
    latest_rows: Callable[[list[str]], list[dict]]
    label: Callable[[str], str] = str  # how a cell is named in the output (cells run, fresh, failed)
    title: Callable[[str], str] | None = None  # how its questions and pictures name it (default: label)
    estimate: Callable[[str], float | None] = lambda key: None  # seconds, from earlier measurements
    dynamic_partitions: dict[str, list[str]] = field(default_factory=dict)  # to add before measuring

    def titled(self, key: str) -> str:
        return (self.title or self.label)(key)

    def context(self, keys: list[str]) -> list[dict]:
        """The latest stored rows of these cells, as the instrument's context (`group` added)."""
        return [{**r, "group": self.asset} for r in self.latest_rows(keys)] if keys else []


@dataclass(frozen=True)
class Summary:
    """What a suite command prints at its end (and adds to its --json)."""

    rows: list[dict]
    title: str
    notes: tuple[str, ...] = ()
    extra: dict = field(default_factory=dict)
    show: Callable[[], None] | None = None  # prints the table (default: the cells' summary table)
    plots: list[str] | None = None  # the plots to list (default: every plot)


@dataclass
class ReportInputs:
    """What every suite's report section reads: each suite's settings, the store, the machine's cores."""

    config: Callable[[str], SuiteConfig]  # suite name -> the settings it runs with
    store: ResultsStore
    cores: int
    memo: dict = field(default_factory=dict)  # computed once per report, read by several sections (grid metrics)


@dataclass(frozen=True)
class Section:
    """A suite's part of the report: its template (`<suite>/report.html.j2`) and what the template reads as `s`."""

    template: str
    data: dict


@dataclass(frozen=True)
class Suite:
    name: str
    command: str  # the bench-pipeline command that runs it
    help: str
    settings: type[SettingsBase] | None  # its own settings (None: the main settings only)
    options: Callable[[argparse.ArgumentParser], None]  # its command's own options
    config_from_args: Callable[[argparse.Namespace], SuiteConfig]  # raises UsageError (options.py) on a bad choice
    data: Callable[[SuiteConfig], list[DataStep]]
    cells: Callable[[SuiteConfig], list[CellGroup]]  # called once the data is there
    room: Callable[[SuiteConfig], None]  # raises state.StateError when the data still to make would not fit
    title: Callable[[SuiteConfig], str]
    summary: Callable[[SuiteConfig, object], Summary]  # (run, orchestrate.SuiteResult)
    outputs: tuple[str, ...]  # assets materialized after the cells (analysis, plots, report)
    # The questions its answer needs, over the measurements of its groups (the instrument's `ask`).
    questions: Callable[[SuiteConfig, list[Measurement], stats.Noise], list[Question]]
    budget: str  # how its time budget is spent, for its --help
    parents: tuple[str, ...] = ("measure", "budget", "json")  # options.py parent parsers its command takes
    subcommand: bool = True  # False: reached through another suite's command (run --workload)
    # The store's `suite` values of its rows (the store's one mapping from registry names): its own name unless
    # it measures parts that are read apart (limits: `modes`, `sweep`). The history's canary rows are `canary`.
    stored_as: tuple[str, ...] = ()

    @property
    def store_suites(self) -> tuple[str, ...]:
        return self.stored_as or (self.name,)

    @property
    def default_budget_s(self) -> float:
        """Its time budget when none is given: its own settings' default, else the main settings' (the grid's)."""
        fields = (self.settings or Settings).model_fields
        return (fields.get("time_budget_s") or Settings.model_fields["time_budget_s"]).default

    def section(self, inputs: ReportInputs) -> Section | None:
        """Its part of the report (`section` in its `section.py`); None when it has measured nothing yet."""
        return importlib.import_module(f"{__name__}.{self.name}.section").section(inputs)

    @property
    def defs_module(self) -> str:
        """Its Dagster definitions (imported by the Dagster layer only)."""
        return f"bench_pipeline.defs.{self.name}"


def rounds_notes(run: SuiteConfig, outcome) -> tuple[str, ...]:
    """How the rounds ended, for the terminal: how the time was spent, what stayed open and about what would
    decide it, and whether the machine is calibrated (said once)."""
    if outcome is None:
        return ()
    why = {"decided": "every comparison decided", "budget": f"the time budget ({run.time_budget_s:g} s) spent",
           "most processes": "the most processes a side reached, or the comparisons left need more",
           "nothing to measure": "nothing to measure", "interrupted": "an interrupt"}
    ended = why.get(outcome.stopped, outcome.stopped)
    lines = [f"Rounds: round 1 ({outcome.first_round} processes), then {outcome.later} processes, each to the open "
             f"comparison most likely to be decided per second; ended with {ended}.",
             f"Time spent: {outcome.spending()}."]
    if outcome.open:
        lines.append(f"Still open ({len(outcome.open)}): {'; '.join(outcome.open)}.")
        if outcome.more_seconds:
            lines.append(f"About {fmt.minutes(outcome.more_seconds)} more of processes would decide them "
                         f"(a larger --time-budget when these cells are measured again).")
    like = [m.per_process() for m in outcome.measurements if m.engine == calibration.ENGINE and m.seconds]
    if line := calibration.not_calibrated(run.main.home, statistics.median(like) if like else None):
        lines.append(f"Calibration: {line}.")
    return tuple(lines)


def measurements_of(run: SuiteConfig, groups: list[CellGroup]) -> list[Measurement]:
    """Every stored cell of the groups as the instrument's fixed measurements (what the report's picture of the
    verdict is drawn from)."""
    return [fixed(r, g.titled(r["key"])) for g in groups for r in g.context(g.keys)]


def answers(suite: Suite, run: SuiteConfig) -> list[Question]:
    """The suite's questions over its stored cells, answered by the rule (the noise: the machine's prior
    updated by every stored process): what its summary says and its picture of the verdict draws."""
    ms = measurements_of(run, suite.cells(run))
    noise = stats.pooled([m.values for m in ms], calibration.prior(run.main.home)[0])
    return evaluate(suite.questions(run, ms, noise), noise)


def verdict_picture(run: SuiteConfig, name: str):
    """The picture of a verdict drawn last (`draw_verdict`), for the report; None when there is none."""
    path = run.main.plots_dir / f"verdict_{name}.png"
    return path if path.is_file() else None


def draw_verdict(suite: Suite, run: SuiteConfig, name: str | None = None, title: str | None = None):
    """The picture of the suite's verdict (forest.py) from its stored cells, into the plots folder as
    `verdict_<name>.png`; None when nothing is compared yet."""
    from bench_pipeline.report import forest  # keeps matplotlib off the import path
    from bench_pipeline.suites.grid.figures import caption_for  # figures imports this module

    questions = answers(suite, run)
    name = name or suite.name
    title = title or f"{suite.name}: every comparison its answer rests on, decided by the rule"
    caption = caption_for(None, provenance.machine(), None)
    return forest.draw(questions, run.main.plots_dir / f"verdict_{name}.png", title, caption)


def measure_alone(suite: Suite, run: SuiteConfig, asset: str, key: str, store: ResultsStore,
                  dagster_run_id: str | None = None) -> CellResult:
    """One cell materialized on its own (the UI, the nightly schedule): every query once, then more processes
    while its questions with the stored cells are open, within its share of the suite's budget."""
    groups = suite.cells(run)
    group = next(g for g in groups if g.asset == asset)
    cell = (asset, key)
    context = [r for g in groups for r in g.context([k for k in g.keys if (g.asset, k) != cell])]
    labels = {(g.asset, k): g.titled(k) for g in groups for k in g.keys}
    prior, _ = calibration.prior(run.main.home)
    outcome, results = measure_cells(
        {cell: dataclasses.replace(group.spec(key), dagster_run_id=dagster_run_id)}, context, store,
        share_deadline(run.time_budget_s, sum(len(g.keys) for g in groups)), prior,
        lambda ms, noise: suite.questions(run, ms, noise), labels=labels, most_processes=run.main.max_processes,
        whole_first_round=True)
    if outcome.interrupted is not None:
        raise outcome.interrupted
    return results[cell]


_SUMMARY_COLUMNS = ("engine", "threads", "query", "status", "cold_seconds", "median_seconds", "interval",
                    "processes", "warm_runs", "peak_rss_bytes", "startup_seconds", "noise")


def print_summary(summary: list[dict], title: str) -> None:
    """The cells' summary table on the terminal: every suite's (Summary.show's default) and the `cell` command's."""
    noise = noise_of(summary, calibration.prior(bench_home())[0])
    rows = []
    for s in summary:
        interval = stats.level(stats.processes_of(s), noise) if s["status"] == "ok" else None
        rows.append({**s, "threads": f"{s['threads_asked']}" + ("*" if s.get("oversubscribed") else ""),
                     "interval": f"{interval.low:.4f}-{interval.high:.4f}" if interval else None,
                     # rows of a suite's metrics table carry the runs, not their count
                     "warm_runs": s.get("warm_runs", len(s.get("warm_list") or []) or None),
                     "processes": s.get("processes_measured"),
                     "noise": "noisy" if s.get("noisy") else ""})
    fmt.print_rich(rows, columns(*_SUMMARY_COLUMNS), title,
                   caption="* oversubscribed (threads above the cores); noisy: other work used the CPU")


def get(name: str) -> Suite:
    if name not in NAMES:
        raise ValueError(f"unknown suite {name!r}; the suites are {', '.join(NAMES)}")
    return importlib.import_module(f"{__name__}.{name}").SUITE


def all_suites() -> list[Suite]:
    return [get(n) for n in NAMES]

