"""Interleaved rounds under a time budget: how a run's stale cells are measured, process by process.

A round runs one fresh process (a cold run and a few warm runs: `run_query`) for every measurement still
needed, a measurement being one query of one cell, in an order shuffled anew each round, so slow drift of the
machine falls on every engine alike. Round 1 measures every query of every stale cell once. After each
round the verdict's comparisons (`verdict.query_verdict`: each engine against the fastest at the cores, each
engine at the cores against itself at 1 thread) are decided or not by the rule (`stats.compare`); a
measurement gets another process only while a comparison it is part of is open, it has fewer than
`most_processes` and its next process fits in the time left. A failure is an answer: a measurement that failed
gets no more processes. The rounds end when every comparison is decided, or nothing more fits in the budget.

Cells whose every query has at least one process are whole; their rows go to the store one cell at a time
(the caller does that, with the cell's identity); a cell left with an unmeasured query stays stale.

Nothing here imports Dagster: `measure` (one process) and `clock` are parameters, so the rounds are tested
with simulated processes and a simulated clock.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from bench_pipeline import fmt, stats
from bench_pipeline.verdict import QueryVerdict, query_verdict

MOST_PROCESSES = 20  # a side's most processes: the rule's error rates are checked up to this many looks

# Cells measured by the rounds and not yet stored, by cell run id: `run` records each as its own Dagster run in
# this process, and that run's step stores the rows (so a kill between the two leaves neither, never one alone).
PENDING: dict = {}


@dataclass(eq=False)  # identity: a measurement is one object however its values compare
class Measurement:
    """One query of one cell: its processes so far."""

    key: str  # the cell's partition key
    engine: str
    threads: int
    query: str
    rows: list[dict] = field(default_factory=list)  # every run of every process, process_index set
    values: list[float] = field(default_factory=list)  # one per process: the median of its kept warm runs
    status: str = "ok"
    seconds: list[float] = field(default_factory=list)  # wall time of each process, start to answer checked
    fixed: bool = False  # from the store (a fresh cell): never measured here
    estimate: float | None = None  # seconds one process is expected to take before any ran

    @property
    def processes(self) -> int:
        return len(self.seconds)

    def next_seconds(self) -> float | None:
        return self.seconds[-1] if self.seconds else self.estimate

    def as_row(self) -> dict:
        """What the verdict reads (a summary row)."""
        return {"engine": self.engine, "threads_asked": self.threads, "query": self.query, "status": self.status,
                "process_list": self.values, "median_seconds": stats._median(self.values) if self.values else None}


@dataclass
class Observer:
    """What the rounds tell a display; every method may be left as is."""

    def round_start(self, n: int, todo: list[Measurement], open_: int, seconds_left: float) -> None: ...

    def process_done(self, m: Measurement, rows: list[dict]) -> None: ...

    def cell_whole(self, key: str, status: str) -> None:
        """Every query of the cell has its first process (it can be stored); `status`: ok or its first failure."""

    def round_end(self, n: int, measured: int, open_: list[str], seconds_left: float) -> None: ...


@dataclass
class Outcome:
    measurements: list[Measurement]
    rounds: int
    stopped: str  # "decided", "budget", "most processes", "nothing to measure", "interrupted"
    open: list[str]  # the comparisons still open, as text
    more_seconds: float  # about how much more measuring would decide them
    unmeasured: list[str]  # cell keys left with a query never measured (they stay stale)
    interrupted: BaseException | None = None  # what ended the rounds early (stop_on), if anything

    def whole_cells(self) -> dict[str, list[Measurement]]:
        cells: dict[str, list[Measurement]] = {}
        for m in self.measurements:
            if not m.fixed:
                cells.setdefault(m.key, []).append(m)
        return {k: ms for k, ms in cells.items() if k not in self.unmeasured}


def verdicts(measurements: list[Measurement], cores: int, noise: stats.Noise) -> dict[str, QueryVerdict]:
    rows = [m.as_row() for m in measurements if m.values or m.status != "ok"]
    return {q: query_verdict(rows, q, cores, noise) for q in dict.fromkeys(m.query for m in measurements)}


def _open_pairs(vs: dict[str, QueryVerdict]) -> list[tuple[str, tuple[str, int], tuple[str, int], stats.Comparison]]:
    """(query, side a, side b, comparison) of every open comparison; a side is (engine, threads)."""
    out = []
    for q, v in vs.items():
        for c in v.open:
            if c.comparison is not None:
                out.append((q, (v.fastest, v.threads), (c.engine, v.threads), c.comparison))
        for s in v.scaling:
            if s.answer == stats.UNDECIDED and s.comparison is not None:
                out.append((q, (s.engine, 1), (s.engine, s.threads), s.comparison))
    return out


def _describe(q: str, a: tuple[str, int], b: tuple[str, int], c: stats.Comparison) -> str:
    if a[0] == b[0]:
        return f"{q}: {a[0]} {a[1]} vs {b[1]} threads ({c.ratio:.2f}x)"
    return f"{q}: {b[0]} vs {a[0]} ({1 / c.ratio:.2f}x)"


def _what_decides(pair, by_side, most_processes: int) -> str:
    """'B: polars vs duckdb (1.05x): about 160 processes a side, 52 minutes more': an open comparison at the end."""
    q, a, b, c = pair
    need = c.processes_to_decide()
    if need is None:
        return _describe(*pair)
    sides = [by_side.get((s[0], s[1], q)) for s in (a, b)]
    seconds = sum(max(0, need - m.processes) * sum(m.seconds) / len(m.seconds)
                  for m in sides if m is not None and m.seconds and not m.fixed)
    more = f"about {need} processes a side, {fmt.minutes(seconds)} more"
    return f"{_describe(*pair)}: {more}" + (f" (beyond the {most_processes} allowed)" if need > most_processes else "")


def measure_in_rounds(measurements: list[Measurement], measure: Callable[[Measurement, int], list[dict]],
                      deadline: float, cores: int, prior: stats.Noise, *, most_processes: int = MOST_PROCESSES,
                      clock: Callable[[], float] = time.monotonic, rng: random.Random | None = None,
                      observer: Observer | None = None, between: Callable[[], None] = lambda: None,
                      whole_first_round: bool = False,
                      stop_on: tuple[type[BaseException], ...] = ()) -> Outcome:
    """Measure `measurements` (the fixed ones are context only) in rounds until decided or `deadline` (clock).

    `measure(m, process_index)` runs one process and returns its rows (status set, answers validated);
    `between()` runs before each process (the interrupt check); `whole_first_round`: round 1 measures every
    measurement whatever the clock says (a cell measured alone is always whole); `stop_on`: exceptions (an
    interrupt) that end the rounds keeping every process finished before them (Outcome.interrupted)."""
    rng = rng or random.Random()
    observer = observer or Observer()
    by_side = {(m.engine, m.threads, m.query): m for m in measurements}
    done = [0]  # rounds started, kept when an exception ends them
    stop = None
    try:
        stopped = _rounds(measurements, measure, deadline, cores, prior, most_processes, clock, rng, observer,
                          between, whole_first_round, by_side, done)
    except stop_on as exc:
        stopped, stop = "interrupted", exc
    n = done[0]
    noise = stats.pooled((m.values for m in measurements), prior)
    pairs = _open_pairs(verdicts(measurements, cores, noise))
    if pairs and stopped == "decided":
        stopped = "most processes"
    return Outcome(measurements, n, stopped, [_what_decides(p, by_side, most_processes) for p in pairs],
                   _more_seconds(pairs, by_side),
                   sorted({m.key for m in measurements if not m.fixed and not m.processes}), stop)


def _rounds(measurements, measure, deadline, cores, prior, most_processes, clock, rng, observer, between,
            whole_first_round, by_side, done: list[int]) -> str:
    """The rounds themselves (done[0]: how many started); why they stopped."""
    n, stopped = 0, "nothing to measure"
    while True:
        noise = stats.pooled((m.values for m in measurements), prior)
        pairs = _open_pairs(verdicts(measurements, cores, noise))
        wanted = {by_side.get((side[0], side[1], q)) for q, a, b, _ in pairs for side in (a, b)}
        todo = [m for m in measurements if not m.fixed and m.status == "ok" and m.processes < most_processes
                and (m.processes == 0 or m in wanted)]
        if not todo:
            stopped = "decided" if not pairs else ("most processes" if n else stopped)
            break
        if clock() >= deadline and not (whole_first_round and n == 0):
            stopped = "budget"
            break
        if not (whole_first_round and n == 0) and not any(clock() + (m.next_seconds() or 0.0) <= deadline
                                                           for m in todo):
            stopped = "budget"  # no next process fits in what is left
            break
        n += 1
        done[0] = n
        rng.shuffle(todo)
        # What the verdict compares first (1 thread and up to the cores), oversubscribed counts after them.
        todo.sort(key=lambda m: m.threads > cores)
        observer.round_start(n, todo, len(pairs), deadline - clock())
        measured = 0
        for m in todo:
            guess = m.next_seconds()
            if clock() + (guess or 0.0) > deadline and not (whole_first_round and n == 1):
                continue  # its next process would overrun the budget (round 1: what fits, in round order)
            between()
            start = clock()
            rows = measure(m, m.processes)
            m.seconds.append(clock() - start)
            _take(m, rows)
            measured += 1
            observer.process_done(m, rows)
            cell = [x for x in measurements if x.key == m.key]
            if m.processes == 1 and all(x.processes for x in cell):
                observer.cell_whole(m.key, next((x.status for x in cell if x.status != "ok"), "ok"))
        left = _open_pairs(verdicts(measurements, cores, stats.pooled((m.values for m in measurements), prior)))
        observer.round_end(n, measured, [_describe(*p) for p in left], deadline - clock())
        if not measured:
            stopped = "budget"
            break
    return stopped


def _take(m: Measurement, rows: list[dict]) -> None:
    """One process's rows into the measurement: numbered after the runs before, its value, its status."""
    base = len(m.rows)
    for r in rows:
        r["process_index"] = m.processes - 1
        r["run_index"] = base + r.get("run_index", 0)
    m.rows.extend(rows)
    failed = next((r["status"] for r in rows if r.get("status", "ok") != "ok"), None)
    if failed:
        m.status = failed
        return
    value = stats.process_values(rows)
    if value:
        m.values.append(value[0])
    else:  # a process without a warm run (a 0-warm-run setting): its cold run stands for it
        cold = [r["seconds"] for r in rows if r.get("seconds")]
        if cold:
            m.values.append(cold[0])


