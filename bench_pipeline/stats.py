"""Intervals and the one rule that says two measurements differ (used by the repetitions, the verdict and
the speedups).

Run times are skewed (a run can be slowed, rarely sped up), so everything is
computed on their logarithms. The headline is the median of the warm runs; its
95 % interval is Student's t on the log times, centred on the log median, with
the standard error of a median (1.2533 times that of a mean): how precisely one
cell knows its own time (the repetitions stop on it).

Two cells are two processes, and a process has its own speed (memory layout,
where the kernel put its threads, what the machine did meanwhile): measured
here, two cells of the same engine on the same data differ by 9 % in the median
and by up to 30 % (95th percentile), far more than their runs scatter. So a
ratio of two cells (two engines, or one engine at two thread counts) has Welch's
interval on the difference of the log means widened by the cells' own noise,
CELL_NOISE (a standard deviation on the log scale, per cell): its variance is
se_a^2 + se_b^2 + 2 CELL_NOISE^2.

**The rule.** A is faster than B when the whole 95 % interval of the ratio of
their typical times lies below 1 / (1 + MIN_DIFFERENCE): A is faster by at
least 5 % with 95 % confidence, the cells' own noise counted. Otherwise they
cannot be told apart with the data measured. Fewer than two warm runs on either
side give no interval, so no difference is called. `bench-pipeline aa-test`
measures one engine as several cells, reports how often this rule calls two of
them different (the false-positive rate) and estimates CELL_NOISE for the
machine it runs on; `BENCH_CELL_NOISE` sets another value.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

CONFIDENCE = 0.95
MIN_DIFFERENCE = 0.05  # differences below 5 % are never called, however tight the intervals
# Measured with `bench-pipeline aa-test` on the development machine (2 cores, 12 DuckDB cells on 1M rows at
# 2 threads): a cell's log median scatters by 0.089 beyond its runs' own scatter.
CELL_NOISE = 0.09


def cell_noise() -> float:
    from bench_pipeline.settings import env_number

    return env_number("BENCH_CELL_NOISE", CELL_NOISE)


def _t(df: float) -> float:
    from scipy.stats import t

    return float(t.ppf(0.5 + CONFIDENCE / 2, df))


def _logs(samples: Sequence[float]) -> list[float]:
    return [math.log(s) for s in samples if s is not None and s > 0]


@dataclass(frozen=True)
class Interval:
    value: float
    low: float
    high: float

    @property
    def relative_half_width(self) -> float:
        """How far the interval reaches from the value, as a share of it (the larger side)."""
        return max(self.high / self.value - 1, 1 - self.low / self.value)

    def excludes(self, x: float) -> bool:
        return not (self.low <= x <= self.high)


# The standard error of a median is sqrt(pi / 2) times that of a mean (normal data).
_MEDIAN_SE = math.sqrt(math.pi / 2)


def _median(xs: Sequence[float]) -> float:
    xs = sorted(xs)
    n = len(xs)
    return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2


def _moments(logs: list[float]) -> tuple[float, float]:
    """(log of the median, squared standard error of it)."""
    n = len(logs)
    mean = sum(logs) / n
    var = sum((x - mean) ** 2 for x in logs) / (n - 1)
    return _median(logs), _MEDIAN_SE**2 * var / n


def typical(samples: Sequence[float]) -> Interval | None:
    """The median of the runs with its 95 % interval; None with fewer than 2 runs."""
    logs = _logs(samples)
    if len(logs) < 2:
        return None
    centre, se2 = _moments(logs)
    half = _t(len(logs) - 1) * math.sqrt(se2)
    return Interval(math.exp(centre), math.exp(centre - half), math.exp(centre + half))


def ratio(a: Sequence[float], b: Sequence[float], between: float | None = None) -> Interval | None:
    """median(a) / median(b) with its 95 % interval (Welch, widened by `between`, the noise of each cell;
    default cell_noise()); None with fewer than 2 runs on a side."""
    la, lb = _logs(a), _logs(b)
    if len(la) < 2 or len(lb) < 2:
        return None
    (ma, va), (mb, vb) = _moments(la), _moments(lb)
    cells = 2 * (cell_noise() if between is None else between) ** 2
    diff = ma - mb
    if va + vb + cells == 0:
        return Interval(math.exp(diff), math.exp(diff), math.exp(diff))
    # Welch's degrees of freedom from the runs (the cells' own noise is taken as known).
    df = (va + vb) ** 2 / ((va**2 / (len(la) - 1) if va else 0) + (vb**2 / (len(lb) - 1) if vb else 0)) \
        if va + vb else math.inf
    half = (_t(df) if math.isfinite(df) else 1.959964) * math.sqrt(va + vb + cells)
    return Interval(math.exp(diff), math.exp(diff - half), math.exp(diff + half))


def faster(a: Sequence[float], b: Sequence[float]) -> bool:
    """The rule: is A faster than B (at least MIN_DIFFERENCE, with 95 % confidence)?"""
    r = ratio(a, b)
    return r is not None and r.high < 1 / (1 + MIN_DIFFERENCE)


def differ(a: Sequence[float], b: Sequence[float]) -> bool:
    return faster(a, b) or faster(b, a)


def speedup(base: Sequence[float], runs: Sequence[float]) -> Interval | None:
    """How many times faster `runs` are than `base` (1 thread), with its interval."""
    return ratio(base, runs)


def estimate_cell_noise(cells: Sequence[dict[str, Sequence[float]]]) -> float:
    """From cells of one engine on the same data (query -> warm times each): the standard deviation of a
    cell's log typical time beyond what its runs' own scatter explains (pooled over queries)."""
    excess = []
    for q in {q for c in cells for q in c}:
        logs = [_logs(c[q]) for c in cells if len(_logs(c.get(q, []))) >= 2]
        if len(logs) < 2:
            continue
        means = [sum(x) / len(x) for x in logs]
        grand = sum(means) / len(means)
        between = sum((m - grand) ** 2 for m in means) / (len(means) - 1)
        within = sum(sum((v - m) ** 2 for v in x) / (len(x) - 1) / len(x) for x, m in zip(logs, means, strict=True)) \
            / len(logs)
        excess.append(max(0.0, between - within))
    return math.sqrt(sum(excess) / len(excess)) if excess else 0.0
