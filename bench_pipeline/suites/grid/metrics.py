"""Derived tables in the results store, rebuilt from `measurements` on every call.

- `metrics_latest`: per engine, threads and query, the latest measurement of the
  dataset (any status), so failures stay visible next to valid numbers.
- `metrics_speedup`: per engine, query and threads, the median warm time of the
  latest measurement, speedup against the same engine at 1 thread and parallel
  efficiency (speedup / threads); NULL unless both latest measurements are ok.

`read_metrics` adds the intervals (stats.py, from the processes) to the rows it returns: `ci_low`,
`ci_high` (95 % interval of the typical time) to `metrics_latest`;
`speedup_low`, `speedup_high` and `suspect` (the interval lies above the ideal,
the thread count) to `metrics_speedup`. `noisy` marks a measurement that kept a
run taken while other work used the CPU.
- `metrics_load_vs_query`: per engine and threads, load time (L) beside the
  summed time of the queries A, B, C (NULL unless all three are valid).

Only `measurements` is ever appended to; these tables are views of it, kept as
tables so a plot or a report reads them without recomputing.
"""

from __future__ import annotations

from bench_pipeline.analysis import calibration, stats
from bench_pipeline.analysis.verdict import noise_of
from bench_pipeline.harness import provenance
from bench_pipeline.results.store import ResultsStore, latest_sql
from bench_pipeline.workloads.social.catalogue import LOAD_QUERY, QUERY_NAMES, SUMMED_QUERIES

_METRICS_SQL = [
    """CREATE OR REPLACE TABLE metrics_latest AS
""" + latest_sql("engine, threads_asked, query", "dataset_fingerprint = $fp AND suite = 'grid'"),
    """CREATE OR REPLACE TABLE metrics_speedup AS
WITH cell AS (
  SELECT engine, query, threads_asked AS threads, oversubscribed, status, peak_rss_bytes, noisy, warm_list,
         process_list,
         CASE WHEN status = 'ok' THEN median_seconds END AS median_seconds
  FROM metrics_latest)
SELECT c.engine, c.query, c.threads, c.oversubscribed, c.status, c.median_seconds,
       b.median_seconds AS base_seconds, c.noisy OR coalesce(b.noisy, false) AS noisy,
       c.warm_list, b.warm_list AS base_list, c.process_list, b.process_list AS base_processes,
       b.median_seconds / c.median_seconds AS speedup,
       b.median_seconds / c.median_seconds / c.threads AS efficiency,
       c.peak_rss_bytes
FROM cell c LEFT JOIN cell b ON b.engine = c.engine AND b.query = c.query AND b.threads = 1""",
    """CREATE OR REPLACE TABLE metrics_load_vs_query AS
SELECT engine, threads, bool_or(oversubscribed) AS oversubscribed,
       max(median_seconds) FILTER (WHERE query = $load) AS load_seconds,
       CASE WHEN count(median_seconds) FILTER (WHERE list_contains($summed, query)) = len($summed)
            THEN sum(median_seconds) FILTER (WHERE list_contains($summed, query)) END AS queries_seconds,
       count(median_seconds) FILTER (WHERE list_contains($summed, query)) AS valid_queries
FROM metrics_speedup GROUP BY engine, threads""",
]


def build_metrics(store: ResultsStore, dataset_fingerprint: str) -> dict[str, list[dict]]:
    """Rebuild the metrics tables for one dataset and return their rows."""
    store.execute(_METRICS_SQL, {"fp": dataset_fingerprint, "load": LOAD_QUERY, "summed": list(SUMMED_QUERIES)})
    return read_metrics(store)


def read_metrics(store: ResultsStore, cores: int | None = None) -> dict[str, list[dict]]:
    """The metrics tables as last built, in a stable order (`cores`: the machine's, for the suspect flag).
    Intervals come from the processes, with the noise prior of the state folder holding the store."""
    cores = cores or provenance.logical_cores()
    order = {
        "metrics_latest": "engine, threads_asked, list_position($q, query)",
        "metrics_speedup": "engine, list_position($q, query), threads",
        "metrics_load_vs_query": "engine, threads",
    }
    tables = {name: store.query(f"SELECT * FROM {name} ORDER BY {o}", {"q": list(QUERY_NAMES)} if "$q" in o
                                else None) for name, o in order.items()}
    noise = noise_of(tables["metrics_latest"], calibration.prior(store.path.parent)[0])
    for r in tables["metrics_latest"]:
        interval = stats.level(stats.processes_of(r), noise) if r["status"] == "ok" else None
        r["ci_low"], r["ci_high"] = (interval.low, interval.high) if interval else (None, None)
    for r in tables["metrics_speedup"]:
        base = stats.processes_of({"process_list": r.get("base_processes"), "warm_list": r.get("base_list")})
        interval = stats.compare(base, stats.processes_of(r), noise, confidence=stats.CONFIDENCE) \
            if r["speedup"] is not None and r["threads"] != 1 else None
        r["speedup_low"], r["speedup_high"] = (interval.low, interval.high) if interval else (None, None)
        # Above the ideal beyond the noise: more than the thread count, or than the cores that run them.
        r["suspect"] = bool(interval and interval.low > min(r["threads"], cores))
    return tables
