"""Execution models and limits (the lab's Task 3), computed from the results store.

Two kinds of measurements feed it, both made by the ordinary runner:
- suite `modes`: Polars eager / lazy / streaming on queries F, A, B, C, no budget;
- suite `sweep`: each engine at the machine's cores on posts of several sizes,
  under one memory budget that the runner enforces on the process tree and that
  the engines also get as their own limits (DuckDB memory_limit + spill folder,
  Spark heap; Polars has no limit of its own, its streaming engine is measured
  as a separate engine).

From them: the tables `metrics_modes` and `metrics_sweep`, the capability table
(the lab's, with measured evidence beside each claim) and the decision boundary,
whose sentences are built from the rows, so on another machine they follow its
numbers.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench_pipeline.engines import CORE_ENGINES, engine_class, with_role
from bench_pipeline.report import fmt
from bench_pipeline.results.store import ResultsStore, latest_sql
from bench_pipeline.workloads.social.catalogue import LOAD_QUERY, MODE_QUERIES, QUERY_NAMES, SWEEP_QUERIES

# Everything below is read from the engines' traits (engines/base.py) and the catalogue's query sets.
# The modes measured side by side: the core engine that declares modes (Polars eager / lazy / streaming).
MODES_ENGINE = next(n for n in CORE_ENGINES if engine_class(n).modes)
MODES: dict[str, str] = engine_class(MODES_ENGINE).modes
# The sweep: the core engines, each followed by its streaming mode where it has one.
SWEEP_ENGINES: tuple[str, ...] = tuple(
    e for n in CORE_ENGINES for e in dict.fromkeys([n, engine_class(n).modes.get("streaming", n)]))
SINGLE_NODE = with_role("single-node", SWEEP_ENGINES)  # the lab's "single-node tools"
DISTRIBUTED = with_role("distributed", CORE_ENGINES)[0]

_SQL = [
    """CREATE OR REPLACE TABLE metrics_modes AS
""" + latest_sql("engine, query", "suite = 'modes' AND dataset_fingerprint = $modes_fp "
                                "AND list_contains($mode_queries, query)"),
    """CREATE OR REPLACE TABLE metrics_sweep AS
