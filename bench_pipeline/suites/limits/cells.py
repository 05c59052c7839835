"""The limits suite's cells: an engine on one posts size under the sweep's budget (keys 'duckdb|7500000'), and
Polars in one execution mode (keys 'eager', 'lazy', 'streaming'), both at the machine's cores."""

from __future__ import annotations

from bench_pipeline.harness import provenance
from bench_pipeline.harness.instrument import CellSpec
from bench_pipeline.results.versions import measured_with
from bench_pipeline.suites import SuiteConfig
from bench_pipeline.suites.limits.metrics import MODES
from bench_pipeline.workloads.social.catalogue import MODE_QUERIES, SWEEP_QUERIES


def sweep_cell(run: SuiteConfig, key: str, data) -> tuple[CellSpec, dict]:
    """The cell's spec and what it is measured with. An `oom` or `timeout` under the budget is its answer."""
    engine = key.split("|")[0]
    cores, own = provenance.logical_cores(), run.own
    spec = CellSpec(engine, cores, data, SWEEP_QUERIES, repeats=own.sweep_repeats, timeout_s=run.main.timeout_s,
                    budget_bytes=own.sweep_budget_bytes, suite="sweep", query_budget_s=run.main.query_budget_s)
    return spec, measured_with(engine, cores, data, own.sweep_repeats,
                               {"budget_bytes": own.sweep_budget_bytes, **run.main.repetition_settings})


def modes_cell(run: SuiteConfig, key: str, data) -> tuple[CellSpec, dict]:
    engine, cores = MODES[key], provenance.logical_cores()
    spec = CellSpec(engine, cores, data, MODE_QUERIES, repeats=run.main.repeats, timeout_s=run.main.timeout_s,
                    suite="modes", query_budget_s=run.main.query_budget_s)
    return spec, measured_with(engine, cores, data, run.main.repeats,
                               {"modes_rows": run.own.modes_rows, **run.main.repetition_settings})
