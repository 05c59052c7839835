"""History and regressions: every measurement of a query over time, and the changes the verdict's rule calls real.

A *measurement* is one cell run's answer to one query (a row of `query_summary`). Two measurements are
comparable when everything but the time and the engine's code is the same: suite, workload, engine, query,
thread setting, data (its fingerprint), machine (hostname, CPU model, cores, memory), and for cluster and
limits cells the cluster shape and the memory budget. Comparable measurements form a *series*: only a series is
joined by a line in a figure, and only within a series is a change looked for.

**The rule.** A measurement is compared with the previous valid measurement of its series by the verdict's
rule (`stats.compare` on their processes, with the machine's measured noise between processes as the prior,
updated by every process in the history). It is a *regression* when the rule calls the later one slower and
the ratio is above 1 + threshold, an *improvement* when it calls it faster and the ratio is below
1 / (1 + threshold); the threshold is 5 % unless `regression_threshold` says otherwise. A pair in which either
measurement is `noisy` (the quiet-machine guard saw other work use the CPU) is not judged: its difference says
more about the machine than about the engine.

**The machine's drift.** The rule's noise is the noise between processes of one run; between runs the machine
itself moves (by a few per cent within an hour here, up to 5x from one day to another). So a change is judged
against the machine's drift that night: the median ratio, after / before, of the *other* engines' series
re-measured on the same machine within DRIFT_WINDOW of it (at least DRIFT_FROM of them). An engine that slowed
alone is a regression; every engine a few per cent faster is the machine. With fewer other series re-measured
the drift is not known and the change is judged as measured (the line says so when it is flagged).
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Iterable
from dataclasses import dataclass

from bench_pipeline.analysis import calibration, stats

# The canary: a small fixed cell the nightly schedule measures even when fresh, so that a machine that slowed
# (a noisy neighbour, a new kernel) is told apart from an engine that did.
CANARY_SUITE = "canary"
CANARY_ENGINE = "duckdb"
CANARY_QUERIES = ("A", "C")
CANARY_ROWS = 200_000

# One row per measurement, with its series. `history` is a table (rebuilt by the `history` asset and by
# `bench-pipeline history`), so SQL users and the UI read it without recomputing the summary.
HISTORY_SELECT = """
WITH machine AS (
  SELECT cell_run_id, any_value(hostname) AS hostname, any_value(cpu_model) AS cpu_model,
         any_value(logical_cores) AS logical_cores, any_value(total_memory_bytes) AS total_memory_bytes
  FROM measurements GROUP BY cell_run_id)
SELECT s.cell_run_id, s.suite, coalesce(s.workload, '') AS workload, s.engine, s.engine_version, s.query,
       s.threads_asked AS threads, s.dataset_fingerprint, s.dataset_rows, m.hostname, m.cpu_model,
       m.logical_cores, m.total_memory_bytes, s.status, s.median_seconds, s.warm_list, s.process_list, s.noisy,
       s.measured_at,
       left(md5(concat_ws('|', s.suite, coalesce(s.workload, ''), s.engine, s.query, s.threads_asked,
                          coalesce(s.dataset_fingerprint, ''), coalesce(m.hostname, ''), coalesce(m.cpu_model, ''),
                          coalesce(m.logical_cores, 0), coalesce(m.total_memory_bytes, 0),
                          s.master_url IS NULL, coalesce(s.executors, 0), coalesce(s.data_layout, ''),
                          coalesce(s.budget_bytes, 0))), 12) AS series
