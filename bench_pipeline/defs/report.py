"""What people read: metrics tables, speedup plots, the HTML report.

They depend on `benchmark_cells` through `deps`, not IO-manager inputs, and
read the results store: so they draw from whatever cells exist, and a missing
partition is marked, not fatal.
"""


import base64

import dagster as dg

from bench_pipeline.dataset import DatasetError, open_dataset
from bench_pipeline.defs.grid import benchmark_cells, dataset
from bench_pipeline.defs.resources import BenchSettings
from bench_pipeline.defs.wars import wars_summary
from bench_pipeline.harness import provenance
from bench_pipeline.report import write_report
from bench_pipeline.suites.cluster.metrics import build_cluster_metrics, findings
from bench_pipeline.suites.grid.figures import caption_for, draw_all
from bench_pipeline.suites.grid.metrics import build_metrics
from bench_pipeline.suites.limits.report import analyse
from bench_pipeline.suites.limits.settings import LimitsSettings
from bench_pipeline.verdict import build_verdict, verdict_rows

# Refresh when cells land, without waiting for every partition to exist.
_AFTER_UPSTREAM = dg.AutomationCondition.eager().without(~dg.AutomationCondition.any_deps_missing())


def _metrics_for(bench: BenchSettings) -> tuple[dict, dict]:
    s = bench.settings()
    try:
        ds = open_dataset(s.data_dir)
    except DatasetError as exc:
        raise dg.Failure(f"no dataset to report on ({exc}); run `bench-pipeline run` first") from None
    metrics = build_metrics(bench.store(), ds.fingerprint())
    if not metrics["metrics_latest"]:
        raise dg.Failure(f"no benchmark cells measured yet for {ds.root}; materialize benchmark_cells first")
    return metrics, {"path": str(ds.root), "rows": ds.posts_rows(), "fingerprint": ds.fingerprint()}


def _md_table(rows: list[dict], cols: list[str]) -> str:
    def fmt(v):
        return "-" if v is None else (f"{v:.4g}" if isinstance(v, float) else str(v))

    head = "| " + " | ".join(cols) + " |\n|" + "---|" * len(cols)
    return head + "".join("\n| " + " | ".join(fmt(r.get(c)) for c in cols) + " |" for r in rows)


@dg.asset(group_name="analysis", deps=[benchmark_cells, dataset], automation_condition=_AFTER_UPSTREAM,
          description="Latest measurement per cell, speedup and efficiency, load vs query time (results store).")
def metrics(bench: BenchSettings) -> dg.MaterializeResult:
    m, ds = _metrics_for(bench)
    s = bench.settings()
    verdict = build_verdict(verdict_rows(m["metrics_latest"], s.engines, s.threads), provenance.logical_cores(),
                            ds["rows"])
    return dg.MaterializeResult(metadata={
        "verdict": dg.MetadataValue.md("\n".join(f"- {line}" for line in verdict.recommendation + verdict.caveats)),
        "speedup": dg.MetadataValue.md(_md_table(
            m["metrics_speedup"], ["engine", "query", "threads", "status", "median_seconds", "speedup",
                                   "speedup_low", "speedup_high", "efficiency", "suspect", "noisy"])),
        "noisy_cells": len({(r["engine"], r["threads_asked"]) for r in m["metrics_latest"] if r.get("noisy")}),
        "load_vs_query": dg.MetadataValue.md(_md_table(
            m["metrics_load_vs_query"], ["engine", "threads", "load_seconds", "queries_seconds"])),
        "cells": len({(r["engine"], r["threads_asked"]) for r in m["metrics_latest"]}),
        "dataset": ds["path"],
    })


@dg.asset(group_name="analysis", deps=[metrics], automation_condition=_AFTER_UPSTREAM,
          description="Speedup vs threads per query (ideal line, oversubscribed region), time and memory bars.")
def speedup_plots(bench: BenchSettings) -> dg.MaterializeResult:
    s = bench.settings()
    m, ds = _metrics_for(bench)
    drawn = [r.get("measured_at") for r in m["metrics_latest"]
             if r["engine"] in s.engines and r["threads_asked"] in s.threads]
    caption = caption_for(ds["rows"], provenance.machine(), drawn)
    paths = draw_all(m, s.plots_dir, s.engines, s.threads, provenance.logical_cores(), caption=caption)
    shown = [p for p in paths if p.name.startswith("speedup_")]
    md = "\n\n".join(f"![{p.stem}](data:image/png;base64,{base64.b64encode(p.read_bytes()).decode()})"
                     for p in shown)
    return dg.MaterializeResult(metadata={
        "plots": dg.MetadataValue.md(md),
        "files": dg.MetadataValue.json([str(p) for p in paths]),
        "folder": dg.MetadataValue.path(str(s.plots_dir)),
    })


def _wars_for(bench: BenchSettings) -> tuple[list[dict], dict | None]:
    """The suite's latest rows and its data's parameters, or nothing when the suite has not run."""
    from bench_pipeline.suites.wars import latest

    rows, data = latest(bench.run("wars"), bench.store())
    return (rows, {"path": str(data.root), **data.params()}) if data is not None else ([], None)


_NO_METRICS = {"metrics_latest": [], "metrics_speedup": [], "metrics_load_vs_query": []}


@dg.asset(group_name="analysis", deps=[speedup_plots, wars_summary], automation_condition=_AFTER_UPSTREAM,
          description="One self-contained HTML report (plots inline, tables, machine, versions, statuses).")
def benchmark_report(bench: BenchSettings) -> dg.MaterializeResult:
    from bench_pipeline.suites.wars.cells import missing_engines

    s = bench.settings()
    wars_rows, wars_data = _wars_for(bench)
    try:
        m, ds = _metrics_for(bench)
    except dg.Failure:
        if not wars_rows:
            raise
        m, ds = _NO_METRICS, {"note": "no engine x threads cells measured yet: bench-pipeline run"}
    cores = provenance.logical_cores()
    plots = sorted(p for p in s.plots_dir.glob("*.png") if not p.name.startswith(("cluster_", "limits_", "wars_")))
    cluster = build_cluster_metrics(bench.store(), ds["fingerprint"], cores) if "fingerprint" in ds else None
    has_cluster = bool(cluster and cluster["metrics_cluster"])
    limits = analyse(s, bench.settings(LimitsSettings), bench.store(), cores,
                     speedup=m["metrics_speedup"] if m is not _NO_METRICS else None)
    verdict = build_verdict(verdict_rows(m["metrics_latest"], s.engines, s.threads), cores, ds.get("rows")) \
        if m is not _NO_METRICS else None
    path = write_report(s.report_path, metrics=m, plots=plots if m is not _NO_METRICS else [], verdict=verdict,
                        machine=provenance.machine(), dataset=ds, cores=cores, cluster=cluster,
                        cluster_findings=findings(cluster, cores) if has_cluster else [],
                        cluster_plots=sorted(s.plots_dir.glob("cluster_*.png")) if has_cluster else [],
                        limits=limits,
                        wars=wars_rows, wars_plots=sorted(s.plots_dir.glob("wars_*.png")) if wars_rows else [],
                        wars_missing=missing_engines() if wars_rows else None, wars_data=wars_data)
    return dg.MaterializeResult(metadata={"report": dg.MetadataValue.path(str(path)), "plots": len(plots),
                                          "wars_rows": len(wars_rows)})
