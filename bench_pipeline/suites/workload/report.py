"""The workloads' section of the report: per registered workload, engine x query times and the verdict."""

from __future__ import annotations

from bench_pipeline.suites import ReportInputs, Section
from bench_pipeline.suites.workload.metrics import by_cell, geometric_mean


def section(inputs: ReportInputs) -> Section | None:
    from bench_pipeline.suites.workload import engines_threads, latest
    from bench_pipeline.verdict import build_verdict, verdict_rows
    from bench_pipeline.workloads.spec import WorkloadError

    run = inputs.run("workload")
    shown = []
    for name in sorted(run.own.paths):
        try:
            rows, w = latest(run, inputs.store, name)
        except WorkloadError:
            continue  # a registered folder that is gone or broken: nothing to show
        if not rows:
            continue
        engines, threads = engines_threads(run)
        verdict = build_verdict(verdict_rows(rows, engines, threads), inputs.cores, None, queries=list(w.queries))
        cells = by_cell(rows)
        plot = run.main.plots_dir / f"workload_{w.name}.png"
        shown.append({"workload": w, "queries": list(w.queries), "verdict": verdict, "rows": rows,
                      "plots": [plot] if plot.is_file() else [],
                      "cells": [{"engine": e, "threads": t, "by_query": q, **geometric_mean(q, w.queries)}
                                for (e, t), q in cells.items()]})
    return Section("workload/report.html.j2", {"workloads": shown}) if shown else None
