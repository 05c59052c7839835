"""What people read: metrics tables, speedup plots, the HTML report.

They depend on `benchmark_cells` through `deps`, not IO-manager inputs, and
read the results store: so they draw from whatever cells exist, and a missing
partition is marked, not fatal.
"""


import base64

import dagster as dg

from bench_pipeline import fmt
from bench_pipeline.dataset import DatasetError, open_dataset
from bench_pipeline.defs.grid import benchmark_cells, dataset
from bench_pipeline.defs.resources import BenchSettings
from bench_pipeline.defs.wars import wars_summary
from bench_pipeline.defs.workload import workload_summary
from bench_pipeline.harness import provenance
from bench_pipeline.report import sections, write_report
from bench_pipeline.suites import ReportInputs
from bench_pipeline.suites.grid.figures import caption_for, draw_all
from bench_pipeline.suites.grid.metrics import build_metrics, read_metrics
from bench_pipeline.verdict import build_verdict, verdict_rows
from bench_pipeline.versions import outputs_code_hash

# Refresh when cells land, without waiting for every partition to exist.
_AFTER_UPSTREAM = dg.AutomationCondition.eager().without(~dg.AutomationCondition.any_deps_missing())


def _metrics_for(bench: BenchSettings, build: bool = True) -> tuple[dict, dict]:
    """The grid's metrics of the main dataset: rebuilt from the measurements (the `metrics` asset), or, with
    build=False, read as `metrics` last built them, through a read-only connection (its downstream assets)."""
    import duckdb

    s = bench.settings()
    try:
        ds = open_dataset(s.data_dir)
    except DatasetError as exc:
        raise dg.Failure(f"no dataset to report on ({exc}); run `bench-pipeline run` first") from None
    try:
        metrics = (build_metrics(bench.store(), ds.fingerprint()) if build else
                   read_metrics(bench.store(read_only=True), provenance.logical_cores()))
    except duckdb.CatalogException:
        raise dg.Failure("the metrics tables are not built yet; materialize `metrics` first") from None
    if any(r["dataset_fingerprint"] != ds.fingerprint() for r in metrics["metrics_latest"]):
        raise dg.Failure(f"the metrics tables were built for other data than {ds.root}; materialize `metrics`")
    if not metrics["metrics_latest"]:
        raise dg.Failure(f"no benchmark cells measured yet for {ds.root}; materialize benchmark_cells first")
    return metrics, {"path": str(ds.root), "rows": ds.posts_rows(), "fingerprint": ds.fingerprint()}


_SPEEDUP_MD = [("engine", "engine", ""), ("query", "query", ""), ("threads", "threads", ">"), ("status", "status", ""),
               ("median_seconds", "median s", ".4f"), ("speedup", "speedup", ".2f"), ("speedup_low", "95 % low", ".2f"),
               ("speedup_high", "95 % high", ".2f"), ("efficiency", "efficiency", ".2f"),
               ("suspect", "suspect", ""), ("noisy", "noisy", "")]
_LOAD_MD = [("engine", "engine", ""), ("threads", "threads", ">"), ("load_seconds", "load (L) s", ".4f"),
            ("queries_seconds", "queries s", ".4f")]


@dg.asset(group_name="analysis", deps=[benchmark_cells, dataset], automation_condition=_AFTER_UPSTREAM,
          description="Latest measurement per cell, speedup and efficiency, load vs query time (results store).")
def metrics(bench: BenchSettings) -> dg.MaterializeResult:
    m, ds = _metrics_for(bench)
    s = bench.settings()
    verdict = build_verdict(verdict_rows(m["metrics_latest"], s.engines, s.threads), provenance.logical_cores(),
                            ds["rows"])
    return dg.MaterializeResult(metadata={
        "verdict": dg.MetadataValue.md("\n".join(f"- {line}" for line in verdict.recommendation + verdict.caveats)),
        "speedup": dg.MetadataValue.md(fmt.markdown(m["metrics_speedup"], _SPEEDUP_MD)),
        "noisy_cells": len({(r["engine"], r["threads_asked"]) for r in m["metrics_latest"] if r.get("noisy")}),
        "load_vs_query": dg.MetadataValue.md(fmt.markdown(m["metrics_load_vs_query"], _LOAD_MD)),
        "cells": len({(r["engine"], r["threads_asked"]) for r in m["metrics_latest"]}),
        "dataset": ds["path"],
    })


@dg.asset(group_name="analysis", deps=[metrics], automation_condition=_AFTER_UPSTREAM,
          description="Speedup vs threads per query (ideal line, oversubscribed region), time and memory bars.")
def speedup_plots(bench: BenchSettings) -> dg.MaterializeResult:
    s = bench.settings()
    m, ds = _metrics_for(bench, build=False)
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


@dg.asset(group_name="analysis", deps=[speedup_plots, wars_summary, workload_summary],
          automation_condition=_AFTER_UPSTREAM, code_version=outputs_code_hash(),
          description="One self-contained HTML report: a section per suite (plots inline, tables, verdict).")
def benchmark_report(bench: BenchSettings) -> dg.MaterializeResult:
    inputs = ReportInputs(bench.run, bench.store(), provenance.logical_cores())
    shown, missing = sections(inputs)
    if not shown:
        raise dg.Failure("nothing measured yet to report on; run `bench-pipeline run` first")
    path = write_report(bench.settings().report_path, shown, provenance.machine(), missing)
    return dg.MaterializeResult(metadata={"report": dg.MetadataValue.path(str(path)),
                                          "sections": dg.MetadataValue.json([s.template.split("/")[0] for s in shown]),
                                          "not_measured_yet": dg.MetadataValue.json(missing)})
