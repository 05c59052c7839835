"""The cluster's section of the report: the findings, the figures, the comparison and every cluster cell."""

from __future__ import annotations

from bench_pipeline.results.fields import columns
from bench_pipeline.suites import ReportInputs, Section, verdict_picture
from bench_pipeline.suites.cluster import images_fingerprint
from bench_pipeline.suites.cluster.metrics import build_cluster_metrics, findings
from bench_pipeline.suites.grid.section import dataset_of

CELL_COLUMNS = columns("engine", "executors", "data_layout", "query", "status", "median_seconds", "cold_seconds",
                       "speedup", "ideal_speedup", ("peak_rss_bytes", "peak (every process)"), "processes",
                       ("startup_seconds", "session start"), "cluster_start_seconds", "master_url", "executor_memory",
                       "message")
COMPARE_COLUMNS = columns("query", "cluster_seconds", "cluster_config", "spark_local_seconds", "best_single_seconds",
                          "best_single")


def section(inputs: ReportInputs) -> Section | None:
    ds = dataset_of(inputs)
    if ds is None:
        return None
    config = inputs.config("cluster")
    m = build_cluster_metrics(inputs.store, ds.fingerprint(), inputs.cores, images_fingerprint(config))
    if not m["metrics_cluster"]:
        return None
    return Section("cluster/report.html.j2", {
        "findings": findings(m, inputs.cores), "metrics": m,
        "picture": verdict_picture(inputs.config("cluster"), "cluster"),
        "plots": sorted(inputs.config("cluster").main.plots_dir.glob("cluster_*.png")),
        "cell_columns": CELL_COLUMNS, "compare_columns": COMPARE_COLUMNS,
    })
