"""A workload's results: the latest measurement per engine, threads and query on its current files."""

from __future__ import annotations

from bench_pipeline import stats
from bench_pipeline.store import ResultsStore

_SQL = ["""CREATE OR REPLACE TABLE workload_latest AS
SELECT * EXCLUDE (rn) FROM (
  SELECT s.*, row_number() OVER (PARTITION BY workload, engine, threads_asked, query ORDER BY measured_at DESC) AS rn
  FROM query_summary s WHERE suite = 'workload' AND workload = $workload AND dataset_fingerprint = $fp)
WHERE rn = 1"""]


def build_workload_metrics(store: ResultsStore, workload: str, fingerprint: str, queries: list[str]) -> list[dict]:
    store.execute(_SQL, {"workload": workload, "fp": fingerprint})
    rows = store.query("SELECT * FROM workload_latest ORDER BY engine, threads_asked, list_position($q, query)",
                       {"q": queries})
    for r in rows:
        interval = stats.typical(r.get("warm_list") or []) if r["status"] == "ok" else None
        r["ci_low"], r["ci_high"] = (interval.low, interval.high) if interval else (None, None)
    return rows
