"""Intervals and the one rule that says two measurements differ (used by the repetitions, the verdict and
the speedups).

Run times are skewed (a run can be slowed, rarely sped up), so everything is
computed on their logarithms: the typical time is the geometric mean of the
warm runs, its 95 % interval Student's t on the log times, and a ratio of two
engines (or of one engine at two thread counts) Welch's t on the difference of
the log means, exponentiated back into a ratio with its interval.

**The rule.** A is faster than B when the whole 95 % interval of the ratio of
their typical times lies below 1 / (1 + MIN_DIFFERENCE): A is faster by at
least 5 % with 95 % confidence. Otherwise they cannot be told apart with the
data measured. Fewer than two warm runs on either side give no interval, so no
difference is called. The A/A test (`bench-pipeline aa-test`) measures how
often this rule calls a difference between two cells of the same engine.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

CONFIDENCE = 0.95
MIN_DIFFERENCE = 0.05  # differences below 5 % are never called, however tight the intervals


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


def typical(samples: Sequence[float]) -> Interval | None:
    """The geometric mean of the runs with its 95 % interval; None with fewer than 2 runs."""
    logs = _logs(samples)
    n = len(logs)
    if n < 2:
        return None
    mean = sum(logs) / n
    sd = math.sqrt(sum((x - mean) ** 2 for x in logs) / (n - 1))
    half = _t(n - 1) * sd / math.sqrt(n)
    return Interval(math.exp(mean), math.exp(mean - half), math.exp(mean + half))


def ratio(a: Sequence[float], b: Sequence[float]) -> Interval | None:
    """typical(a) / typical(b) with its 95 % interval (Welch); None with fewer than 2 runs on a side."""
    la, lb = _logs(a), _logs(b)
    if len(la) < 2 or len(lb) < 2:
        return None
    ma, mb = sum(la) / len(la), sum(lb) / len(lb)
    va = sum((x - ma) ** 2 for x in la) / (len(la) - 1) / len(la)
    vb = sum((x - mb) ** 2 for x in lb) / (len(lb) - 1) / len(lb)
    se = math.sqrt(va + vb)
    diff = ma - mb
    if se == 0:
        return Interval(math.exp(diff), math.exp(diff), math.exp(diff))
    df = (va + vb) ** 2 / ((va**2 / (len(la) - 1) if va else 0) + (vb**2 / (len(lb) - 1) if vb else 0))
    half = _t(df) * se
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