FROM query_summary s JOIN machine m USING (cell_run_id)
"""
HISTORY_SQL = f"CREATE OR REPLACE TABLE history AS {HISTORY_SELECT}"


def machine_name(row: dict) -> str:
    """A machine as people name it: its hostname, cores and memory."""
    gib = (row.get("total_memory_bytes") or 0) / 2**30
    return f"{row.get('hostname') or '?'} ({row.get('logical_cores') or '?'} cores, {gib:.0f} GiB)"


@dataclass(frozen=True)
class Change:
    kind: str  # "regression" or "improvement"
    suite: str
    workload: str
    engine: str
    query: str
    threads: int
    machine: str
    before_seconds: float
    after_seconds: float
    ratio: stats.Interval  # after / before
    before_version: str | None
    after_version: str | None
    before_at: dt.datetime
    after_at: dt.datetime
    cell_run_id: str
    canary: stats.Interval | None = None  # the canary's own ratio the same night, when it moved
    drift: float | None = None  # the other engines' median ratio that night (None: too few re-measured)

    def line(self) -> str:
        what = f"{self.workload} {self.query}" if self.workload else self.query
        if self.before_version != self.after_version:
            version = f"{self.engine} {self.before_version} -> {self.after_version}"
        else:
            version = f"{self.engine} {self.after_version}, same version"
        r = self.ratio
        threads = f"{self.threads} thread{'s' if self.threads != 1 else ''}"
        text = (f"{self.kind}: {what} on {self.engine} at {threads}, {self.machine.split(' (')[0]}: "
                f"{self.before_seconds:.3g} s -> "
                f"{self.after_seconds:.3g} s (x{r.value:.2f}, {stats.LOOK_CONFIDENCE * 100:g} % interval "
                f"{r.low:.2f}-{r.high:.2f}; {version})")
        text += (f"; judged against the other engines' drift that night (x{self.drift:.2f})" if self.drift is not None
                 else "; no other engine re-measured that night to tell the machine's drift")
        if self.canary is not None:
            text += (f"; the canary moved too (x{self.canary.value:.2f}): the machine may have slowed, "
                     "not the engine")
        return text


def _valid(row: dict) -> bool:
    return row["status"] == "ok" and bool(stats.processes_of(row))


def classify(after: list[float], before: list[float], threshold: float,
             noise: stats.Noise = stats.DEFAULT) -> tuple[str | None, stats.Interval | None]:
    """The rule on two measurements' process values: (regression | improvement | None, after / before with its
    interval)."""
    c = stats.compare(after, before, noise)
    if c is None:
        return None, None
    r = stats.Interval(c.ratio, c.low, c.high)
    if c.answer == stats.SLOWER and c.ratio > 1 + threshold:
        return "regression", r
    if c.answer == stats.FASTER and c.ratio < 1 / (1 + threshold):
        return "improvement", r
    return None, r


DRIFT_WINDOW = dt.timedelta(hours=2)
DRIFT_FROM = 3  # other engines' series re-measured that night before their median is trusted as the drift


def find_changes(rows: Iterable[dict], threshold: float, only: set[str] | None = None,
                 prior: stats.Noise = stats.DEFAULT) -> list[Change]:
    """Every flagged change between consecutive valid measurements of a series (rows as the `history` table
    has them); with `only`, just those whose later measurement is one of these cell runs. `prior`: the
    machine's noise between processes, updated by every measurement's processes. Each is judged against the
    machine's drift that night (the module's text)."""
    rows = list(rows)
    noise = stats.pooled((stats.processes_of(r) for r in rows if _valid(r)), prior)
    by_series: dict[str, list[dict]] = {}
    for row in rows:
        if _valid(row):
            by_series.setdefault(row["series"], []).append(row)
    pairs = []  # (before, after, after's median / before's)
    for series in by_series.values():
        series.sort(key=lambda r: r["measured_at"])
        for before, after in zip(series, series[1:], strict=False):
            if not (before.get("noisy") or after.get("noisy")):
                pairs.append((before, after, _typical(after) / _typical(before)))
    found = []
    for before, after, _ in pairs:
        if only is not None and after["cell_run_id"] not in only:
            continue
        drift = _drift(after, pairs)
        values = [v / (drift or 1.0) for v in stats.processes_of(after)]
        kind, r = classify(values, stats.processes_of(before), threshold, noise)
        if kind is None:
            continue
        found.append(Change(kind, after["suite"], after["workload"], after["engine"], after["query"],
                            after["threads"], machine_name(after), before["median_seconds"],
                            after["median_seconds"], r, before["engine_version"], after["engine_version"],
                            before["measured_at"], after["measured_at"], after["cell_run_id"], drift=drift))
    return _with_canary(found, by_series, threshold, noise)


def _typical(row: dict) -> float:
    return statistics.geometric_mean(stats.processes_of(row))


def _drift(after: dict, pairs: list[tuple[dict, dict, float]]) -> float | None:
    """The machine's drift when `after` was measured: the median ratio of the other engines' pairs re-measured on
    its machine within DRIFT_WINDOW (None: fewer than DRIFT_FROM of them)."""
    machine = machine_name(after)
    others = [ratio for _, a, ratio in pairs if a["engine"] != after["engine"] and machine_name(a) == machine
              and abs(a["measured_at"] - after["measured_at"]) <= DRIFT_WINDOW and a["suite"] != CANARY_SUITE]
    return statistics.median(others) if len(others) >= DRIFT_FROM else None


CANARY_WINDOW = dt.timedelta(hours=12)


def _with_canary(changes: list[Change], by_series: dict[str, list[dict]], threshold: float,
                 noise: stats.Noise) -> list[Change]:
    """A change measured within CANARY_WINDOW of a canary measurement that itself moved (by the same rule,
    against the canary's previous one on the same machine) says so: the machine, not the engine, may differ."""
    moved: list[tuple[dt.datetime, str, stats.Interval]] = []
    for series in by_series.values():
        if series[0]["suite"] != CANARY_SUITE:
            continue
        for before, after in zip(series, series[1:], strict=False):
            kind, r = classify(stats.processes_of(after), stats.processes_of(before), threshold, noise)
            if kind is not None:
                moved.append((after["measured_at"], machine_name(after), r))
    out = []
    for c in changes:
        near = [r for at, machine, r in moved if machine == c.machine and abs(at - c.after_at) <= CANARY_WINDOW]
        if near and c.suite != CANARY_SUITE:
            c = Change(**{**c.__dict__, "canary": near[-1]})
        out.append(c)
    return out


def build_history(store) -> int:
    """(Re)build the store's `history` table; how many measurements it holds."""
    store.execute([HISTORY_SQL])
    return store.query("SELECT count(*) AS n FROM history")[0]["n"]


def history_rows(store) -> list[dict]:
    """Every measurement with its series, oldest first (read-only: computed from `query_summary`)."""
    return store.query(f"{HISTORY_SELECT} ORDER BY measured_at") if store.path.exists() else []


def changes(store, threshold: float, cell_run_ids: set[str] | None = None) -> list[Change]:
    """The flagged changes in the store (with `cell_run_ids`: only those these cell runs measured)."""
    return find_changes(history_rows(store), threshold, cell_run_ids, calibration.prior(store.path.parent)[0])
