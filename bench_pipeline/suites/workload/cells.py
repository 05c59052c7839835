"""A workload's cells: workload x engine x threads, each holding every query of the workload.

Keys read `<workload>|<engine>|<threads>`. A cell is measured by the instrument like the grid's: each
query in fresh worker processes (workloads/execute.py), validated against the workload's reference.
What it is measured with includes every query's SQL (or the engine's override) and the DataFrame code,
so editing one query makes that workload's cells stale (all queries of a cell are measured again: a
cell holds every query).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from bench_pipeline.harness.instrument import CellSpec
from bench_pipeline.results.store import ResultsStore
from bench_pipeline.results.versions import harness_code_hash
from bench_pipeline.results.versions import measured_with as signature
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
    h = hashlib.sha256(harness_code_hash().encode())
    for p in sorted((_PACKAGE / "workloads").glob("*.py")):
        h.update(p.read_bytes())
    return h.hexdigest()[:12]


def measured_with(w: Workload, engine: str, threads: int, repeats: int, settings: dict | None = None) -> dict:
    """`settings`: how the processes are measured (Settings.repetition_settings)."""
    return signature(engine, threads, w, repeats, harness_version=code_version(),
                     settings={"queries": {q: w.query_fingerprint(q, engine) for q in w.queries}, **(settings or {})})


def cell_spec(w: Workload, engine: str, threads: int, s) -> CellSpec:
    """How the instrument measures the cell (`s`: the main settings)."""
    return CellSpec(engine, threads, w, list(w.queries), repeats=s.repeats, timeout_s=s.timeout_s,
                    budget_bytes=s.budget_bytes, suite="workload", validator=validate_answer,
                    query_budget_s=s.query_budget_s, context={"workload": w.name})


def latest_rows(store: ResultsStore, w: Workload, keys: list[str]) -> list[dict]:
    """The latest measurement of each of these cells' queries on the workload's data (`key` added)."""
    rows = store.latest("suite = 'workload' AND workload = ? AND dataset_fingerprint = ?", [w.name, w.fingerprint()],
                        "engine, threads_asked, query")
    wanted = set(keys)
    return [{**r, "key": k} for r in rows if (k := key(w.name, r["engine"], r["threads_asked"])) in wanted]
