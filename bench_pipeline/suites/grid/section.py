"""The grid's section of the report: the verdict, the queries, the dataset, the figures and every cell."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from bench_pipeline.analysis.verdict import TABLE_COLUMNS, rule
from bench_pipeline.data.dataset import Dataset, DatasetError, open_dataset
from bench_pipeline.results.fields import columns
from bench_pipeline.suites import ReportInputs, Section, verdict_picture
from bench_pipeline.suites.grid import grid_verdict
from bench_pipeline.suites.grid.figures import PREFIXES
from bench_pipeline.suites.grid.metrics import build_metrics
from bench_pipeline.workloads.social.catalogue import QUERIES

SPEEDUP_COLUMNS = columns("engine", "query", "threads_label", "status", "median_seconds", "speedup", "speedup_low",
                          "speedup_high", "efficiency", "flags")
LOAD_COLUMNS = columns("engine", "threads_label", "load_seconds", "queries_seconds", "valid_queries")
CELL_COLUMNS = columns("engine", "threads_label", "threads_verified", "query", "status", "cold_seconds",
                       "median_seconds", ("ci_low", "95 % low (processes)"), "ci_high", "min_seconds", "max_seconds",
                       "processes_measured", "warm_runs", "cv", "noisy_label", "peak_rss_bytes", "startup_seconds",
                       "message")


def dataset_of(inputs: ReportInputs) -> Dataset | None:
    """The main dataset (read once per report), or None when there is none yet."""
    if "dataset" not in inputs.memo:
        try:
            inputs.memo["dataset"] = open_dataset(inputs.config("grid").main.data_dir)
        except DatasetError:
            inputs.memo["dataset"] = None
    return inputs.memo["dataset"]


def metrics_of(inputs: ReportInputs) -> dict[str, list[dict]] | None:
    """The grid's metrics of the main dataset (built once per report), or None when no cell is measured."""
    if "grid" not in inputs.memo:
        ds = dataset_of(inputs)
        m = build_metrics(inputs.store, ds.fingerprint()) if ds is not None else None
        inputs.memo["grid"] = m if m and m["metrics_latest"] else None
    return inputs.memo["grid"]


def _plot_order(path: Path) -> tuple:
    """Per query: speedup, then time, then memory."""
    kind, _, query = path.stem.partition("_")
    return query, {"speedup": 0, "time": 1, "memory": 2}.get(kind, 3), path.name


def section(inputs: ReportInputs) -> Section | None:
    m = metrics_of(inputs)
    if m is None:
        return None
    s, ds = inputs.config("grid").main, dataset_of(inputs)
    latest = m["metrics_latest"]
    for table, key in (("metrics_latest", "threads_asked"), ("metrics_speedup", "threads"),
                       ("metrics_load_vs_query", "threads")):
        for r in m[table]:
            r["threads_label"] = f"{r[key]}" + (" (oversubscribed)" if r[key] > inputs.cores else "")
    for r in latest:
        r["noisy_label"] = "noisy" if r.get("noisy") else ""
    for r in m["metrics_speedup"]:
        r["flags"] = ", ".join(f for f, on in (("suspect: above ideal", r.get("suspect")), ("noisy", r.get("noisy")))
                               if on)
    plots = sorted((p for p in s.plots_dir.glob("*.png") if p.name.startswith(PREFIXES)), key=_plot_order)
    return Section("grid/report.html.j2", {
        "statuses": sorted(Counter(r["status"] for r in latest).items()),
        "verdict": (verdict := grid_verdict(s, latest, inputs.cores, ds.posts_rows())),
        "verdict_table": verdict.table(), "verdict_columns": TABLE_COLUMNS,
        "rule": rule(verdict.noise),
        "queries": QUERIES,
        "measured_queries": {r["query"] for r in latest},
        "dataset": {"path": str(ds.root), "rows": ds.posts_rows(), "fingerprint": ds.fingerprint()},
        "versions": [{"engine": e, "version": v} for e, v in sorted({(r["engine"], r["engine_version"])
                                                                      for r in latest})],
        "plots": plots, "metrics": m, "picture": verdict_picture(inputs.config("grid"), "grid"),
        "speedup_columns": SPEEDUP_COLUMNS, "load_columns": LOAD_COLUMNS, "cell_columns": CELL_COLUMNS,
    })
