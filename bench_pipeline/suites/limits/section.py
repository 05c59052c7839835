"""Everything the limits section of the report shows, gathered from the store and the datasets in one call."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from bench_pipeline.config.settings import Settings
from bench_pipeline.data.dataset import DatasetError, open_dataset
from bench_pipeline.results.fields import columns
from bench_pipeline.results.store import ResultsStore
from bench_pipeline.suites import ReportInputs, Section, verdict_picture
from bench_pipeline.suites.grid.metrics import build_metrics
from bench_pipeline.suites.grid.section import metrics_of
from bench_pipeline.suites.limits.figures import draw_limits
from bench_pipeline.suites.limits.metrics import (
    CAPABILITY_TITLES,
    Evidence,
    budget_table,
    build_limits_metrics,
    capability_disagreements,
    capability_table,
    decision,
    find_gpu,
    mode_findings,
)
from bench_pipeline.suites.limits.settings import LimitsSettings


@dataclass
class LimitsAnalysis:
    budget_bytes: int
    metrics: dict[str, list[dict]]
    arrow_bytes: dict[int, int]  # sweep rows -> posts size in memory
    budget_rows: list[dict] = field(default_factory=list)
    capabilities: list[Evidence] = field(default_factory=list)
    disagreements: list[str] = field(default_factory=list)
    decision: list[str] = field(default_factory=list)
    modes: list[str] = field(default_factory=list)
    plots: list[Path] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.metrics["metrics_sweep"] or self.metrics["metrics_modes"])


def _open(path: Path):
    try:
        return open_dataset(path)
    except DatasetError:
        return None


def _latest_plans(store: ResultsStore, query: str = "C") -> dict[str, str | None]:
    """engine -> the plan its latest valid run of `query` printed (None for an engine without a planner)."""
    rows = store.query("SELECT engine, arg_max(plan, measured_at) AS plan FROM query_summary "
                       "WHERE query = ? AND status = 'ok' GROUP BY engine", [query])
    return {r["engine"]: r["plan"] for r in rows}


def _cluster_ok(store: ResultsStore) -> dict[str, int]:
    rows = store.query("SELECT engine, max(executors) AS n FROM query_summary "
                       "WHERE suite = 'cluster' AND status = 'ok' GROUP BY engine")
    return {r["engine"]: r["n"] for r in rows if r["n"]}


def analyse(settings: Settings, limits: LimitsSettings, store: ResultsStore, cores: int, draw: bool = True,
            speedup: list[dict] | None = None) -> LimitsAnalysis:
    """speedup: the main grid's metrics_speedup rows when the caller has just built them."""
    budget = limits.sweep_budget_bytes
    sweep_data = {n: ds for n in limits.sweep_rows if (ds := _open(settings.data_dir_for(n))) is not None}
    modes_data = _open(settings.data_dir_for(limits.modes_rows))
    m = build_limits_metrics(store, modes_data.fingerprint() if modes_data else None,
                             [ds.fingerprint() for ds in sweep_data.values()], budget)
    arrow_bytes = {n: ds.posts_arrow_bytes() for n, ds in sweep_data.items()}
    if speedup is None:
        main = _open(settings.data_dir)
        speedup = build_metrics(store, main.fingerprint())["metrics_speedup"] if main else []
    a = LimitsAnalysis(budget, m, arrow_bytes)
    if a.empty:
        return a
    a.budget_rows = budget_table(m["metrics_sweep"], arrow_bytes)
    a.capabilities = capability_table(speedup, m["metrics_sweep"], _latest_plans(store), _cluster_ok(store),
                                      arrow_bytes, budget, cores, find_gpu())
    a.disagreements = capability_disagreements(a.capabilities)
    a.decision = decision(m["metrics_sweep"], arrow_bytes, budget, cores)
    a.modes = mode_findings(m["metrics_modes"])
    if draw:
        a.plots = draw_limits(m, settings.plots_dir, budget)
    return a


MODE_COLUMNS = columns("mode", "query", "status", "median_seconds", "cold_seconds", "cv", "peak_rss_bytes",
                       "dataset_rows", "warm_runs")
BUDGET_COLUMNS = columns("engine", "query", "status", "median_seconds", "peak_rss_bytes", "peak_to_budget", "how",
                         "engine_limits", "message")
SWEEP_COLUMNS = columns("engine", "query", "dataset_rows", "status", "median_seconds", "cold_seconds", "warm_runs",
                        "peak_rss_bytes")


def section(inputs: ReportInputs) -> Section | None:
    """Polars' modes, the budget table, the size sweep, the capability table, the decision boundary."""
    run = inputs.config("limits")
    grid = metrics_of(inputs)
    a = analyse(run.main, run.own, inputs.store, inputs.cores, speedup=grid["metrics_speedup"] if grid else None)
    if a.empty:
        return None
    return Section("limits/report.html.j2", {
        "a": a, "plots": {p.stem: p for p in a.plots}, "picture": verdict_picture(inputs.config("limits"), "limits"),
        "engines": list(dict.fromkeys(e.engine for e in a.capabilities)),
        "capabilities": list(dict.fromkeys(e.capability for e in a.capabilities)),
        "cell": {(e.engine, e.capability): e for e in a.capabilities}, "titles": CAPABILITY_TITLES,
        "mode_columns": MODE_COLUMNS, "budget_columns": BUDGET_COLUMNS, "sweep_columns": SWEEP_COLUMNS,
    })
