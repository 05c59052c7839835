"""The one rule that says how two measurements compare, with its intervals (used by the rounds, the verdict,
the scaling, the history and the cluster suite).

**Processes are the unit of replication.** Two fresh processes of the same engine on the same data differ by
2-30 % however many runs each makes (memory layout, where the kernel put the threads, what the machine did
meanwhile), far more than the runs inside one process scatter. So a query in a cell is measured in several
processes, and each process contributes one value: the median of its warm runs. Everything is computed on the
logarithms of those values (run times are skewed).

**The noise between processes** of one side is estimated from its own processes, shrunk towards a prior: the
machine's measured noise (`calibration.py`, from `bench-pipeline calibrate`, stored per machine) updated by
every process of the run at hand (`pooled`), weighed as PRIOR_DF processes' worth of evidence. With one
process on a side the prior alone stands for its noise; with many, the side's own scatter takes over.

**The rule.** A ratio a/b of two sides (geometric means of their process values) gets Welch's interval from
the two sides' noise. Its answer is one of four, never conflated:

- *equivalent*: the whole interval lies within ±MARGIN of 1 (two one-sided tests);
- *faster* / *slower*: the interval lies wholly below / above 1 (and they are not shown equivalent);
- *undecided*: neither yet; more processes (or a larger budget) would decide it.

The rule is applied after every round of processes (a sequential test), so each look uses a LOOK_CONFIDENCE
interval: across up to 20 looks the chance that an A/A pair is ever called different stays at most 5 %
(checked on simulated processes in the tests, and measured on the machine by `bench-pipeline calibrate`).
A difference far beyond the noise is decided at the first look, with one process per side.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

CONFIDENCE = 0.95  # the interval of one measurement's typical time, shown beside its median
LOOK_CONFIDENCE = 0.995  # each look of the sequential rule: A/A errors at most 5 % over 20 looks (tested)
MARGIN = 0.10  # equivalent: within ±10 % with the confidence above
PRIOR_DF = 4  # how many degrees of freedom of evidence the noise prior weighs on one side, at most
DEFAULT_NOISE = 0.12  # the prior before the machine is calibrated (a noisy day's figure: errs on the wide side)

FASTER, SLOWER, EQUIVALENT, UNDECIDED = "faster", "slower", "equivalent", "undecided"


def _t(df: float, confidence: float) -> float:
    from scipy.stats import t  # scipy: only where it is used

    return float(t.ppf(0.5 + confidence / 2, df)) if math.isfinite(df) else 1.959964


def _logs(samples: Sequence[float] | None) -> list[float]:
    return [math.log(s) for s in samples or () if s is not None and s > 0]


def _var(logs: Sequence[float]) -> float:
    mean = sum(logs) / len(logs)
    return sum((x - mean) ** 2 for x in logs) / (len(logs) - 1)


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


@dataclass(frozen=True)
class Noise:
    """The noise between processes on the log scale (a standard deviation), with the evidence behind it."""

    sigma: float
    df: float  # degrees of freedom it was estimated with (0: assumed)
    source: str  # where it comes from, for the verdict's text

    def text(self) -> str:
        return f"{self.sigma:.3f} ({self.source})"


# Weighed like a calibration (PRIOR_DF): wide enough that a 2x difference is decided with one process a side on
# a machine as noisy as the worst day measured here, and the run's own processes correct it from round 2 on.
DEFAULT = Noise(DEFAULT_NOISE, PRIOR_DF, "the default prior")


# -- one side ------------------------------------------------------------------------------------------------
def _side(logs: list[float], prior: Noise) -> tuple[float, float]:
    """(variance of one process's log value, its degrees of freedom): the side's own scatter shrunk to the prior."""
    nu = min(max(prior.df, 1.0), PRIOR_DF)  # a prior from few processes weighs as what it rests on
    own = _var(logs) * (len(logs) - 1) if len(logs) > 1 else 0.0
    return (nu * prior.sigma**2 + own) / (nu + len(logs) - 1), nu + len(logs) - 1


def typical(samples: Sequence[float]) -> Interval | None:
    """The median of the runs of one process with its 95 % interval (Student's t on the log times, the standard
    error of a median); None with fewer than 2 runs. How steady one process was: not a comparison's noise."""
    logs = _logs(samples)
    if len(logs) < 2:
        return None
    se = math.sqrt(math.pi / 2 * _var(logs) / len(logs))
    half = _t(len(logs) - 1, CONFIDENCE) * se
    centre = statistics.median(logs)
    return Interval(math.exp(centre), math.exp(centre - half), math.exp(centre + half))


def level(processes: Sequence[float], noise: Noise, confidence: float = CONFIDENCE) -> Interval | None:
    """A measurement's typical time from its processes (their geometric mean) with its interval, the noise
    between processes counted; None without a process."""
    logs = _logs(processes)
    if not logs:
        return None
    var, df = _side(logs, noise)
    mean = sum(logs) / len(logs)
    half = _t(df, confidence) * math.sqrt(var / len(logs))
    return Interval(math.exp(mean), math.exp(mean - half), math.exp(mean + half))


def pooled(groups: Iterable[Sequence[float]], prior: Noise) -> Noise:
    """The prior updated by the processes of a run: each group is one measurement's process values (one engine,
    threads and query); groups with two or more processes add their scatter, pooled on the log scale."""
    ss = df = 0.0
    for g in groups:
        logs = _logs(g)
        if len(logs) > 1:
            ss += _var(logs) * (len(logs) - 1)
            df += len(logs) - 1
    if not df:
        return prior
    nu = min(max(prior.df, 1.0), PRIOR_DF)
    sigma = math.sqrt((nu * prior.sigma**2 + ss) / (nu + df))
    return Noise(sigma, nu + df, f"{prior.source}; updated by {df:.0f} degrees of freedom of this run")


# -- two sides ------------------------------------------------------------------------------------------------
TRUST_FROM = 3  # processes a side before the estimate of what would decide a comparison is trusted to give up on it
MOST_ESTIMATED = 500  # beyond this many processes a side the estimate says "more than": not worth a number


@dataclass(frozen=True)
class Comparison:
    """a/b (their typical times), its LOOK_CONFIDENCE interval and the rule's answer from a's side."""

    ratio: float
    low: float
    high: float
    answer: str  # FASTER (a is faster), SLOWER, EQUIVALENT, UNDECIDED
    processes: tuple[int, int]
    se: float  # standard error of the log ratio
    df: float
    # Each side's noise: the variance of one process's log value and its degrees of freedom (`_side`).
    sides: tuple[tuple[float, float], tuple[float, float]] = ((0.0, 1.0), (0.0, 1.0))

    @property
    def decided(self) -> bool:
        return self.answer != UNDECIDED

    def to_decide(self, most: int | None = None, fixed: tuple[bool, bool] = (False, False),
                  margin: float = MARGIN, confidence: float = LOOK_CONFIDENCE) -> tuple[int, int] | None:
        """The processes each side would have when the rule decides, if the ratio and each side's noise hold:
        sides grow one process at a time, the one with fewer first, a `fixed` side (measured before, in the
        store) never. None when neither `most` a side (MOST_ESTIMATED when None) nor the fixed sides allow it.
        A decided comparison: the processes it has."""
        na, nb = self.processes
        if self.decided:
            return na, nb
        d = abs(math.log(self.ratio))
        room = max(d, math.log(1 + margin) - d)  # to tell apart, or to show within the margin
        (va, dfa), (vb, dfb) = self.sides
        cap = most or MOST_ESTIMATED
        while True:
            wa, wb = va / na, vb / nb
            df = (wa + wb) ** 2 / (wa**2 / dfa + wb**2 / dfb) if wa + wb else math.inf
            if _t(df, confidence) * math.sqrt(wa + wb) < room:
                return na, nb
            grow = [i for i, n in sorted(enumerate((na, nb)), key=lambda x: x[1]) if not fixed[i] and n < cap]
            if not grow:
                return None
            if grow[0] == 0:
                na, dfa = na + 1, dfa + 1
            else:
                nb, dfb = nb + 1, dfb + 1

    def processes_to_decide(self, margin: float = MARGIN, confidence: float = LOOK_CONFIDENCE) -> int | None:
        """About how many processes a side would decide it if the ratio stays where it is (None: decided, or
        more than MOST_ESTIMATED a side)."""
        if self.decided:
            return None
        need = self.to_decide(margin=margin, confidence=confidence)
        return max(need) if need else None


TELL_POWER = 0.8  # how often a re-measure that changed by the amount asked should be decided, at most processes


def processes_to_tell(change: float, noise: Noise, most: int, confidence: float = LOOK_CONFIDENCE,
                      power: float = TELL_POWER) -> int:
    """The fewest processes (1 to `most`) a measurement needs so that a re-measure `change` times slower, given
    `most` processes, would be decided by the rule `power` of the time (both sides' noise as `noise`); `most` when
    even that is not enough. What a measurement must rest on for the history to tell a regression from it later:
    its side of that comparison is fixed once it is stored."""
    from scipy.stats import norm  # scipy: only where it is used

    nu = min(max(noise.df, 1.0), PRIOR_DF)
    for n in range(1, most + 1):
        wa, wb = noise.sigma**2 / most, noise.sigma**2 / n
        df = (wa + wb) ** 2 / (wa**2 / (nu + most - 1) + wb**2 / (nu + n - 1))
        if (_t(df, confidence) + float(norm.ppf(power))) * math.sqrt(wa + wb) < math.log(change):
            return n
    return most


def compare(a: Sequence[float], b: Sequence[float], noise: Noise, margin: float = MARGIN,
            confidence: float = LOOK_CONFIDENCE) -> Comparison | None:
    """The rule on two sides' process values (seconds; one value per process); None without a process a side."""
    la, lb = _logs(a), _logs(b)
    if not la or not lb:
        return None
    (va, da), (vb, db) = _side(la, noise), _side(lb, noise)
    wa, wb = va / len(la), vb / len(lb)
    se = math.sqrt(wa + wb)
    df = (wa + wb) ** 2 / (wa**2 / da + wb**2 / db) if wa + wb else math.inf
    d = sum(la) / len(la) - sum(lb) / len(lb)
    half = _t(df, confidence) * se
    low, high = math.exp(d - half), math.exp(d + half)
    if low >= 1 / (1 + margin) and high <= 1 + margin:
        answer = EQUIVALENT
    elif high < 1:
        answer = FASTER
    elif low > 1:
        answer = SLOWER
    else:
        answer = UNDECIDED
    return Comparison(math.exp(d), low, high, answer, (len(la), len(lb)), se, df, ((va, da), (vb, db)))


def geometric_mean(comparisons: Sequence[Comparison], confidence: float = CONFIDENCE) -> Interval | None:
    """The geometric mean of several ratios (one per query, measured apart) with its interval: the mean of the
    log ratios, their standard errors added (independent queries), Welch-Satterthwaite degrees of freedom."""
    cs = [c for c in comparisons if c is not None]
    if not cs:
        return None
    mean = sum(math.log(c.ratio) for c in cs) / len(cs)
    var = sum(c.se**2 for c in cs) / len(cs) ** 2
    df = (sum(c.se**2 for c in cs) ** 2 / sum(c.se**4 / c.df for c in cs)) if var else math.inf
    half = _t(df, confidence) * math.sqrt(var)
    return Interval(math.exp(mean), math.exp(mean - half), math.exp(mean + half))


def process_values(rows: Iterable[dict]) -> list[float]:
    """The process values of one measurement from its run rows: the median of each process's kept warm runs."""
    by: dict[int, list[float]] = {}
    for r in rows:
        if r.get("run_kind") == "warm" and r.get("kept", True) is not False and r.get("seconds"):
            by.setdefault(r.get("process_index") or 0, []).append(r["seconds"])
    return [statistics.median(v) for _, v in sorted(by.items())]


def processes_of(row: dict) -> list[float]:
    """A summary row's process values (`process_list`); a row from before processes were counted: its warm
    runs' median as one process."""
    if row.get("process_list"):
        return list(row["process_list"])
    warm = row.get("warm_list") or []
    return [statistics.median(warm)] if warm else []


def sequential(a: Sequence[float], b: Sequence[float], prior: Noise, margin: float = MARGIN) -> tuple[str, int]:
    """The rule as the rounds apply it to one comparison: a look after each pair of processes (a[:k], b[:k]),
    the noise pooled from both sides' processes so far; (the first decided answer, k), or (UNDECIDED, the
    looks made). How `calibrate` and the tests replay processes through the rule."""
    k = 0
    for k in range(1, min(len(a), len(b)) + 1):
        c = compare(a[:k], b[:k], pooled((a[:k], b[:k]), prior), margin)
        if c is not None and c.decided:
            return c.answer, k
    return UNDECIDED, k


def compared_count(counts, cores: int) -> int | None:
    """The thread count engines are compared at: the most within the cores, else the fewest asked."""
    counts = sorted(set(counts))
    if not counts:
        return None
    within = [t for t in counts if t <= cores]
    return max(within) if within else counts[0]
