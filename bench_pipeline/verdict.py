"""The verdict: which engine to use here, written from the measurements (SPEC §3).

For each query, at the machine's cores (or the nearest thread count measured
below them): the fastest engine by median warm time, and every engine that
cannot be told apart from it by the rule of `stats.py` (faster by at least 5 %
with 95 % confidence); how each engine scales from 1 thread to the cores (the
speedup with its interval, or "does not scale here" when the rule cannot tell
the two apart); the smallest peak memory. Then a short recommendation with its
caveats (data size, machine, noisy and single-run measurements). Every sentence
is built from the rows, so on another machine the text follows its numbers.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

from bench_pipeline import stats
from bench_pipeline.queries import QUERIES, QUERY_NAMES


def rule() -> str:
    """The rule in words, with the cell noise in force (stats.py)."""
    tied_below = math.exp(1.96 * math.sqrt(2) * stats.cell_noise()) * (1 + stats.MIN_DIFFERENCE) - 1
    return (f"an engine is called faster only when the 95 % interval of the ratio of median warm times lies "
            f"entirely below 1/{1 + stats.MIN_DIFFERENCE:g} (at least {stats.MIN_DIFFERENCE:.0%} faster with 95 % "
            f"confidence); the interval is Welch's t on log times widened by the noise of each cell, "
            f"{stats.cell_noise():.2f} on the log scale (two cells of one engine differ by that much beyond their "
            f"runs' scatter), so engines closer than about {tied_below:.0%} "
            f"are tied; fewer than 2 warm runs: no call")


@dataclass
class Scaling:
    engine: str
    threads: int
    speedup: float | None
    low: float | None
    high: float | None
    scales: bool

    def text(self) -> str:
        if self.speedup is None:
            return "not measured at 1 thread and at the cores"
        if self.low is None:  # fewer than 2 warm runs on a side: nothing can be said either way
            return f"{self.speedup:.2f}x at {_threads(self.threads)} (too few warm runs to tell)"
        interval = f" (95 % {self.low:.2f}-{self.high:.2f})"
        verdict = "" if self.scales else "; does not scale here"
        return f"{self.speedup:.2f}x at {_threads(self.threads)}{interval}{verdict}"


@dataclass
class QueryVerdict:
    query: str
    threads: int | None
    fastest: str | None
    tied_with: list[str] = field(default_factory=list)
    median: dict[str, float] = field(default_factory=dict)
    scaling: list[Scaling] = field(default_factory=list)
    smallest_memory: tuple[str, float] | None = None
    not_valid: dict[str, str] = field(default_factory=dict)  # engine -> status
    noisy: list[str] = field(default_factory=list)
    few_runs: list[str] = field(default_factory=list)  # fewer than 2 warm runs: no interval

    def as_json(self) -> dict:
        return {"fastest": self.fastest, "tied_with": self.tied_with, "threads": self.threads,
                "median_seconds": self.median, "not_valid": self.not_valid, "noisy": self.noisy,
                "scaling": {s.engine: {"threads": s.threads, "speedup": s.speedup, "low": s.low, "high": s.high,
                                       "scales": s.scales} for s in self.scaling},
                "smallest_memory": self.smallest_memory[0] if self.smallest_memory else None}


@dataclass
class Verdict:
    queries: dict[str, QueryVerdict]
    recommendation: list[str]
    caveats: list[str]
    cores: int
    rows: int | None

    def as_json(self) -> dict:
        return {**{q: v.as_json() for q, v in self.queries.items()}, "rule": rule(),
                "recommendation": self.recommendation, "caveats": self.caveats}


def _named(query: str) -> str:
    """'B (window)' for a catalogue query; a workload's query by its own name."""
    return f"{query} ({QUERIES[query].title})" if query in QUERIES else query


def verdict_rows(latest: list[dict], engines, threads) -> list[dict]:
    """The rows a verdict is about: the engines and thread counts asked (not every cell the store holds)."""
    asked = {(e, t) for e in engines for t in threads}
    return [r for r in latest if (r["engine"], r["threads_asked"]) in asked]


def _compared_threads(rows: list[dict], cores: int) -> int | None:
    measured = sorted({r["threads_asked"] for r in rows})
    if not measured:
        return None
    within = [t for t in measured if t <= cores]
    return max(within) if within else min(measured)


