"""The cluster's section of the report: the findings, the figures, the comparison and every cluster cell."""

from __future__ import annotations

from bench_pipeline.suites import ReportInputs, Section
from bench_pipeline.suites.cluster.metrics import build_cluster_metrics, findings
from bench_pipeline.suites.grid.report import dataset_of

CELL_COLUMNS = [
    ("engine", "engine", ""), ("executors", "workers", ">"), ("data_layout", "layout", ""), ("query", "query", ""),
    ("status", "status", ""), ("median_seconds", "median s", ".4f"), ("cold_seconds", "cold s", ".4f"),
    ("speedup", "speedup", ".2f"), ("ideal_speedup", "ideal", ".2f"),
    ("peak_rss_bytes", "peak MiB (every process)", "MiB"), ("processes", "processes", ">"),
    ("startup_seconds", "session start s", ".1f"),
    ("cluster_start_seconds", "cluster start s", ".1f"), ("master_url", "master", ""),
    ("executor_memory", "executor memory", ""), ("message", "message", ""),
]
COMPARE_COLUMNS = [
    ("query", "query", ""), ("cluster_seconds", "cluster best s", ".4f"), ("cluster_config", "cluster best at", ""),
    ("spark_local_seconds", "Spark local s", ".4f"), ("best_single_seconds", "best single-node s", ".4f"),
    ("best_single", "best single-node", ""),
]


def section(inputs: ReportInputs) -> Section | None:
    ds = dataset_of(inputs)
    if ds is None:
        return None
    from bench_pipeline.suites.cluster import images_fingerprint

    m = build_cluster_metrics(inputs.store, ds.fingerprint(), inputs.cores, images_fingerprint(inputs.run("cluster")))
    if not m["metrics_cluster"]:
        return None
    return Section("cluster/report.html.j2", {
        "findings": findings(m, inputs.cores), "metrics": m,
        "plots": sorted(inputs.run("cluster").main.plots_dir.glob("cluster_*.png")),
        "cell_columns": CELL_COLUMNS, "compare_columns": COMPARE_COLUMNS,
    })
