"""A workload's cells: workload x engine x threads, each holding every query of the workload.

Keys read `<workload>|<engine>|<threads>`. A cell is measured with the engine's workload class
(workloads/execute.py) in fresh worker processes, like the grid's, and validated against the
workload's reference. What it is measured with includes every query's SQL (or the engine's override)
and the DataFrame code, so editing one query makes that workload's cells stale (all queries of a cell
are measured again: a cell holds every query).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from bench_pipeline.harness.runner import CellResult, CellSpec, run_cell
from bench_pipeline.store import ResultsStore
from bench_pipeline.workloads.reference import validate_answer
from bench_pipeline.workloads.spec import Workload

ASSET = "workload_cells"
PARTITIONS = "workload_cells"
_PACKAGE = Path(__file__).resolve().parents[2]


def key(workload: str, engine: str, threads: int) -> str:
    return f"{workload}|{engine}|{threads}"


def split_key(k: str) -> tuple[str, str, int]:
    workload, engine, threads = k.split("|")
    return workload, engine, int(threads)


def code_version() -> str:
    """The harness's code and the workload layer's: either changed makes every workload cell stale."""
    from bench_pipeline.versions import harness_code_hash

    h = hashlib.sha256(harness_code_hash().encode())
    for p in sorted((_PACKAGE / "workloads").glob("*.py")):
        h.update(p.read_bytes())
    return h.hexdigest()[:12]


def measured_with(w: Workload, engine: str, threads: int, repeats: int) -> dict:
    from bench_pipeline.versions import measured_with as signature

    return signature(engine, threads, w, repeats, harness_version=code_version(),
                     settings={"queries": {q: w.query_fingerprint(q, engine) for q in w.queries}})


def run_workload_cell(w: Workload, engine: str, threads: int, store: ResultsStore | None, repeats: int,
                      timeout_s: float, budget_bytes: int | None = None, max_repeats: int | None = None,
                      precision: float = 0.05, query_budget_s: float = 30.0,
                      dagster_run_id: str | None = None) -> CellResult:
    spec = CellSpec(engine, threads, w, list(w.queries), repeats=repeats, timeout_s=timeout_s,
                    budget_bytes=budget_bytes, dagster_run_id=dagster_run_id, suite="workload",
                    validator=validate_answer, max_repeats=max_repeats, precision=precision,
                    query_budget_s=query_budget_s, context={"engine": engine, "workload": w.name})
    return run_cell(spec, store)
