"""`bench-pipeline calibrate`: the noise between processes on this machine and the rule's error rates on it.

Two sets of measurements, taken in interleaved rounds (each round one fresh process per query, in a shuffled
order, so the machine's drift falls on all of them alike):

- **A/A**: DuckDB on the grid's queries, every process the same work. The scatter of the process values is the
  machine's noise, stored as the prior (calibration.py). Replaying random halves of a query's processes against
  each other through the sequential rule (stats.sequential) counts how often it calls a difference where
  there is none: the false-positive rate.
- **Known differences**: DuckDB hashing N, 1.1 N, 1.2 N and 2 N integers (a workload written under the state
  folder). Random draws of the N processes against the others, as many processes per side as the default
  budget's share of one query pays for, count how often the rule calls the true direction: the power.

The draws come from a finite set of processes, so they are not independent: the rates are estimates from
resampling, and their count says how many comparisons they rest on. The smallest difference the default budget
resolves is computed from the measured noise by simulation (the rule run on simulated processes).
"""

from __future__ import annotations

import datetime as dt
import math
import random
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bench_pipeline.analysis import stats
from bench_pipeline.analysis.calibration import ENGINE as engine
from bench_pipeline.analysis.history import classify
from bench_pipeline.workloads.social.catalogue import QUERY_NAMES
from bench_pipeline.workloads.spec import load_workload, write_if_changed

HASH_ROWS = 200_000_000  # N: about 0.7 s of hashing at 2 threads here, far above a process's fixed costs
FACTORS = (1.0, 1.1, 1.2, 2.0)  # the known amounts of work, as multiples of N
AA_SPLITS = 240  # A/A comparisons replayed (at least 200), spread over the queries
POWER_DRAWS = 200
SIMULATED = 400  # simulated comparisons per difference for the smallest resolvable difference
RESOLVE_POWER = 0.8
CANDIDATES = (1.02, 1.03, 1.05, 1.075, 1.1, 1.15, 1.2, 1.25, 1.3, 1.4, 1.5, 1.75, 2.0, 3.0)


class CalibrationFailed(RuntimeError):
    """A process of the calibration did not answer: no rate can be computed from the rest."""


def known_query(factor: float) -> str:
    return f"x{round(factor * 100)}"


def write_known_workload(folder: Path) -> Path:
    """The known-difference workload: one tiny table (the format needs one) and a hashing query per factor."""
    import pyarrow as pa  # pyarrow: only where it is used
    import pyarrow.parquet as pq  # pyarrow: only where it is used

    folder.mkdir(parents=True, exist_ok=True)
    if not (folder / "one.parquet").exists():
        pq.write_table(pa.table({"x": [1]}), folder / "one.parquet")
    lines = ['name = "calibration"', 'description = "DuckDB hashing N integers against a known multiple of N"',
             "[tables]", 'one = "one.parquet"']
    for f in FACTORS:
        lines += [f"[queries.{known_query(f)}]",
                  f'sql = "SELECT sum(hash(range)) AS h FROM range({round(f * HASH_ROWS)})"',
                  f'description = "hash {f:g} N integers"']
    write_if_changed(folder / "workload.toml", "\n".join(lines) + "\n")
    return folder


@dataclass
class Pool:
    """The process values of one query (one engine, threads, data), in the order measured."""

    query: str
    values: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)  # wall time of each process
    failed: str | None = None


def measure_pools(jobs: dict[str, Callable[[], list[dict]]], processes: int, rng: random.Random,
                  on_process: Callable[[int, str, Pool], None] = lambda *a: None,
                  clock: Callable[[], float] | None = None) -> dict[str, Pool]:
    """`processes` rounds; each runs every job (one process: its rows) once, in a shuffled order."""
    clock = clock or time.monotonic
    pools = {name: Pool(name) for name in jobs}
    for n in range(1, processes + 1):
        order = list(jobs)
        rng.shuffle(order)
        for name in order:
            pool = pools[name]
            if pool.failed:
                continue
            start = clock()
            rows = jobs[name]()
            pool.seconds.append(clock() - start)
            bad = next((r for r in rows if r.get("status") != "ok"), None)
            values = stats.process_values(rows)
            if bad or not values:
                pool.failed = (bad or {}).get("message") or (bad or {}).get("status") or "no warm run"
            else:
                pool.values.append(values[0])
            on_process(n, name, pool)
    return pools


def noise_of(pools: list[Pool]) -> stats.Noise:
    """The pooled log-scale standard deviation between processes of the A/A queries, with its degrees of
    freedom."""
    ss = df = 0.0
    for p in pools:
        logs = [math.log(v) for v in p.values]
        if len(logs) > 1:
            mean = sum(logs) / len(logs)
            ss += sum((x - mean) ** 2 for x in logs)
            df += len(logs) - 1
    if not df:
        raise ValueError("no query has two processes: the noise cannot be estimated")
    return stats.Noise(math.sqrt(ss / df), df, "calibrated")


