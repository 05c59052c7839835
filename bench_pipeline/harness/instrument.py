"""The one instrument every suite measures with: cells in interleaved rounds (rounds.py), each process a fresh
worker (runner.run_query), each whole cell given its identity and stored in one transaction.

A cell is described by a `CellSpec` (an engine at a thread count on some data, its queries, how a process is
run); a cell that runs in a `Session` (a cluster started for it, an HTTP server of images) gets it opened once
for its processes in a row and closed before anything else is measured. `measure_cells` is the rounds over many
cells (a command's stale cells, or one cell materialized alone with the stored cells as context); `run_cell` is
one cell, one process per query, exactly `repeats` warm runs each (the `cell` command, the canary, tests).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
import random
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bench_pipeline.analysis import stats
from bench_pipeline.harness import interrupt, provenance
from bench_pipeline.harness.machine_lock import measurement_lock, this_command
from bench_pipeline.harness.query_loop import DEFAULT_REPEATS
from bench_pipeline.harness.rounds import (
    MOST_PROCESSES,
    Measurement,
    Observer,
    Outcome,
    Question,
    defer,
    measure_in_rounds,
)
from bench_pipeline.harness.runner import DEFAULT_TIMEOUT_S, QuerySpec, run_query
from bench_pipeline.results.store import MeasurementRow
from bench_pipeline.workloads.social.catalogue import QUERY_NAMES

if TYPE_CHECKING:
    from bench_pipeline.results.store import ResultsStore

Cell = tuple[str, str]  # (the cells' asset, the partition key)


@dataclass
class Session:
    """What a cell's processes run in besides their worker: what they are told (env), processes whose memory is
    theirs too (a cluster's JVMs), and columns every row measured in it carries (its master's URL, start-up)."""

    env: dict[str, str] = field(default_factory=dict)
    extra_pids: Callable[[], list[int]] | None = None
    columns: dict = field(default_factory=dict)


@dataclass
class CellSpec:
    engine: str  # an engine name or a 'module:Class' path
    threads: int
    data: object  # a Dataset, a Workload, WarsData: what the worker reads (`root`, `fingerprint()`)
    queries: Sequence[str] = QUERY_NAMES
    repeats: int = DEFAULT_REPEATS  # exactly, in run_cell; at most, per process, in the rounds
    timeout_s: float = DEFAULT_TIMEOUT_S
    budget_bytes: int | None = None
    dagster_run_id: str | None = None
    env: dict[str, str] = field(default_factory=dict)
    extra_pids: Callable[[], list[int]] | None = None
    context: dict = field(default_factory=dict)  # extra provenance columns (executors, data_layout, ...)
    suite: str = "grid"  # the store's `suite` column: which suite measured the cell
    validator: Callable | None = None  # see QuerySpec
    query_budget_s: float = 30.0  # seconds of warm runs per process
    name: str | None = None  # the engine's name in the rows, when `engine` is a class path
    dataset_rows: int | None = None  # the store's `dataset_rows` (None: the posts' rows, where there are posts)
    session: Callable[[], contextlib.AbstractContextManager[Session]] | None = None
    # Only the reference of the suite's comparisons (the single-node engines a cluster is compared with): measured
    # after round 1 of the suite's own cells, once their questions are fed (rounds.py: a deferred measurement).
    reference: bool = False

    def rows(self) -> int | None:
        if self.dataset_rows is not None:
            return self.dataset_rows
        return self.data.posts_rows() if hasattr(self.data, "posts_rows") else None  # a workload has tables

    def process(self, query: str, session: Session | None, exact: bool) -> QuerySpec:
        """One process of `query`: a cold run, then warm runs: exactly `repeats` (exact), or at least one and at
        most `repeats` while they fit in `query_budget_s` (the rounds: more processes, not more runs, are what
        narrow a comparison)."""
        s = session or Session()
        warm = dict(repeats=self.repeats) if exact else dict(repeats=1, max_repeats=max(self.repeats, 1),
                                                             precision=1e-9, query_budget_s=self.query_budget_s)
        return QuerySpec(self.engine, query, self.data, self.threads, timeout_s=self.timeout_s,
                         budget_bytes=self.budget_bytes, env={**self.env, **s.env},
                         extra_pids=s.extra_pids or self.extra_pids, validator=self.validator, name=self.name,
                         **warm)


@dataclass
class CellResult:
    cell_run_id: str
    engine: str
    threads: int
    rows: list[MeasurementRow] = field(default_factory=list)

    def statuses(self) -> dict[str, str]:
        """Each query's overall status: the first non-ok run's, else ok."""
        out: dict[str, str] = {}
        for r in self.rows:
            if out.get(r["query"], "ok") == "ok":
                out[r["query"]] = r["status"]
        return out


def cell_identity(cell_run_id: str, spec: CellSpec) -> dict:
    """The columns every row of one cell shares (its identity, its data, the machine); `store.measurement_row`
    checks them against the schema."""
    return {"cell_run_id": cell_run_id, "suite": spec.suite,
            "oversubscribed": spec.threads > provenance.logical_cores(),
            "dataset_fingerprint": spec.data.fingerprint(), "dataset_rows": spec.rows(),
            "dagster_run_id": spec.dagster_run_id, **provenance.machine(), **spec.context}


def whole(spec: CellSpec, measurements: list[Measurement]) -> CellResult:
    """A whole cell's rows, stamped with its identity."""
    result = CellResult(uuid.uuid4().hex, spec.name or spec.engine, spec.threads)
    identity = cell_identity(result.cell_run_id, spec)
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    for m in measurements:
        for r in m.rows:
            r.update(identity, measured_at=now)
            result.rows.append(r)
    return result


