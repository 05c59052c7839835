"""The Engine Wars section of the report: engines that cannot run here, the data, the figures, every cell."""

from __future__ import annotations

from bench_pipeline.suites import ReportInputs, Section

COLUMNS = [
    ("query", "workload", ""), ("engine", "engine", ""), ("threads_asked", "threads", ">"),
    ("status", "status", ""), ("cold_seconds", "cold s", ".4f"), ("median_seconds", "median s", ".4f"),
    ("cv", "cv", ".3f"), ("peak_rss_bytes", "peak MiB", "MiB"), ("startup_seconds", "start-up s", ".2f"),
    ("answer_rows", "answer rows", ">"), ("zero_copy", "zero-copy hand-off", ""), ("message", "message", ""),
]


def section(inputs: ReportInputs) -> Section | None:
    from bench_pipeline.suites.wars import latest
    from bench_pipeline.suites.wars.cells import missing_engines

    run = inputs.run("wars")
    rows, data = latest(run, inputs.store)
    if not rows:
        return None
    return Section("wars/report.html.j2", {
        "rows": rows, "columns": COLUMNS, "missing": missing_engines(),
        "data": {"path": str(data.root), **data.params()},
        "plots": sorted(run.main.plots_dir.glob("wars_*.png")),
    })
