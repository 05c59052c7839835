"""The workloads' section of the report: per registered workload, engine x query times and the verdict."""

from __future__ import annotations

from bench_pipeline.analysis.verdict import verdict_rows
from bench_pipeline.suites import ReportInputs, Section, verdict_picture
from bench_pipeline.suites.workload import engines_threads, latest, workload_verdict
from bench_pipeline.suites.workload.metrics import by_cell, geometric_mean, geometric_ratios
from bench_pipeline.workloads.spec import WorkloadError


def section(inputs: ReportInputs) -> Section | None:
    run = inputs.config("workload")
    shown = []
    for name in sorted(run.own.paths):
        try:
            rows, w = latest(run, inputs.store, name)
        except WorkloadError:
            continue  # a registered folder that is gone or broken: nothing to show
        if not rows:
            continue
        one = type(run)(run.main, run.own.model_copy(update={"current": name}))
        engines, threads = engines_threads(one)
        rows = verdict_rows(rows, engines, threads)
        verdict = workload_verdict(one, rows, w, inputs.cores)
        cells = by_cell(rows)
        plot = run.main.plots_dir / f"workload_{w.name}.png"
        shown.append({"workload": w, "queries": list(w.queries), "verdict": verdict, "rows": rows,
                      "picture": verdict_picture(run, f"workload_{name}"),
                      "ratios": geometric_ratios(rows, list(w.queries), inputs.cores, verdict.noise),
                      "plots": [plot] if plot.is_file() else [],
                      "cells": [{"engine": e, "threads": t, "by_query": q, **geometric_mean(q, w.queries)}
                                for (e, t), q in cells.items()]})
    return Section("workload/report.html.j2", {"workloads": shown}) if shown else None