def _more_seconds(pairs, by_side) -> float:
    """About how many seconds of processes would decide the open comparisons, if their ratios hold."""
    extra: dict[int, float] = {}
    for q, a, b, c in pairs:
        need = c.processes_to_decide()
        if need is None:
            continue
        for side in (a, b):
            m = by_side.get((side[0], side[1], q))
            if m is None or m.fixed or not m.seconds:
                continue
            per = sum(m.seconds) / len(m.seconds)
            extra[id(m)] = max(extra.get(id(m), 0.0), max(0, need - m.processes) * per)
    return sum(extra.values())


def measure_cells(specs: dict, fresh_rows: list[dict], store, deadline: float, cores: int, prior: stats.Noise,
                  estimates: dict[str, float] | None = None, observer: Observer | None = None,
                  rng: random.Random | None = None, most_processes: int = MOST_PROCESSES,
                  whole_first_round: bool = False):
    """The stale cells `specs` (key -> runner.CellSpec) measured in rounds beside the fresh cells' summary rows;
    each whole cell's rows appended to `store` in one transaction (None: not stored, the caller stores them).
    Returns (Outcome, {key: CellResult})."""
    import uuid

    from bench_pipeline.harness import interrupt
    from bench_pipeline.harness.machine_lock import measurement_lock, this_command
    from bench_pipeline.harness.runner import CellResult, QuerySpec, cell_identity, run_query, stamped

    estimates = estimates or {}
    ms = [Measurement(r["key"], r["engine"], r["threads_asked"], r["query"], values=stats.processes_of(r),
                      status=r["status"], fixed=True) for r in fresh_rows]
    for key, spec in specs.items():
        per_query = estimates.get(key) / len(spec.queries) if estimates.get(key) else None
        ms += [Measurement(key, spec.engine, spec.threads, q, estimate=per_query) for q in spec.queries]

    def measure(m: Measurement, index: int) -> list[dict]:
        spec = specs[m.key]
        # A process: a cold run, then warm runs (at least one, at most `repeats`) while they fit in the
        # cell's warm-run seconds; more processes, not more runs, is what narrows a comparison.
        q = QuerySpec(spec.engine, m.query, spec.data, spec.threads, repeats=1, timeout_s=spec.timeout_s,
                      budget_bytes=spec.budget_bytes, env=spec.env, extra_pids=spec.extra_pids,
                      validator=spec.validator, max_repeats=max(spec.repeats, 1), precision=1e-9,
                      query_budget_s=spec.query_budget_s)
        return run_query(q)

    if store is not None:
        store.check_writable()
    with measurement_lock(this_command()):
        outcome = measure_in_rounds(ms, measure, deadline, cores, prior, most_processes=most_processes,
                                    observer=observer, rng=rng, between=interrupt.check,
                                    whole_first_round=whole_first_round, stop_on=(interrupt.Interrupted,))
        results = {}
        for key, cell in outcome.whole_cells().items():
            spec = specs[key]
            result = CellResult(uuid.uuid4().hex, spec.engine, spec.threads)
            rows = spec.data.posts_rows() if hasattr(spec.data, "posts_rows") else None
            identity = cell_identity(result.cell_run_id, spec.suite, spec.threads, spec.data.fingerprint(), rows,
                                     spec.dagster_run_id, **spec.context)
            for m in cell:
                result.rows.extend(stamped(m.rows, identity))
            if store is not None:
                store.append(result.rows)
            results[key] = result
    return outcome, results