""" + latest_sql("engine, dataset_rows, query", "suite = 'sweep' AND budget_bytes = $budget "
                                              "AND list_contains($sweep_fps, dataset_fingerprint)"),
]


def sweep_engines(engines: Sequence[str]) -> list[str]:
    """The sweep's engines among those chosen (Polars' streaming mode comes with polars)."""
    chosen = {e for n in engines for e in (n, *_streaming_of(n))}
    return [e for e in SWEEP_ENGINES if e in chosen]


def _streaming_of(engine: str) -> tuple[str, ...]:
    streaming = engine_class(engine).modes.get("streaming")
    return (streaming,) if streaming and streaming != engine else ()


def build_limits_metrics(store: ResultsStore, modes_fp: str | None, sweep_fps: Sequence[str],
                         budget_bytes: int) -> dict[str, list[dict]]:
    store.execute(_SQL, {"modes_fp": modes_fp or "", "sweep_fps": list(sweep_fps) or [""], "budget": budget_bytes,
                         "mode_queries": list(MODE_QUERIES)})
    return read_limits_metrics(store)


def read_limits_metrics(store: ResultsStore) -> dict[str, list[dict]]:
    mode_of = {v: k for k, v in MODES.items()}
    modes = store.query("SELECT * FROM metrics_modes ORDER BY list_position($q, query), engine",
                        {"q": list(MODE_QUERIES)})
    for r in modes:
        r["mode"] = mode_of.get(r["engine"], r["engine"])
    modes.sort(key=lambda r: (MODE_QUERIES.index(r["query"]), list(MODES).index(r["mode"]) if r["mode"] in MODES
                              else len(MODES)))
    sweep = store.query("SELECT * FROM metrics_sweep ORDER BY engine, list_position($q, query), dataset_rows",
                        {"q": list(SWEEP_QUERIES)})
    return {"metrics_modes": modes, "metrics_sweep": sweep}


# -- the sweep: where each engine stops ---------------------------------------------------------------

@dataclass(frozen=True)
class Reach:
    """How far one engine got on one query along the sweep."""

    engine: str
    query: str
    largest_ok: int | None  # rows
    first_failure: int | None  # rows of the smallest size that did not complete
    failure_status: str | None
    seconds_at_largest_ok: float | None


def measured(sweep: list[dict]) -> list[dict]:
    """The sweep rows that say something about the engine (a `skipped` engine, e.g. no Java, was not measured)."""
    return [r for r in sweep if r["status"] != "skipped"]


def reach(sweep: list[dict], engine: str, query: str) -> Reach:
    """The largest size completed before the first one that was not (later sizes do not extend the reach)."""
    pts = sorted((r["dataset_rows"], r["status"], r["median_seconds"]) for r in measured(sweep)
                 if r["engine"] == engine and r["query"] == query)
    bad = [(n, st) for n, st, _ in pts if st != "ok"]
    first_bad = bad[0][0] if bad else None
    ok = [(n, t) for n, st, t in pts if st == "ok" and (first_bad is None or n < first_bad)]
    return Reach(engine, query, ok[-1][0] if ok else None, first_bad, bad[0][1] if bad else None,
                 ok[-1][1] if ok else None)


def _failure_words(status: str | None) -> str:
    # oom and timeout are the limits this suite looks for; anything else is a failure of another kind.
    return {"oom": "ran out of the budget (oom)", "timeout": "timed out"}.get(status, f"failed ({status})")


def budget_table(sweep: list[dict], arrow_bytes: dict[int, int]) -> list[dict]:
    """At the largest size measured: each engine's status per query, with its peak and limits."""
    if not sweep:
        return []
    largest = max(r["dataset_rows"] for r in sweep)
    rows = []
    for r in sweep:
        if r["dataset_rows"] != largest:
            continue
        completed = r["status"] == "ok"
        peak = r.get("peak_rss_bytes")
        how = None
        if completed:
            data = arrow_bytes.get(largest)
            if data and r["budget_bytes"] and data > r["budget_bytes"]:
                how = engine_class(r["engine"]).out_of_core or "needed only some columns"
        rows.append({**r, "completed": completed, "how": how,
                     "peak_to_budget": peak / r["budget_bytes"] if peak and r["budget_bytes"] else None})
    return rows


def _ratio_text(rows: int, arrow_bytes: dict[int, int], budget: int) -> str:
    data = arrow_bytes.get(rows)
    return f"{rows:,} rows ({fmt.gib(data)} in memory, {data / budget:.2f}x the budget)" if data else f"{rows:,} rows"