def false_positives(pools: list[Pool], prior: stats.Noise, splits: int, rng: random.Random) -> tuple[int, int]:
    """(called different, comparisons): random halves of each query's processes replayed through the rule."""
    usable = [p for p in pools if len(p.values) >= 2]
    called = total = 0
    for i in range(splits):
        values = list(usable[i % len(usable)].values)
        rng.shuffle(values)
        half = len(values) // 2
        answer, _ = stats.sequential(values[:half], values[half:2 * half], prior)
        called += answer in (stats.FASTER, stats.SLOWER)
        total += 1
    return called, total


def false_alarms(pools: list[Pool], prior: stats.Noise, processes: int, threshold: float, draws: int,
                 rng: random.Random) -> tuple[int, int]:
    """(flagged, re-measures): an unchanged re-measure judged by the history's regression rule as the rounds
    measure it: the earlier measurement is `processes` processes of one query; the re-measure grows one process
    at a time, the rule looking after each (its history question is fed until decided), up to as many; flagged
    when the look that decides it (or the last) calls a change. Two disjoint draws of one query's processes."""
    usable = [p for p in pools if len(p.values) >= 2]
    flagged = 0
    for i in range(draws):
        values = usable[i % len(usable)].values
        k = max(1, min(processes, len(values) // 2))
        drawn = rng.sample(values, 2 * k)
        before, after = drawn[:k], drawn[k:]
        for j in range(1, k + 1):
            noise = stats.pooled((after[:j], before), prior)
            kind, _ = classify(after[:j], before, threshold, noise)
            c = stats.compare(after[:j], before, noise)
            if kind is not None or (c is not None and c.decided) or j == k:
                flagged += kind is not None
                break
    return flagged, draws


def power(fast: Pool, slow: Pool, prior: stats.Noise, most: int, draws: int, rng: random.Random) -> tuple[int, int]:
    """(called faster the right way, draws): random draws of `most` processes a side replayed through the rule."""
    most = max(1, min(most, len(fast.values), len(slow.values)))
    right = 0
    for _ in range(draws):
        answer, _ = stats.sequential(rng.sample(fast.values, most), rng.sample(slow.values, most), prior)
        right += answer == stats.FASTER
    return right, draws


def one_process_calls(fast: Pool, slow: Pool, prior: stats.Noise) -> tuple[int, int]:
    """(pairs called the right way, pairs): every process of one side against every process of the other, alone."""
    right = total = 0
    for a in fast.values:
        for b in slow.values:
            c = stats.compare([a], [b], stats.pooled(([a], [b]), prior))
            right += c is not None and c.answer == stats.FASTER
            total += 1
    return right, total


def simulated_power(ratio: float, noise: stats.Noise, most: int, trials: int, rng: random.Random) -> float:
    """The share of simulated comparisons (log-normal processes with the measured noise) called the right way."""
    hits = 0
    for _ in range(trials):
        a = [math.exp(rng.gauss(0.0, noise.sigma)) for _ in range(most)]
        b = [ratio * math.exp(rng.gauss(0.0, noise.sigma)) for _ in range(most)]
        hits += stats.sequential(a, b, noise)[0] == stats.FASTER
    return hits / trials


def smallest_resolved(noise: stats.Noise, most: int, rng: random.Random) -> float | None:
    """The smallest candidate difference called the right way at least RESOLVE_POWER of the time."""
    return next((r for r in CANDIDATES if simulated_power(r, noise, most, SIMULATED, rng) >= RESOLVE_POWER), None)


def processes_in(share_s: float, seconds: list[float]) -> int:
    """How many processes a side gets in `share_s` seconds, at the median time of its processes."""
    per = statistics.median(seconds) if seconds else share_s
    return max(1, min(int(share_s // per), 20))


def calibrate(settings, data, processes: int, threads: int,
              say: Callable[[str], None] = lambda line: print(line, flush=True)) -> dict:
    """Measure the pools (progress through `say`) and return this machine's record: what `describe` prints and
    calibration.save stores."""
    pools = measure(settings, data, processes, threads, say)
    return figures(settings, pools, processes, threads, random.Random())


def measure(settings, data, processes: int, threads: int, say: Callable[[str], None]) -> dict[str, Pool]:
    """Every A/A query and known difference, `processes` processes each in interleaved rounds;
    CalibrationFailed unless every process answered."""
    from bench_pipeline.harness.runner import QuerySpec, run_query  # keeps numpy, psutil off the import path
    from bench_pipeline.workloads.reference import validate_answer  # keeps numpy off the import path

    known = load_workload(write_known_workload(settings.home / "calibration"))

    def job(query, source, validator=None, name=engine):
        spec = QuerySpec(name, query, source, threads, repeats=1, max_repeats=max(settings.repeats, 1),
                         precision=1e-9, query_budget_s=settings.query_budget_s, validator=validator)
        return lambda: run_query(spec)

    jobs = {q: job(q, data) for q in QUERY_NAMES}
    jobs |= {known_query(f): job(known_query(f), known, validate_answer, engine) for f in FACTORS}
    say(f"calibrating: {engine} at {threads} threads; A/A on queries {', '.join(QUERY_NAMES)} of {settings.rows:,} "
        f"rows and known differences (hashing {HASH_ROWS:,} integers x {', '.join(f'{f:g}' for f in FACTORS)}); "
        f"{processes} processes each, in interleaved rounds")
    done: dict[int, int] = {}

    def on_process(n, name, pool):  # plain lines: a calibration mostly runs into a log
        if pool.failed:
            say(f"round {n}: {name} failed: {pool.failed}")
        done[n] = done.get(n, 0) + 1
        if done[n] == len(jobs):
            say(f"{dt.datetime.now():%H:%M:%S} round {n}/{processes} done")

    pools = measure_pools(jobs, processes, random.Random(), on_process)
    failed = {q: p.failed for q, p in pools.items() if p.failed}
    if failed:
        raise CalibrationFailed("calibration needs every process to answer: "
                                + "; ".join(f"{q}: {why}" for q, why in failed.items()))
    return pools


def figures(settings, pools: dict[str, Pool], processes: int, threads: int, rng: random.Random) -> dict:
    """The machine's record from measured pools: the noise, the rule's false positives and false alarms, its
    power on the known differences and the smallest difference the default budget resolves."""
    aa = list(pools.values())  # every query is its own A/A pool: the same work in every process
    noise = noise_of(aa)
    measurements = len(settings.engines) * len(settings.threads) * len(QUERY_NAMES)
    share = settings.time_budget_s / measurements
    base = pools[known_query(1.0)]
    most = processes_in(share, base.seconds)
    called, total = false_positives(aa, noise, AA_SPLITS, rng)
    alarms, remeasures = false_alarms(aa, noise, most, settings.regression_threshold, AA_SPLITS, rng)
    record = {"noise": noise.sigma, "noise_df": noise.df, "engine": engine, "threads": threads, "rows": settings.rows,
              "processes": processes, "false_positives": [called, total], "false_alarms": [alarms, remeasures],
              "threshold": settings.regression_threshold, "time_budget_s": settings.time_budget_s,
              "measurements": measurements, "share_seconds": share, "processes_in_share": most,
              "base_seconds": statistics.median(base.seconds),
              "noise_per_query": {p.query: noise_of([p]).sigma for p in aa}, "power": {},
              "process_values": {q: p.values for q, p in pools.items()}}  # what the rates were computed from
    for f in FACTORS[1:]:
        slow = pools[known_query(f)]
        measured = stats.compare(base.values, slow.values, noise)
        right, draws = power(base, slow, noise, most, POWER_DRAWS, rng)
        one, pairs = one_process_calls(base, slow, noise)
        record["power"][f"{f:g}"] = {"called": right, "draws": draws, "one_process": [one, pairs],
                                     "measured_ratio": 1 / measured.ratio}
    record["resolves"] = smallest_resolved(noise, most, rng)
    return record


def describe(record: dict) -> list[str]:
    """The record as the lines `bench-pipeline calibrate` prints."""
    (called, total), (alarms, remeasures) = record["false_positives"], record["false_alarms"]
    most, threshold, resolves = record["processes_in_share"], record["threshold"], record["resolves"]
    queries = len(record["noise_per_query"])
    lines = [
        f"noise between processes: {record['noise']:.3f} (log-scale standard deviation, {record['noise_df']:.0f} "
        f"degrees of freedom; {queries} queries x {record['processes']} processes)",
        "  per query: " + ", ".join(f"{q} {s:.3f}" for q, s in record["noise_per_query"].items()),
        f"A/A false positives: {called} of {total} comparisons called different ({called / total:.1%}; goal at most "
        f"5 %): random halves of each query's processes, the rule applied after each pair of processes",
        f"history false alarms: {alarms} of {remeasures} unchanged re-measures ({most} processes each) flagged as a "
        f"change of more than {threshold:.0%} ({alarms / remeasures:.1%}; goal at most 5 %)",
        f"power on known differences, at most {most} processes a side (the default budget's share of one query: "
        f"{record['time_budget_s']:.0f} s / {record['measurements']} measurements = {record['share_seconds']:.1f} s; "
        f"one process of the N query takes {record['base_seconds']:.1f} s):"]
    for f, p in record["power"].items():
        (one, pairs), right, draws = p["one_process"], p["called"], p["draws"]
        lines.append(f"  {f} N (measured {p['measured_ratio']:.3f}x): called faster {right} of {draws} draws "
                     f"({right / draws:.0%}); with one process a side {one} of {pairs} pairs ({one / pairs:.0%})")
    lines.append("smallest difference the default budget resolves here (called the right way 80 % of the time, "
                 f"simulated at this noise with {most} processes a side): "
                 + (f"{resolves - 1:.1%}" if resolves else f"more than {CANDIDATES[-1] - 1:.0%}"))
    return lines
