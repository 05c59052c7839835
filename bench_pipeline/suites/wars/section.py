"""The Engine Wars section of the report: engines that cannot run here, the data, the figures, every cell."""

from __future__ import annotations

from bench_pipeline.results.fields import columns
from bench_pipeline.suites import ReportInputs, Section, verdict_picture
from bench_pipeline.suites.wars import latest
from bench_pipeline.suites.wars.cells import missing_engines

COLUMNS = columns(("query", "task"), "engine", "threads_asked", "status", "cold_seconds", "median_seconds", "cv",
                  "peak_rss_bytes", "startup_seconds", "answer_rows", "zero_copy", "message")


def section(inputs: ReportInputs) -> Section | None:
    run = inputs.config("wars")
    rows, data = latest(run, inputs.store)
    if not rows:
        return None
    return Section("wars/report.html.j2", {
        "rows": rows, "columns": COLUMNS, "missing": missing_engines(), "picture": verdict_picture(run, "wars"),
        "data": {"path": str(data.root), **data.params()},
        "plots": sorted(run.main.plots_dir.glob("wars_*.png")),
    })