def decision(sweep: list[dict], arrow_bytes: dict[int, int], budget: int, cores: int) -> list[str]:
    """The decision boundary: when to move from a single-node engine to Spark, from the sweep's rows."""
    if not sweep:
        return ["No sweep measured yet: no boundary to draw."]
    sweep = measured(sweep)
    if not sweep:
        return ["Every engine of the sweep was skipped: no boundary to draw."]
    engines = sorted({r["engine"] for r in sweep})
    sizes = sorted({r["dataset_rows"] for r in sweep})
    out = [f"Measured under a process-tree budget of {fmt.gib(budget)} at {cores} threads on posts of "
           + ", ".join(_ratio_text(n, arrow_bytes, budget) for n in sizes) + "."]
    for e in engines:
        parts = []
        for q in SWEEP_QUERIES:
            r = reach(sweep, e, q)
            if r.first_failure is None and r.largest_ok is None:
                parts.append(f"{q} not measured")
            elif r.first_failure is None:
                parts.append(f"{q} completed at every size measured")
            elif r.largest_ok is None:
                parts.append(f"{q} {_failure_words(r.failure_status)} from the smallest size, {r.first_failure:,} rows")
            else:
                parts.append(f"{q} completed up to {r.largest_ok:,} rows and {_failure_words(r.failure_status)} "
                             f"at {r.first_failure:,}")
        out.append(f"{e}: " + "; ".join(parts) + ".")

    single = [e for e in SINGLE_NODE if e in engines]
    largest = sizes[-1]
    best_single = _best(sweep, largest, single)
    if DISTRIBUTED not in engines or not single:
        missing = "Spark was not" if DISTRIBUTED not in engines else "No single-node engine (Polars, DuckDB) was"
        out.append(f"{missing} in this sweep, so no boundary between them can be drawn"
                   + (f"; the single-node engines completed {', '.join(best_single)} at the largest size."
                      if best_single else "."))
        return out + _load_sentence(sweep, engines, largest)

    # The boundary: the smallest size where Spark completed a query that every single-node engine
    # measured there failed to complete.
    boundary = None
    for n in sizes:
        rows_n = [r for r in sweep if r["dataset_rows"] == n]
        spark_only = []
        for q in SWEEP_QUERIES:
            spark_ok = any(r["engine"] == DISTRIBUTED and r["query"] == q and r["status"] == "ok" for r in rows_n)
            singles = [r for r in rows_n if r["engine"] in single and r["query"] == q]
            if spark_ok and singles and all(r["status"] != "ok" for r in singles):
                spark_only.append(q)
        if spark_only:
            boundary = (n, spark_only)
            break
    spark_times = {r["query"]: r["median_seconds"] for r in sweep
                   if r["engine"] == DISTRIBUTED and r["dataset_rows"] == largest and r["status"] == "ok"}
    if boundary:
        n, qs = boundary
        out.append(f"Boundary: at {_ratio_text(n, arrow_bytes, budget)} Spark completed {', '.join(qs)} and no "
                   f"single-node engine ({', '.join(single)}) did under the same budget. Recommendation: move "
                   f"work like {', '.join(qs)} to Spark once the data in memory reaches about "
                   f"{arrow_bytes.get(n, 0) / budget:.1f}x the memory you can give one process.")
    else:
        done = [q for q in SWEEP_QUERIES if q in best_single]
        if done:
            out.append(f"No boundary reached: at the largest size, {_ratio_text(largest, arrow_bytes, budget)}, a "
                       f"single-node engine completed {', '.join(done)} under the budget "
                       + "(" + "; ".join(f"{q}: {best_single[q][0]} {best_single[q][1]:.2f} s" for q in done) + ")"
                       + ". Recommendation: stay on one node at least up to this data-to-memory ratio.")
        else:
            out.append("No engine, single-node or Spark, completed the largest size under the budget: "
                       "the boundary is beyond what this machine can show.")
    both = [q for q in SWEEP_QUERIES if q in spark_times and q in best_single]
    if both:
        ratios = {q: spark_times[q] / best_single[q][1] for q in both}
        verdict = ("Spark was slower on every one of them" if all(v > 1 for v in ratios.values()) else
                   "Spark was faster on " + ", ".join(q for q, v in ratios.items() if v < 1))
        out.append(f"Speed where both complete at {largest:,} rows: " + "; ".join(
            f"{q}: Spark {spark_times[q]:.2f} s vs {best_single[q][0]} {best_single[q][1]:.2f} s "
            f"({ratios[q]:.1f}x)" for q in both) + f". {verdict} on {cores} cores.")
    return out + _load_sentence(sweep, engines, largest)


def _load_sentence(sweep: list[dict], engines: Sequence[str], largest: int) -> list[str]:
    """What query L (the whole table held) says about holding data in memory."""
    loads = {e: reach(sweep, e, LOAD_QUERY) for e in engines}
    failed = [f"{e} from {r.first_failure:,} rows ({r.failure_status})" for e, r in loads.items()
              if r.failure_status in ("oom", "timeout")]
    held = [e for e, r in loads.items() if r.largest_ok == largest and r.first_failure is None]
    if not failed:
        return []
    return ["Query L keeps the whole table: it stopped fitting the budget for " + ", ".join(failed)
            + (f", while {', '.join(held)} completed it at {largest:,} rows" if held else "")
            + ". An engine that must hold the data in RAM needs memory larger than the data; one that spills "
              "to disk does not."]


