"""Distributed engines on a cluster (Spark standalone, Daft on Ray): metrics tables, figures and the report's
answers, all computed from the store.

Tables (rebuilt from `measurements`, like metrics.py):
- `metrics_cluster`: latest cluster measurement per engine, executors (worker nodes), layout and query, with
  speedup against the fewest executors measured for that engine and the ideal for it.
- `metrics_cluster_compare`: per query, the best valid cluster time, Spark
  local[n] at the machine's cores, and the best single-node engine, on the same data.

The text that answers the lab's questions is generated from those rows, so it
follows the numbers of whatever machine ran them.
"""

from __future__ import annotations

from bench_pipeline.analysis import stats
from bench_pipeline.results.store import ResultsStore, latest_sql
from bench_pipeline.suites.cluster.cells import ENGINE
from bench_pipeline.suites.cluster.image_cells import IMAGES
from bench_pipeline.workloads.social.catalogue import QUERY_NAMES

CLUSTER_QUERIES = (*QUERY_NAMES, IMAGES)


def what(query: str, lower: bool = False) -> str:
    """How a sentence or a title names the work: 'Query A', 'The image pipeline' (lower: 'query A', 'the ...')."""
    text = "The image pipeline" if query == IMAGES else f"Query {query}"
    return text[0].lower() + text[1:] if lower else text

_SQL = [
    """CREATE OR REPLACE TABLE metrics_cluster AS
WITH latest AS (
  """ + latest_sql("engine, executors, data_layout, query",
                   "suite = 'cluster' AND (dataset_fingerprint = $fp OR "
                   "(query = $images AND dataset_fingerprint = $images_fp))") + """),
cell AS (
  SELECT *, CASE WHEN status = 'ok' THEN median_seconds END AS valid_seconds,
         min(executors) OVER (PARTITION BY engine, data_layout, query) AS base_executors
  FROM latest)
SELECT c.engine, c.executors, c.data_layout, c.query, c.status, c.message, c.master_url, c.executor_cores,
       c.executor_memory, c.oversubscribed, c.valid_seconds AS median_seconds, c.cold_seconds, c.cv,
       c.peak_rss_bytes, c.processes, c.startup_seconds, c.cluster_start_seconds, c.engine_version,
       c.base_executors, b.valid_seconds / c.valid_seconds AS speedup,
       c.executors / c.base_executors AS ideal_speedup, c.warm_list
FROM cell c LEFT JOIN cell b
  ON b.engine = c.engine AND b.data_layout = c.data_layout AND b.query = c.query
 AND b.executors = c.base_executors""",
    """CREATE OR REPLACE TABLE metrics_cluster_compare AS
WITH single AS (
  """ + latest_sql("engine, threads_asked, query",
                   "(suite = 'grid' AND dataset_fingerprint = $fp) OR "
                   "(suite = 'wars' AND query = $images AND dataset_fingerprint = $images_fp)") + """
    AND status = 'ok' AND median_seconds IS NOT NULL),
cluster AS (SELECT * FROM metrics_cluster WHERE status = 'ok' AND median_seconds IS NOT NULL)
SELECT q.query,
  (SELECT min(median_seconds) FROM cluster c WHERE c.query = q.query) AS cluster_seconds,
  (SELECT arg_min(engine || ', ' || executors || ' workers, ' || data_layout, median_seconds) FROM cluster c
    WHERE c.query = q.query) AS cluster_config,
  (SELECT min(median_seconds) FROM single s WHERE s.query = q.query AND s.engine = $engine
    AND s.threads_asked = $cores) AS spark_local_seconds,
  (SELECT min(median_seconds) FROM single s WHERE s.query = q.query AND s.engine <> $engine) AS best_single_seconds,
  (SELECT arg_min(engine || ' at ' || threads_asked || ' threads', median_seconds) FROM single s
    WHERE s.query = q.query AND s.engine <> $engine) AS best_single
FROM (SELECT unnest($queries) AS query) q""",
]


