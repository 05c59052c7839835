"""A workload's results: the latest measurement per engine, threads and query on its current files."""

from __future__ import annotations

import math

from bench_pipeline.analysis import stats
from bench_pipeline.analysis.verdict import compared_threads
from bench_pipeline.results.store import ResultsStore, latest_sql

_SQL = ["""CREATE OR REPLACE TABLE workload_latest AS
""" + latest_sql("workload, engine, threads_asked, query",
                 "suite = 'workload' AND workload = $workload AND dataset_fingerprint = $fp")]


def build_workload_metrics(store: ResultsStore, workload: str, fingerprint: str, queries: list[str]) -> list[dict]:
    store.execute(_SQL, {"workload": workload, "fp": fingerprint})
    rows = store.query("SELECT * FROM workload_latest ORDER BY engine, threads_asked, list_position($q, query)",
                       {"q": queries})
    for r in rows:
        interval = stats.typical(r.get("warm_list") or []) if r["status"] == "ok" else None
        r["ci_low"], r["ci_high"] = (interval.low, interval.high) if interval else (None, None)
    return rows


def by_cell(rows: list[dict]) -> dict[tuple[str, int], dict[str, dict]]:
    """(engine, threads) -> query -> its latest row."""
    cells: dict[tuple, dict] = {}
    for r in rows:
        cells.setdefault((r["engine"], r["threads_asked"]), {})[r["query"]] = r
    return cells


def geometric_ratios(rows: list[dict], queries: list[str], cores: int, noise: stats.Noise) -> list[dict]:
    """The geometric mean over the queries of each engine's time ratio against the engine with the smallest
    geometric mean, at the verdict's thread count, with its 95 % interval (stats.geometric_mean): only engines
    with every query valid. The summary TPC-H's readers ask for: how much faster overall, and how sure."""
    threads = compared_threads(rows, cores)
    cells = {e: q for (e, t), q in by_cell(rows).items() if t == threads}
    complete = {e: q for e, q in cells.items() if geometric_mean(q, queries)["geomean"] is not None}
    if len(complete) < 2:
        return []
    best = min(complete, key=lambda e: geometric_mean(complete[e], queries)["geomean"])
    out = []
    for engine, by_query in complete.items():
        if engine == best:
            continue
        g = stats.geometric_mean([stats.compare(stats.processes_of(by_query[q]),
                                                stats.processes_of(complete[best][q]), noise) for q in queries])
        if g is not None:
            out.append({"engine": engine, "threads": threads, "against": best, "ratio": g.value, "low": g.low,
                        "high": g.high})
    return sorted(out, key=lambda r: r["ratio"])


def geometric_mean(by_query: dict[str, dict], queries) -> dict:
    """PDS-H's summary of a cell: the geometric mean of its median times, only when every query is valid
    (a mean over the queries an engine happened to answer would flatter it); else how many were."""
    times = [r["median_seconds"] for q in queries if (r := by_query.get(q)) and r["status"] == "ok"
             and r.get("median_seconds")]
    if len(times) == len(list(queries)) and times:
        return {"geomean": math.exp(sum(math.log(t) for t in times) / len(times)), "valid": len(times)}
    return {"geomean": None, "valid": len(times)}