def _best(sweep: list[dict], rows: int, engines: Sequence[str]) -> dict[str, tuple[str, float]]:
    best: dict[str, tuple[str, float]] = {}
    for r in sweep:
        if r["dataset_rows"] == rows and r["engine"] in engines and r["status"] == "ok" and r["median_seconds"]:
            if r["query"] not in best or r["median_seconds"] < best[r["query"]][1]:
                best[r["query"]] = (r["engine"], r["median_seconds"])
    return best


def mode_findings(modes: list[dict]) -> list[str]:
    """One sentence per query comparing the three modes' time and peak memory."""
    out = []
    for q in MODE_QUERIES:
        rows = {r["mode"]: r for r in modes if r["query"] == q}
        if not rows:
            continue
        parts = []
        for mode in MODES:
            r = rows.get(mode)
            if r is None:
                parts.append(f"{mode} not measured")
            elif r["status"] != "ok":
                parts.append(f"{mode} {r['status']}")
            else:
                parts.append(f"{mode} {r['median_seconds']:.3f} s, peak {fmt.value(r['peak_rss_bytes'], 'MiB')} MiB")
        out.append(f"Query {q}: " + "; ".join(parts) + ".")
    return out


# -- the capability table --------------------------------------------------------------------------

CAPABILITIES = ("optimizer", "distributed", "arrow", "out_of_core", "parallel", "apis", "gpu")
CAPABILITY_TITLES = {"optimizer": "query optimizer", "distributed": "distributed", "arrow": "Arrow-backed",
                     "out_of_core": "out-of-core", "parallel": "parallel", "apis": "APIs", "gpu": "GPU"}
# Plan text that shows a filter pushed into the Parquet scan (Polars SELECTION in the scan, Spark
# non-empty PushedFilters, DuckDB/DataFusion scan filters), or fewer columns read than the file has.
_FILTER_PUSHED = re.compile(r"SELECTION: .+|PushedFilters: \[[^\]]+\]|(?<!Pushed)Filters: ?\S.*|predicate=.+")
_POSTS_COLUMNS = 12


def _columns_pruned(plan: str) -> str | None:
    m = re.search(r"PROJECT (\d+)/(\d+) COLUMNS", plan)
    if m and int(m.group(1)) < int(m.group(2)):
        return m.group(0)
    for schema in re.findall(r"ReadSchema: struct<([^>]*)>", plan):
        if 0 < schema.count(":") < _POSTS_COLUMNS:
            return f"ReadSchema of {schema.count(':')} columns"
    return None


def plan_evidence(plan: str | None) -> tuple[bool, str]:
    """(optimizer seen, the plan lines that show it) for a query with a filter (C)."""
    if not plan:
        return False, "no plan: every operation runs as it is called"
    found = []
    m = _FILTER_PUSHED.search(plan)
    if m:
        found.append(f"filter pushed into the scan ({m.group(0).strip()[:90]})")
    pruned = _columns_pruned(plan)
    if pruned:
        found.append(f"columns pruned at the scan ({pruned})")
    return bool(found), "; ".join(found) or "plan shows no pushdown"


def _claim_bool(value: object) -> bool | None:
    return value if isinstance(value, bool) else (None if value is None else True)


@dataclass
class Evidence:
    engine: str
    capability: str
    claim: object
    measured: bool | None  # None: not measurable here
    evidence: str

    @property
    def disagrees(self) -> bool:
        claim = _claim_bool(self.claim)
        return self.measured is not None and claim is not None and claim != self.measured