def build_cluster_metrics(store: ResultsStore, dataset_fingerprint: str, cores: int,
                          images_fingerprint: str | None = None) -> dict[str, list[dict]]:
    """images_fingerprint: the Engine Wars data whose image pipeline the image cells ran (and the single-node
    `wars` cells they are compared with)."""
    store.execute(_SQL, {"fp": dataset_fingerprint, "cores": cores, "queries": list(CLUSTER_QUERIES),
                         "engine": ENGINE, "images": IMAGES, "images_fp": images_fingerprint})
    return read_cluster_metrics(store)


def read_cluster_metrics(store: ResultsStore) -> dict[str, list[dict]]:
    q = {"q": list(CLUSTER_QUERIES)}
    return {
        "metrics_cluster": store.query(
            "SELECT * FROM metrics_cluster ORDER BY engine, data_layout, list_position($q, query), executors", q),
        "metrics_cluster_compare": store.query(
            "SELECT * FROM metrics_cluster_compare ORDER BY list_position($q, query)", q),
    }


def _ratio(a: float, b: float) -> str:
    """'2.3x faster' / '1.8x slower': how a compares with b."""
    return f"{b / a:.1f}x faster" if a < b else f"{a / b:.1f}x slower"


def _gib(n: int | None) -> str:
    return f"{n / 2**30:.1f} GiB" if n else "memory not measured"


def findings(m: dict[str, list[dict]], cores: int) -> list[str]:
    """Answers to the lab's questions, as sentences built from the measured rows."""
    out: list[str] = []
    compare = {r["query"]: r for r in m["metrics_cluster_compare"]}
    for q in CLUSTER_QUERIES:
        r = compare.get(q)
        if not r or r["cluster_seconds"] is None:
            out.append(f"{what(q)}: no valid cluster measurement yet.")
            continue
        parts = [f"{what(q)}: the cluster's best is {r['cluster_seconds']:.3f} s ({r['cluster_config']})"]
        if r["spark_local_seconds"] is not None:
            parts.append(f"{_ratio(r['cluster_seconds'], r['spark_local_seconds'])} than Spark local[{cores}] "
                         f"({r['spark_local_seconds']:.3f} s)")
        if r["best_single_seconds"] is not None:
            parts.append(f"{_ratio(r['cluster_seconds'], r['best_single_seconds'])} than the best single-node "
                         f"engine, {r['best_single']} ({r['best_single_seconds']:.3f} s)")
        out.append("; ".join(parts) + ".")
    rows = [r for r in m["metrics_cluster"] if r["speedup"] is not None]
    for engine, layout in sorted({(r["engine"], r["data_layout"]) for r in rows}):
        for q in CLUSTER_QUERIES:
            pts = sorted((r["executors"], r["speedup"], r["ideal_speedup"]) for r in rows
                         if (r["engine"], r["data_layout"]) == (engine, layout) and r["query"] == q)
            if len(pts) < 2:
                continue
            (n0, _, _), (n1, s1, i1) = pts[0], pts[-1]
            verdict = "close to linear" if s1 >= 0.8 * i1 else ("sub-linear" if s1 > 1.05 else "no gain")
            shape = f"{engine}, {what(q, lower=True)}" + ("" if layout == IMAGES else f", {layout}")
            out.append(f"Scaling ({shape}): from {n0} to {n1} workers the speedup is {s1:.2f}x against an ideal "
                       f"{i1:.2f}x ({verdict}, efficiency {s1 / i1:.0%}).")
    out += engines_compared(m["metrics_cluster"])
    if rows:
        most = max(r["executors"] * (r["executor_cores"] or 1) for r in m["metrics_cluster"])
        why = []
        if most > cores:
            why.append(f"this machine has {cores} logical cores, so beyond {cores} one-core workers the "
                       f"workers share cores and more of them cannot add compute")
        starts = [r["startup_seconds"] for r in m["metrics_cluster"] if r["startup_seconds"]]
        medians = [r["median_seconds"] for r in m["metrics_cluster"] if r["median_seconds"]]
        if starts and medians:
            why.append(f"each query pays a session and worker start-up of {min(starts):.1f}-{max(starts):.1f} s "
                       f"(timed apart) and per-job scheduling and shuffle costs that do not shrink with workers; "
                       f"warm times here are {min(medians):.2f}-{max(medians):.2f} s")
        if why:
            out.append("Why not linear: " + "; ".join(why) + ".")
    layouts = {(r["engine"], r["data_layout"], r["query"], r["executors"]): r["median_seconds"]
               for r in m["metrics_cluster"]}
    for engine in sorted({k[0] for k in layouts}):
        for q in QUERY_NAMES:
            pairs = [(layouts.get((engine, "flat", q, n)), layouts.get((engine, "partitioned", q, n)))
                     for n in sorted({k[3] for k in layouts})]
            pairs = [(f, p) for f, p in pairs if f and p]
            if pairs:
                f = sum(a for a, _ in pairs) / len(pairs)
                p = sum(b for _, b in pairs) / len(pairs)
                out.append(f"Partitioned by category vs one file, {engine}, query {q}: {p:.3f} s vs {f:.3f} s on "
                           f"average ({_ratio(p, f)}).")
    return out


