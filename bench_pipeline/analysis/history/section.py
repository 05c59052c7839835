"""The report's history section: flagged changes, time against date, and machines side by side."""

from __future__ import annotations

from bench_pipeline.analysis.history import find_changes, history_rows
from bench_pipeline.analysis.history.figures import draw_all
from bench_pipeline.analysis.history.machines import side_by_side
from bench_pipeline.harness import provenance
from bench_pipeline.suites import ReportInputs, Section

TEMPLATE = "history/report.html.j2"


def section(inputs: ReportInputs) -> Section | None:
    """None until something was measured twice or on a second machine."""
    main = inputs.config("grid").main
    rows = history_rows(inputs.store)
    changes = sorted(find_changes(rows, main.regression_threshold), key=lambda c: c.after_at, reverse=True)
    plots = draw_all(rows, main.plots_dir, changes)
    machines = side_by_side(rows, provenance.machine().get("hostname"), main.machine_prices)
    if not (changes or plots or machines):
        return None
    return Section(TEMPLATE, {"threshold": main.regression_threshold, "changes": changes[:50],
                              "more_changes": max(0, len(changes) - 50), "plots": plots, "machines": machines,
                              "priced": any(r["cost_per_query"] is not None for r in machines)})