def capability_table(speedup: list[dict], sweep: list[dict], plans: dict[str, str | None], cluster_ok: dict[str, int],
                     arrow_bytes: dict[int, int], budget: int, cores: int, gpu: str | None) -> list[Evidence]:
    """The lab's claims beside what this machine measured, engine by engine.

    speedup: metrics_speedup rows (main grid); plans: engine -> plan of query C;
    cluster_ok: engine -> most executors it answered correctly on; gpu: the GPU
    found, or None.
    """
    out: list[Evidence] = []
    for engine in CORE_ENGINES:
        claims = engine_class(engine).lab_claims  # the lab's table, as it claims (True/False, or its text)
        if claims is None:
            continue
        # Optimizer: the plan of query C (filters + join) shows pushdown or pruning.
        seen, text = plan_evidence(plans.get(engine)) if engine in plans else (None, "no plan recorded yet")
        out.append(Evidence(engine, "optimizer", claims["optimizer"], seen, text))
        # Distributed: answered on a cluster of executors.
        n = cluster_ok.get(engine)
        out.append(Evidence(engine, "distributed", claims["distributed"], True if n else None,
                            f"answered {', '.join(QUERY_NAMES)} on a {n}-executor standalone cluster" if n
                            else "no cluster cells measured yet (bench-pipeline cluster)" if engine == DISTRIBUTED
                            else "a single-process engine: nothing to measure on a cluster"))
        out.append(Evidence(engine, "arrow", claims["arrow"], None, "not measured (a claim about the format)"))
        # Out-of-core: query L (the whole table kept by the engine) completed under a budget smaller than the
        # table. A, B, C read a few columns, so completing them proves less than it seems.
        engines = [engine, *_streaming_of(engine)]
        over = [r for r in measured(sweep) if r["engine"] in engines and r["query"] == LOAD_QUERY
                and arrow_bytes.get(r["dataset_rows"], 0) > budget]
        done = [r for r in over if r["status"] == "ok"]
        if done:
            r = max(done, key=lambda r: r["dataset_rows"])
            out.append(Evidence(engine, "out_of_core", claims["out_of_core"], True,
                                f"{r['engine']} kept the whole table (L) of {r['dataset_rows']:,} rows, "
                                f"{arrow_bytes[r['dataset_rows']] / budget:.2f}x the {fmt.gib(budget)} budget"))
        elif over:
            out.append(Evidence(engine, "out_of_core", claims["out_of_core"], False,
                                f"L on data larger than the {fmt.gib(budget)} budget ended "
                                + ", ".join(sorted({f"{r['status']} ({r['engine']})" for r in over}))))
        else:
            out.append(Evidence(engine, "out_of_core", claims["out_of_core"], None,
                                "no sweep size larger than the budget measured yet"))
        # Parallel: speedup against 1 thread at the most threads measured within the machine's cores.
        within = [r for r in speedup if r["engine"] == engine and 1 < r["threads"] <= cores
                  and r["speedup"] is not None]
        top = max((r["threads"] for r in within), default=None)
        pts = [r for r in within if r["threads"] == top]
        if pts:
            best = max(pts, key=lambda r: r["speedup"])
            out.append(Evidence(engine, "parallel", claims["parallel"], best["speedup"] >= 1.2,
                                f"best speedup at {top} threads {best['speedup']:.2f}x (query {best['query']}); "
                                + ", ".join(f"{r['query']} {r['speedup']:.2f}x" for r in pts)))
        else:
            out.append(Evidence(engine, "parallel", claims["parallel"], None,
                                "no valid 1-thread and multi-thread cells measured yet" if cores > 1 else "one core"))
        out.append(Evidence(engine, "apis", claims["apis"], None, "not measured (a claim about the interface)"))
        out.append(Evidence(engine, "gpu", claims["gpu"], None,
                            f"GPU present ({gpu}) but not benchmarked" if gpu else "no GPU on this machine"))
    return out


def find_gpu() -> str | None:
    """A GPU's device name if this machine has an NVIDIA device, else None."""
    dev = Path("/proc/driver/nvidia/gpus")
    if dev.is_dir():
        return ", ".join(sorted(p.name for p in dev.iterdir())) or "nvidia"
    return None


def capability_disagreements(table: list[Evidence]) -> list[str]:
    return [f"{e.engine} / {CAPABILITY_TITLES[e.capability]}: the lab's table says "
            f"{'yes' if _claim_bool(e.claim) else 'no'}, this machine measured "
            f"{'yes' if e.measured else 'no'} ({e.evidence})." for e in table if e.disagrees]