def fixed(row: dict, label: str = "") -> Measurement:
    """A measurement from a summary row of the store (with `group` and `key`): context, never measured here."""
    return Measurement(row["group"], row["key"], row["engine"], row["threads_asked"], row["query"],
                       values=stats.processes_of(row), status=row["status"], fixed=True, label=label)


class _Sessions:
    """The session open now (at most one), switched by the rounds: a cell's processes in a row share it."""

    def __init__(self, specs: dict[Cell, CellSpec]):
        self.specs = specs
        self.stack: contextlib.ExitStack | None = None
        self.open: Session | None = None
        self.failed: dict[str, str] = {}  # session -> why it could not start

    def switch(self, m: Measurement | None) -> None:
        if self.stack is not None:
            self.stack.close()
            self.stack, self.open = None, None
        if m is None or m.session is None:
            return
        self.failed.pop(m.session, None)
        stack = contextlib.ExitStack()
        try:
            self.open = stack.enter_context(self.specs[(m.group, m.key)].session())
            self.stack = stack
        except interrupt.Interrupted:
            stack.close()
            raise
        except Exception as exc:  # noqa: BLE001 - a cluster that does not start is the cell's failure, said
            stack.close()
            self.failed[m.session] = f"{exc.__class__.__name__}: {exc}"

    def failure(self, m: Measurement) -> str | None:
        return self.failed.get(m.session) if m.session is not None else None


def measure_cells(specs: dict[Cell, CellSpec], context: list[dict], store: ResultsStore | None, deadline: float,
                  prior: stats.Noise, ask: Callable[[list[Measurement], stats.Noise], list[Question]] = lambda m, n: [],
                  *, previous: dict[Cell, list[dict]] | None = None, estimates: dict[Cell, float] | None = None,
                  labels: dict[Cell, str] | None = None, observer: Observer | None = None,
                  rng: random.Random | None = None, most_processes: int = MOST_PROCESSES,
                  whole_first_round: bool = False, exact: bool = False,
                  on_run: Callable[[dict], None] | None = None) -> tuple[Outcome, dict[Cell, CellResult]]:
    """The stale cells `specs` measured in rounds beside `context` (summary rows of stored cells, with `group`
    and `key`), until their questions (`ask`) are decided or `deadline` (time.monotonic) passes; each whole cell's
    rows appended to `store` in one transaction (None: not stored, the caller stores them).

    `previous`: a cell's previous measurement (summary rows), for the history's question; `estimates`: seconds
    a cell took when last measured. Returns (the rounds' Outcome, {cell: CellResult} of the whole cells)."""
    estimates, labels, previous = estimates or {}, labels or {}, previous or {}
    cores = provenance.logical_cores()
    ms = [fixed(r, labels.get((r["group"], r["key"]), "")) for r in context]
    before: dict[int, Measurement] = {}
    for cell, spec in specs.items():
        per_query = estimates.get(cell) / len(spec.queries) if estimates.get(cell) else None
        old = {r["query"]: r for r in previous.get(cell, []) if r["status"] == "ok"}
        for q in spec.queries:
            m = Measurement(*cell, spec.name or spec.engine, spec.threads, q, estimate=per_query,
                            late=spec.threads > cores, session="|".join(cell) if spec.session else None,
                            label=labels.get(cell, cell[1]), deferred=spec.reference)
            ms.append(m)
            if q in old and (p := fixed({**old[q], "group": cell[0], "key": cell[1]}, m.label)).valid:
                before[id(m)] = p
    defer(ms, cores)
    sessions = _Sessions(specs)

    def measure(m: Measurement, index: int) -> list[dict]:
        spec = specs[(m.group, m.key)]
        if why := sessions.failure(m):
            return [{"engine": m.engine, "query": m.query, "threads_asked": m.threads, "run_index": 0,
                     "run_kind": "cold", "status": "error", "message": f"the cell's session did not start: {why}",
                     "timeout_seconds": spec.timeout_s, "budget_bytes": spec.budget_bytes}]
        rows = run_query(spec.process(m.query, sessions.open, exact), on_run=on_run)
        for r in rows:
            r.update((sessions.open or Session()).columns)
        return rows

    if store is not None:
        store.check_writable()
    with measurement_lock(this_command()):
        outcome = measure_in_rounds(ms, measure, deadline, prior, ask, previous=before, most_processes=most_processes,
                                    observer=observer, rng=rng, between=interrupt.check,
                                    whole_first_round=whole_first_round, stop_on=(interrupt.Interrupted,),
                                    switch=sessions.switch)
        results = {}
        for cell, cell_ms in outcome.whole_cells().items():
            results[cell] = whole(specs[cell], cell_ms)
            if store is not None:
                store.append(results[cell].rows)
    return outcome, results


def run_cell(spec: CellSpec, store: ResultsStore | None = None,
             on_run: Callable[[dict], None] | None = None) -> CellResult:
    """Every query of a cell, one process each with exactly `repeats` warm runs, then its rows into the store in
    one transaction: a cell killed or interrupted half-way leaves nothing (it is measured again)."""
    cell = ("cell", f"{spec.name or spec.engine}|{spec.threads}")
    outcome, results = measure_cells({cell: spec}, [], store, math.inf, stats.DEFAULT, most_processes=1,
                                     whole_first_round=True, exact=True, on_run=on_run)
    if outcome.interrupted is not None:
        raise outcome.interrupted
    return results[cell]


def share_deadline(budget_s: float, cells: int) -> float:
    """When a cell measured alone must stop adding processes: its share of the budget, from now."""
    return time.monotonic() + budget_s / max(cells, 1)
