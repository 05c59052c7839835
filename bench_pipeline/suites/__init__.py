"""The suites: what a suite is (its descriptor) and which there are (the registry).

A suite is a package `suites/<name>/` with the same parts: `cells.py` (what it
measures and how), `metrics.py`, `figures.py`, `settings.py` (its own settings,
if any), `report.py` + `report.html.j2` (its section of the report), and a
`SUITE` descriptor in its `__init__.py`. The orchestration (`defs/orchestrate.py`),
the CLI and the report read the descriptor; the Dagster layer has one module
per suite (`defs/<name>.py`). Nothing under `suites/` imports Dagster.

Adding a suite: one folder and one entry in `NAMES`.
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bench_pipeline.settings import BenchSettingsBase, Settings

if TYPE_CHECKING:
    from bench_pipeline.store import ResultsStore

# Registry: suite name -> its package bench_pipeline.suites.<name>, in report order.
NAMES: tuple[str, ...] = ("grid", "workload", "cluster", "limits", "wars")


@dataclass(frozen=True)
class SuiteRun:
    """What one run of a suite is measured with: the main settings and the suite's own (None: it has none)."""

    main: Settings
    own: BenchSettingsBase | None = None


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
    The cell asset records it; a cell whose record differs is stale."""

    asset: str
    keys: list[str]
    measured_with: Callable[[str], dict]
    queries: int  # per cell, for the progress display
    label: Callable[[str], str] = str  # how a cell is named in the output
    estimate: Callable[[str], float | None] = lambda key: None  # seconds, from earlier measurements
    dynamic_partitions: dict[str, list[str]] = field(default_factory=dict)  # to add before measuring
    # Set for cells measured in interleaved rounds under the run's time budget (harness/rounds.py): key -> the
    # cell's runner.CellSpec, and fresh cells' keys -> their latest summary rows (what the open comparisons
    # are decided against). None: each stale cell is measured on its own, one run per cell.
    spec: Callable[[str], object] | None = None
    latest_rows: Callable[[list[str]], list[dict]] | None = None


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
    """What every suite's report section reads: its run's settings, the store, the machine's cores."""

    run: Callable[[str], SuiteRun]  # suite name -> the settings it runs with
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
    settings: type[BenchSettingsBase] | None  # its own settings (None: the main settings only)
    options: Callable[[argparse.ArgumentParser], None]  # its command's own options
    run_from_args: Callable[[argparse.Namespace], SuiteRun]  # raises UsageError (options.py) on a bad choice
    data: Callable[[SuiteRun], list[DataStep]]
    cells: Callable[[SuiteRun], list[CellGroup]]  # called once the data is there
    room: Callable[[SuiteRun], None]  # raises state.StateError when the data still to make would not fit
    title: Callable[[SuiteRun], str]
    summary: Callable[[SuiteRun, object], Summary]  # (run, orchestrate.SuiteResult)
    outputs: tuple[str, ...]  # assets materialized after the cells (analysis, plots, report)
    parents: tuple[str, ...] = ("measure", "json")  # options.py parent parsers its command takes
    subcommand: bool = True  # False: reached through another suite's command (run --workload)
    # The store's `suite` values of its rows (the store's one mapping from registry names): its own name unless
    # it measures parts that are read apart (limits: `modes`, `sweep`). The history's canary rows are `canary`.
    stored_as: tuple[str, ...] = ()

    @property
    def store_suites(self) -> tuple[str, ...]:
        return self.stored_as or (self.name,)

    def section(self, inputs: ReportInputs) -> Section | None:
        """Its part of the report (`section` in its `report.py`); None when it has measured nothing yet."""
        return importlib.import_module(f"{__name__}.{self.name}.report").section(inputs)

    @property
    def defs_module(self) -> str:
        """Its Dagster definitions (imported by the Dagster layer only)."""
        return f"bench_pipeline.defs.{self.name}"


def get(name: str) -> Suite:
    if name not in NAMES:
        raise ValueError(f"unknown suite {name!r}; the suites are {', '.join(NAMES)}")
    return importlib.import_module(f"{__name__}.{name}").SUITE


def all_suites() -> list[Suite]:
    return [get(n) for n in NAMES]

