"""The verdict: which engine to use here, written from the measurements.

For each query, at the machine's cores (or the nearest thread count measured below them): the fastest engine
by typical time, and every other engine compared with it by the rule of `stats.py`, each comparison answered
*faster/slower*, *equivalent* (within ±MARGIN) or *undecided* (with the processes it had and about how many
would decide it), never "tied" for "not measured enough". How each engine scales from 1 thread to the cores,
answered the same way: *scales*, *does not scale* (equivalent to 1x), *slows down* or *undecided*. The
smallest peak memory. Then a short recommendation with its caveats (data size, machine, the noise the rule
used, noisy measurements). Every sentence is built from the rows, so on another machine the text follows its
numbers. The rounds (`harness/rounds.py`) ask this same module which comparisons are still open.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from bench_pipeline.analysis import stats
from bench_pipeline.harness.rounds import OTHER, RECOMMENDATION, SCALING, Measurement, Question
from bench_pipeline.results.fields import columns
from bench_pipeline.workloads.social.catalogue import QUERIES, QUERY_NAMES

SCALES, DOES_NOT_SCALE, SLOWS_DOWN = "scales", "does not scale", "slows down"
LOOK = f"{stats.LOOK_CONFIDENCE * 100:g} %"  # '99.5 %': the confidence of each look's interval


def rule(noise: stats.Noise | None = None) -> str:
    """The rule in words."""
    text = (f"each query runs in several fresh processes (the unit of replication), each process counting the "
            f"median of its warm runs; two engines are compared by the ratio of their typical times with an "
            f"interval from the noise between processes (each side's own scatter shrunk towards the machine's "
            f"noise); faster or slower when the interval excludes 1, equivalent when it lies within "
            f"±{stats.MARGIN:.0%}, undecided otherwise; the rule is applied after every round, each look at "
            f"{LOOK} so that every answer holds with at least 95 % confidence")
    return text + (f"; noise between processes: {noise.text()}" if noise else "")


def _why(c: stats.Comparison | None, most_processes: int | None, other_first: bool = False) -> str:
    """Why a comparison is open: the processes it had (in the order the comparison is named) and about how many
    a side would decide it."""
    if c is None:
        return "no process measured"
    need = c.processes_to_decide()
    a, b = c.processes[::-1] if other_first else c.processes
    sides = f"{a} and {b} processes"
    if need is None:
        return sides
    if most_processes and need > most_processes:
        return f"{sides}; about {need} a side would decide it, more than the {most_processes} allowed"
    return f"{sides}; about {need} a side would decide it"


def _ratio(c: stats.Comparison) -> str:
    """'1.29x slower (99 % 1.12-1.48)' from the point of view of the side compared (b / a read as 'x slower')."""
    return f"{1 / c.ratio:.2f}x ({LOOK} {1 / c.high:.2f}-{1 / c.low:.2f})"


@dataclass
class EngineComparison:
    """The fastest engine against another: `comparison` is fastest / other (answer from the fastest's side)."""

    engine: str
    comparison: stats.Comparison | None
    most_processes: int | None = None

    @property
    def answer(self) -> str:
        """From the other engine's side: slower, faster (it happens: a typical time is not a decision), ..."""
        if self.comparison is None:
            return stats.UNDECIDED
        return {stats.FASTER: stats.SLOWER, stats.SLOWER: stats.FASTER}.get(self.comparison.answer,
                                                                              self.comparison.answer)

    def why(self) -> str:
        return _why(self.comparison, self.most_processes, other_first=True)

    def text(self) -> str:
        c = self.comparison
        if c is None:
            return f"{self.engine} undecided (no process measured)"
        if self.answer == stats.UNDECIDED:
            return f"{self.engine} undecided at {_ratio(c)} ({self.why()})"
        if self.answer == stats.EQUIVALENT:
            return f"{self.engine} equivalent within ±{stats.MARGIN:.0%} ({_ratio(c)})"
        return f"{self.engine} {self.answer}: {_ratio(c)}"

    def as_json(self) -> dict:
        c = self.comparison
        return {"answer": self.answer, "ratio": 1 / c.ratio if c else None, "low": 1 / c.high if c else None,
                "high": 1 / c.low if c else None, "processes": list(c.processes) if c else None,
                "why": self.why() if self.answer == stats.UNDECIDED else None}


@dataclass
class Scaling:
    engine: str
    threads: int
    comparison: stats.Comparison | None  # at 1 thread / at `threads`: the speedup
    most_processes: int | None = None

    @property
    def speedup(self) -> float | None:
        return self.comparison.ratio if self.comparison else None

    @property
    def answer(self) -> str:
        c = self.comparison
        if c is None:
            return stats.UNDECIDED
        return {stats.SLOWER: SCALES, stats.EQUIVALENT: DOES_NOT_SCALE, stats.FASTER: SLOWS_DOWN}.get(
            c.answer, stats.UNDECIDED)

    @property
    def scales(self) -> bool:
        return self.answer == SCALES

    def text(self) -> str:
        c = self.comparison
        if c is None:
            return "not measured at 1 thread and at the cores"
        at = f"{c.ratio:.2f}x at {_threads(self.threads)} ({LOOK} {c.low:.2f}-{c.high:.2f})"
        if self.answer == stats.UNDECIDED:
            return f"{at}: undecided ({self.why()})"
        return f"{at}: {self.answer}" + (f" (within ±{stats.MARGIN:.0%} of 1x)" if self.answer == DOES_NOT_SCALE
                                         else "")

    def why(self) -> str:
        return _why(self.comparison, self.most_processes)

    def as_json(self) -> dict:
        c = self.comparison
        return {"threads": self.threads, "speedup": self.speedup, "low": c.low if c else None,
                "high": c.high if c else None, "answer": self.answer}


@dataclass
class QueryVerdict:
    query: str
    threads: int | None
    fastest: str | None
    compared: list[EngineComparison] = field(default_factory=list)
    median: dict[str, float] = field(default_factory=dict)
    scaling: list[Scaling] = field(default_factory=list)
    smallest_memory: tuple[str, float] | None = None
    not_valid: dict[str, str] = field(default_factory=dict)  # engine -> status
    noisy: list[str] = field(default_factory=list)

    def with_answer(self, answer: str) -> list[str]:
        return [c.engine for c in self.compared if c.answer == answer]

    @property
    def open(self) -> list[EngineComparison]:
        return [c for c in self.compared if c.answer == stats.UNDECIDED]

    def as_json(self) -> dict:
        return {"fastest": self.fastest, "threads": self.threads, "median_seconds": self.median,
                "slower": self.with_answer(stats.SLOWER), "equivalent": self.with_answer(stats.EQUIVALENT),
                "undecided": self.with_answer(stats.UNDECIDED),
                "compared": {c.engine: c.as_json() for c in self.compared},
                "not_valid": self.not_valid, "noisy": self.noisy,
                "scaling": {s.engine: s.as_json() for s in self.scaling},
                "smallest_memory": self.smallest_memory[0] if self.smallest_memory else None}


@dataclass
class Verdict:
    queries: dict[str, QueryVerdict]
    recommendation: list[str]
    caveats: list[str]
    cores: int
    rows: int | None
    noise: stats.Noise

    def as_json(self) -> dict:
        return {**{q: v.as_json() for q, v in self.queries.items()}, "rule": rule(self.noise),
                "noise": {"sigma": self.noise.sigma, "source": self.noise.source},
                "recommendation": self.recommendation, "caveats": self.caveats}

    def table(self) -> list[dict]:
        """One row per comparison (the report's and the terminal's verdict table)."""
        out = []
        for q, v in self.queries.items():
            for c in v.compared:
                k = c.comparison
                out.append({"query": q, "kind": "engine", "what": f"{c.engine} vs {v.fastest}",
                            "threads": v.threads, "ratio": 1 / k.ratio if k else None,
                            "interval": f"{1 / k.high:.2f}-{1 / k.low:.2f}" if k else None,
                            "answer": c.answer, "processes": f"{k.processes[1]} / {k.processes[0]}" if k else None,
                            "why": c.why() if c.answer == stats.UNDECIDED else ""})
            for s in v.scaling:
                k = s.comparison
                out.append({"query": q, "kind": "scaling", "what": f"{s.engine} 1 -> {s.threads} threads",
                            "threads": s.threads, "ratio": k.ratio if k else None,
                            "interval": f"{k.low:.2f}-{k.high:.2f}" if k else None, "answer": s.answer,
                            "processes": f"{k.processes[0]} / {k.processes[1]}" if k else None,
                            "why": s.why() if s.answer == stats.UNDECIDED else ""})
        return out


TABLE_COLUMNS = columns("query", "what", "ratio", ("interval", f"{LOOK} interval"), "answer", "processes", "why")


def _named(query: str) -> str:
    """'B (window)' for a catalogue query; a workload's query by its own name."""
    return f"{query} ({QUERIES[query].title})" if query in QUERIES else query


def verdict_rows(latest: list[dict], engines, threads) -> list[dict]:
    """The rows a verdict is about: the engines and thread counts asked (not every cell the store holds)."""
    asked = {(e, t) for e in engines for t in threads}
    return [r for r in latest if (r["engine"], r["threads_asked"]) in asked]


def compared_threads(rows: list[dict], cores: int) -> int | None:
    return stats.compared_count((r["threads_asked"] for r in rows), cores)


def _ok(r: dict) -> bool:
    return r["status"] == "ok" and bool(stats.processes_of(r))


def noise_of(latest: list[dict], prior: stats.Noise) -> stats.Noise:
    """The prior updated by every valid measurement's processes (the same day, the same machine)."""
    return stats.pooled((stats.processes_of(r) for r in latest if _ok(r)), prior)


def query_verdict(latest: list[dict], query: str, cores: int, noise: stats.Noise,
                  most_processes: int | None = None) -> QueryVerdict:
    rows = [r for r in latest if r["query"] == query]
    threads = compared_threads(rows, cores)
    v = QueryVerdict(query, threads, None)
    at = {r["engine"]: r for r in rows if r["threads_asked"] == threads}
    ok = {e: r for e, r in at.items() if _ok(r)}
    v.not_valid = {e: r["status"] for e, r in at.items() if e not in ok}
    typical = {e: stats.level(stats.processes_of(r), noise).value for e, r in ok.items()}
    v.median = {e: ok[e].get("median_seconds") or typical[e] for e in sorted(ok, key=typical.get)}
    v.noisy = sorted(e for e, r in ok.items() if r.get("noisy"))
    if ok:
        v.fastest = min(typical, key=typical.get)
        best = stats.processes_of(ok[v.fastest])
        v.compared = [EngineComparison(e, stats.compare(best, stats.processes_of(ok[e]), noise), most_processes)
                      for e in v.median if e != v.fastest]
        peak = {e: r["peak_rss_bytes"] for e, r in ok.items() if r.get("peak_rss_bytes")}
        if peak:
            e = min(peak, key=peak.get)
            v.smallest_memory = (e, peak[e])
    one = {r["engine"]: r for r in rows if r["threads_asked"] == 1 and _ok(r)}
    # Scaling at the compared thread count; if that is 1, at the next count measured (oversubscribed then).
    more = sorted({r["threads_asked"] for r in rows if r["threads_asked"] > 1})
    scale_at = threads if threads and threads > 1 else (more[0] if more else None)
    for r in rows:
        if r["threads_asked"] == scale_at and _ok(r) and r["engine"] in one:
            v.scaling.append(Scaling(r["engine"], scale_at, stats.compare(
                stats.processes_of(one[r["engine"]]), stats.processes_of(r), noise), most_processes))
    v.scaling.sort(key=lambda s: -(s.speedup or 0))
    return v


def questions(measurements: Sequence[Measurement], group: str, cores: int, noise: stats.Noise,
              tiers: tuple[int, int, int] = (RECOMMENDATION, SCALING, OTHER),
              order: Sequence[str] = QUERY_NAMES) -> list[Question]:
    """The verdict's comparisons as the rounds ask them, over one group's measurements (engine x threads cells):
    per query, every engine against the fastest at the compared thread count (the recommendation), then each
    engine from 1 thread to that count: the scaling of the engines that are or could still be as fast as the
    fastest, then the others' (`tiers`: what each of the three weighs). Queries in `order` first, in its order."""
    ms = [m for m in measurements if m.group == group]
    by = {(m.engine, m.threads, m.query): m for m in ms}
    rows = [m.as_row() for m in ms if m.values or m.status != "ok"]
    out = []
    asked = list(dict.fromkeys(m.query for m in ms))
    for q in sorted(asked, key=lambda q: (list(order).index(q) if q in order else len(order), asked.index(q))):
        v = query_verdict(rows, q, cores, noise)
        if v.fastest is None:
            continue
        best, panel = by[(v.fastest, v.threads, q)], _named(q)
        close = {v.fastest, *(c.engine for c in v.compared if c.answer in (stats.UNDECIDED, stats.EQUIVALENT))}
        out += [Question(by[(c.engine, v.threads, q)], best, "engine", tiers[0], panel, f"{c.engine} vs {v.fastest}")
                for c in v.compared]
        out += [Question(by[(s.engine, s.threads, q)], by[(s.engine, 1, q)], "scaling",
                         tiers[1] if s.engine in close else tiers[2], panel,
                         f"{s.engine} {s.threads} threads vs 1 thread")
                for s in v.scaling]
    return out


def _threads(n: int | None) -> str:
    return f"{n} thread" + ("" if n == 1 else "s")


def _seconds(s: float) -> str:
    return f"{s * 1000:.0f} ms" if s < 1 else f"{s:.2f} s"


def _query_line(q: str, v: QueryVerdict) -> str:
    if v.fastest is None:
        return f"{_named(q)}: no engine gave a valid answer at {_threads(v.threads)}."
    line = f"{_named(q)}: {v.fastest} is fastest at {_threads(v.threads)}, {_seconds(v.median[v.fastest])}"
    parts = []
    for answer, word in ((stats.SLOWER, "slower"), (stats.EQUIVALENT, "equivalent")):
        group = [c for c in v.compared if c.answer == answer]
        if group:
            shown = ", ".join(f"{c.engine} {_ratio(c.comparison)}" for c in group)
            parts.append(f"{word}: {shown}" if answer != stats.EQUIVALENT
                         else f"equivalent within ±{stats.MARGIN:.0%}: {shown}")
    if v.open:
        parts.append("undecided: " + ", ".join(f"{c.engine} {_ratio(c.comparison)} ({c.why()})"
                                               if c.comparison else c.engine for c in v.open))
    return line + ("; " + "; ".join(parts) if parts else "; no other engine measured") + "."


def build_verdict(latest: list[dict], cores: int, rows: int | None = None, queries=QUERY_NAMES,
                  prior: stats.Noise = stats.DEFAULT, most_processes: int | None = None,
                  resolves: str | None = None) -> Verdict:
    """`prior`: the machine's noise (calibration.prior); `resolves`: the smallest difference the default budget
    resolves on this machine, as calibrated, for the caveats."""
    noise = noise_of(latest, prior)
    per_query = {q: query_verdict(latest, q, cores, noise, most_processes) for q in queries
                 if any(r["query"] == q for r in latest)}
    lines = [_query_line(q, v) for q, v in per_query.items()]
    wins: Counter = Counter()
    for v in per_query.values():
        if v.fastest:
            wins.update([v.fastest, *v.with_answer(stats.EQUIVALENT)])
    if wins:
        top = max(wins.values())
        leaders = sorted(e for e, n in wins.items() if n == top)
        lines.insert(0, f"Use {' or '.join(leaders)} for this work on this machine: fastest, or equivalent to the "
                        f"fastest, on {top} of {len(per_query)} queries.")
        by_answer: dict[str, list[str]] = {}
        for q, v in per_query.items():
            for s in v.scaling:
                by_answer.setdefault(s.answer, []).append(f"{s.engine} {q} ({s.comparison.ratio:.2f}x)")
        for answer, words in ((SCALES, f"Scale from 1 to the cores ({LOOK} interval above 1)"),
                              (DOES_NOT_SCALE, f"Do not scale (equivalent to 1x within ±{stats.MARGIN:.0%})"),
                              (SLOWS_DOWN, "Slower with more threads"),
                              (stats.UNDECIDED, "Scaling undecided (more processes would tell)")):
            if by_answer.get(answer):
                lines.append(f"{words}: {', '.join(by_answer[answer])}.")
    caveats = [f"Measured on {rows:,} rows" if rows else "Measured"]
    caveats[0] += f" on a machine with {cores} logical cores; another data size or machine can change the ranking."
    caveats.append(f"Noise between processes: {noise.text()}."
                   + (f" The smallest difference the default budget resolves here: {resolves}." if resolves else ""))
    noisy = sorted({f"{e} {q}" for q, v in per_query.items() for e in v.noisy})
    if noisy:
        caveats.append(f"Noisy measurements (other work used the CPU, kept after re-measuring): {', '.join(noisy)}.")
    bad = sorted({f"{e} {q} ({st})" for q, v in per_query.items() for e, st in v.not_valid.items()})
    if bad:
        caveats.append(f"No valid result: {', '.join(bad)}.")
    return Verdict(per_query, lines, caveats, cores, rows, noise)