def engines_compared(rows: list[dict]) -> list[str]:
    """Per query and layout, the distributed engines side by side at each worker count they share (time, and
    memory over every process of driver and cluster), decided by the verdict's rule; then which one to try
    first: the one faster by the rule in the most of those comparisons."""
    cells = {(r["engine"], r["data_layout"], r["executors"], r["query"]): r for r in rows
             if r["status"] == "ok" and r.get("warm_list")}
    engines = sorted({k[0] for k in cells})
    if len(engines) < 2:
        return []

    def shown(r: dict) -> str:
        return f"{r['engine']} {r['median_seconds']:.3f} s, {_gib(r.get('peak_rss_bytes'))}"

    out, wins = [], dict.fromkeys(engines, 0)
    for q in CLUSTER_QUERIES:
        for layout in sorted({k[1] for k in cells if k[3] == q}):
            for n in sorted({k[2] for k in cells if k[3] == q and k[1] == layout}):
                here = sorted((cells[(e, layout, n, q)] for e in engines if (e, layout, n, q) in cells),
                              key=lambda r: r["median_seconds"])
                if len(here) < 2:
                    continue
                best, rest = here[0], here[1:]
                beaten = [r for r in rest if (c := stats.compare(stats.processes_of(best), stats.processes_of(r),
                                                                  stats.DEFAULT)) and c.answer == stats.FASTER]
                if len(beaten) == len(rest):
                    wins[best["engine"]] += 1
                    text = (f"{best['engine']} is faster by the rule ({shown(best)} vs "
                            + ", ".join(map(shown, rest)) + ")")
                elif beaten:  # faster than some: say which, and which are not yet decided against it
                    apart = [r["engine"] for r in rest if r not in beaten]
                    text = (f"{best['engine']} is faster by the rule than {', '.join(r['engine'] for r in beaten)} "
                            f"and not yet decided against {', '.join(apart)} (" + ", ".join(map(shown, here)) + ")")
                else:
                    text = "no engine is decided faster by the rule (" + ", ".join(map(shown, here)) + ")"
                where = "" if layout == IMAGES else f", {layout}"
                out.append(f"{what(q)} on {n} workers{where}: {text}.")
    if any(wins.values()):
        first = max(wins, key=wins.get)
        out.append(f"To try first when this machine is outgrown: {first}, faster by the rule in {wins[first]} of "
                   f"the comparisons above (others: " + ", ".join(f"{e} {w}" for e, w in wins.items() if e != first)
                   + ").")
    return out