def query_verdict(latest: list[dict], query: str, cores: int) -> QueryVerdict:
    rows = [r for r in latest if r["query"] == query]
    threads = _compared_threads(rows, cores)
    v = QueryVerdict(query, threads, None)
    at = {r["engine"]: r for r in rows if r["threads_asked"] == threads}
    ok = {e: r for e, r in at.items() if r["status"] == "ok" and r.get("median_seconds") is not None}
    v.not_valid = {e: r["status"] for e, r in at.items() if e not in ok}
    v.median = {e: r["median_seconds"] for e, r in sorted(ok.items(), key=lambda kv: kv[1]["median_seconds"])}
    v.noisy = sorted(e for e, r in ok.items() if r.get("noisy"))
    v.few_runs = sorted(e for e, r in ok.items() if len(r.get("warm_list") or []) < 2)
    if ok:
        v.fastest = next(iter(v.median))
        best = ok[v.fastest].get("warm_list") or []
        v.tied_with = [e for e in v.median if e != v.fastest
                       and not stats.faster(best, ok[e].get("warm_list") or [])]
        peak = {e: r["peak_rss_bytes"] for e, r in ok.items() if r.get("peak_rss_bytes")}
        if peak:
            e = min(peak, key=peak.get)
            v.smallest_memory = (e, peak[e])
    one = {r["engine"]: r for r in rows if r["threads_asked"] == 1 and r["status"] == "ok"}
    # Scaling at the compared thread count; if that is 1, at the next count measured (oversubscribed then).
    more = sorted({r["threads_asked"] for r in rows if r["threads_asked"] > 1})
    scale_at = threads if threads and threads > 1 else (more[0] if more else None)
    at_scale = {r["engine"]: r for r in rows if r["threads_asked"] == scale_at and r["status"] == "ok"
                and r.get("median_seconds")}
    for e, r in at_scale.items():
        if e not in one:
            continue
        base, runs = one[e].get("warm_list") or [], r.get("warm_list") or []
        interval = stats.speedup(base, runs)
        value = one[e]["median_seconds"] / r["median_seconds"]
        v.scaling.append(Scaling(e, scale_at, value, interval.low if interval else None,
                                 interval.high if interval else None, stats.faster(runs, base)))
    v.scaling.sort(key=lambda s: -(s.speedup or 0))
    return v


def _threads(n: int | None) -> str:
    return f"{n} thread" + ("" if n == 1 else "s")


def _seconds(s: float) -> str:
    return f"{s * 1000:.0f} ms" if s < 1 else f"{s:.2f} s"


def build_verdict(latest: list[dict], cores: int, rows: int | None = None, queries=QUERY_NAMES) -> Verdict:
    per_query = {q: query_verdict(latest, q, cores) for q in queries if any(r["query"] == q for r in latest)}
    lines = []
    wins: Counter = Counter()
    for q, v in per_query.items():
        if v.fastest is None:
            lines.append(f"{_named(q)}: no engine gave a valid answer at {_threads(v.threads)}.")
            continue
        wins.update([v.fastest, *v.tied_with])
        tie = (f"; tied with {', '.join(v.tied_with)} (cannot be told apart)" if v.tied_with
               else "; every other engine is slower by the rule")
        lines.append(f"{_named(q)}: {v.fastest} is fastest at {_threads(v.threads)}, "
                     f"{_seconds(v.median[v.fastest])}{tie}.")
    if wins:
        top = max(wins.values())
        leaders = sorted(e for e, n in wins.items() if n == top)
        lines.insert(0, f"Use {' or '.join(leaders)} for this work on this machine: fastest or tied with the "
                        f"fastest on {top} of {len(per_query)} queries.")
        scalers = sorted({s.engine for v in per_query.values() for s in v.scaling if s.scales})
        # "Do not scale" only where an interval says so; too few runs say nothing.
        flat = sorted({s.engine for v in per_query.values() for s in v.scaling if s.low is not None} - set(scalers))
        if scalers:
            lines.append(f"Scale with threads here (at least one query {stats.MIN_DIFFERENCE:.0%} faster at the "
                         f"cores, 95 % confidence): {', '.join(scalers)}.")
        if flat:
            lines.append(f"Do not scale here on any query: {', '.join(flat)}.")
    caveats = [f"Measured on {rows:,} rows" if rows else "Measured", ]
    caveats[0] += f" on a machine with {cores} logical cores; another data size or machine can change the ranking."
    noisy = sorted({f"{e} {q}" for q, v in per_query.items() for e in v.noisy})
    if noisy:
        caveats.append(f"Noisy measurements (other work used the CPU, kept after re-measuring): {', '.join(noisy)}.")
    few = sorted({f"{e} {q}" for q, v in per_query.items() for e in v.few_runs})
    if few:
        caveats.append(f"Fewer than 2 warm runs (no interval, never called faster or slower): {', '.join(few)}.")
    bad = sorted({f"{e} {q} ({st})" for q, v in per_query.items() for e, st in v.not_valid.items()})
    if bad:
        caveats.append(f"No valid result: {', '.join(bad)}.")
    return Verdict(per_query, lines, caveats, cores, rows)
