"""Derived tables in the results store, rebuilt from `measurements` on every call.

- `metrics_latest`: per engine, threads and query, the latest measurement of the
  dataset (any status), so failures stay visible next to valid numbers.
- `metrics_speedup`: per engine, query and threads, the median warm time of the
  latest *valid* measurement, speedup against the same engine at 1 thread and
  parallel efficiency (speedup / threads); NULL where either side is not valid.
- `metrics_load_vs_query`: per engine and threads, load time (L) beside the
  summed time of the queries A, B, C.

Only `measurements` is ever appended to; these tables are views of it, kept as
tables so a plot or a report reads them without recomputing.
"""

from __future__ import annotations

from bench_pipeline.store import ResultsStore

_METRICS_SQL = [
    """CREATE OR REPLACE TABLE metrics_latest AS
SELECT * EXCLUDE (rn) FROM (
  SELECT s.*, row_number() OVER (PARTITION BY engine, threads_asked, query ORDER BY measured_at DESC) AS rn
  FROM query_summary s WHERE dataset_fingerprint = $fp)
WHERE rn = 1""",
    """CREATE OR REPLACE TABLE metrics_speedup AS
WITH valid AS (
  SELECT * EXCLUDE (rn) FROM (
    SELECT s.*, row_number() OVER (PARTITION BY engine, threads_asked, query ORDER BY measured_at DESC) AS rn
    FROM query_summary s WHERE dataset_fingerprint = $fp AND status = 'ok' AND median_seconds IS NOT NULL)
  WHERE rn = 1)
SELECT l.engine, l.query, l.threads_asked AS threads, l.oversubscribed, l.status,
       v.median_seconds, b.median_seconds AS base_seconds,
       b.median_seconds / v.median_seconds AS speedup,
       b.median_seconds / v.median_seconds / l.threads_asked AS efficiency,
       v.peak_rss_bytes
FROM metrics_latest l
LEFT JOIN valid v USING (engine, threads_asked, query)
LEFT JOIN valid b ON b.engine = l.engine AND b.query = l.query AND b.threads_asked = 1
ORDER BY l.engine, list_position(['L', 'A', 'B', 'C'], l.query), l.threads_asked""",
    """CREATE OR REPLACE TABLE metrics_load_vs_query AS
SELECT engine, threads,
       max(median_seconds) FILTER (WHERE query = 'L') AS load_seconds,
       sum(median_seconds) FILTER (WHERE query <> 'L') AS queries_seconds,
       count(*) FILTER (WHERE query <> 'L' AND median_seconds IS NOT NULL) AS valid_queries
FROM metrics_speedup GROUP BY engine, threads ORDER BY engine, threads""",
]


def build_metrics(store: ResultsStore, dataset_fingerprint: str) -> dict[str, list[dict]]:
    """Rebuild the metrics tables for one dataset and return their rows."""
    store.execute(_METRICS_SQL, {"fp": dataset_fingerprint})
    order = {
        "metrics_latest": "engine, threads_asked, list_position(['L', 'A', 'B', 'C'], query)",
        "metrics_speedup": "engine, list_position(['L', 'A', 'B', 'C'], query), threads",
        "metrics_load_vs_query": "engine, threads",
    }
    return {name: store.query(f"SELECT * FROM {name} ORDER BY {o}") for name, o in order.items()}
