"""Interleaved rounds under a time budget: how every suite's stale cells are measured, process by process.

A *measurement* is one query (or task) of one cell: its fresh processes so far (each a cold run and a few warm
runs: `run_query`). A *question* is a comparison the suite's answer needs, declared by the suite
(`Suite.questions`): two measurements, the ratio of their typical times, the rule's answer (`stats.compare`)
and how much it matters:

1. RECOMMENDATION: what the suite is asked (the fastest engine against every engine that could still be as
   fast, an executor count against the next, the cluster against the best single-node engine, lazy against
   eager);
2. SCALING: how those engines scale;
3. OTHER: the rest (other scaling, a re-measured query against its previous measurement: the history's
   regressions).

**Round 1** runs one process for every measurement not measured yet, in an order shuffled anew, thread counts up to
the cores before oversubscribed ones, the processes of one session (a cluster started for a cell) one after
another. A *deferred* measurement (a thread count the recommendation does not compare, set by the instrument; or a
suite's reference cell, `CellSpec.reference`, with no peer: OTHER) waits: it only feeds the scaling and the
speedup plots (or a comparison the suite asks last), so it is measured after round 1 at the importance of its
*peer* (the same engine and query at the compared thread count): SCALING while the peer is or could still be as
fast as the fastest, OTHER otherwise (a cell at its most important query's, as it is stored whole), before the
questions of that importance (they cannot be asked without it), a cell already started first, and only when the
rest of its cell fits in the time left. **Then the budget goes where it changes the answer.** After every process
the open questions are ranked: by importance first, then by how soon the rule expects to decide them per second of
machine time (its estimate of the processes each side still needs, `Comparison.to_decide`, times the seconds a
process of that side took, a session's start-up included when it must start again). Within an importance, a
question whose sides have fewer than FLOOR (2) processes comes first, and is fed towards the floor even when its
whole estimated cost would not fit: its estimate rests on the prior alone. The best question gets the next process,
on the side that is behind (both sides, in a shuffled order, when they are level, so that each look
compares sides measured side by side). A question is not fed when its estimated cost exceeds the time left, or when
it needs more than `most_processes` a side once each side has TRUST_FROM processes (before that the estimate rests
on too little to give up on it); it is named with what would decide it. When no question is left to feed,
every measurement is raised, one process at a time and the cheapest first, towards what the next re-measure needs
to tell a change of TELL (20 %) from it within `most_processes` (`stats.processes_to_tell` at the run's noise, and
at least BASELINE), while the budget lasts: a history question's earlier side is fixed, so it is measured enough
now or never. A failure is an answer: a measurement that failed gets no more processes. The rounds end when
nothing more is worth a process or fits.

Cells whose every query has at least one process are whole; their rows go to the store one cell at a time
(`harness/instrument.py`); a cell left with an unmeasured query stays stale.

Nothing here imports Dagster or the verdict: `measure` (one process), `ask` (the questions) and `clock` are
parameters, so the rounds are tested with simulated processes and a simulated clock.
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from bench_pipeline.analysis import stats
from bench_pipeline.report import fmt

MOST_PROCESSES = 20  # a side's most processes: the rule's error rates are checked up to this many looks
FLOOR = 2  # an open question's sides get this many processes before any question of its tier gets more
BASELINE = 3  # the fewest processes a measurement gets from a budget left over
TELL = 1.2  # ...and as many more as the next re-measure needs to tell a change this large (stats.processes_to_tell)
RECOMMENDATION, SCALING, OTHER = 1, 2, 3
CATEGORIES = {RECOMMENDATION: "recommendation", SCALING: "scaling", OTHER: "other"}
FIRST_ROUND = "round 1"

# Cells measured by the rounds and not yet stored, by cell run id: `run` records each as its own Dagster run in
# this process, and that run's step stores the rows (so a kill between the two leaves neither, never one alone).
PENDING: dict = {}


@dataclass(eq=False)  # identity: a measurement is one object however its values compare
class Measurement:
    """One query of one cell: its processes so far."""

    group: str  # the cells' asset
    key: str  # the cell's partition key
    engine: str
    threads: int
    query: str
    rows: list[dict] = field(default_factory=list)  # every run of every process, process_index set
    values: list[float] = field(default_factory=list)  # one per process: the median of its kept warm runs
    status: str = "ok"
    seconds: list[float] = field(default_factory=list)  # wall time of each process, start to answer checked
    fixed: bool = False  # from the store (a fresh cell, a previous measurement): never measured here
    estimate: float | None = None  # seconds one process is expected to take before any ran
    late: bool = False  # oversubscribed: after the others in round 1
    session: str | None = None  # measurements of one session (a cluster) run one after another in round 1
    session_seconds: float = 0.0  # what starting its session took, the last time it started
    label: str = ""  # the cell as people name it ('duckdb|2', 'pyspark 3x flat')
    deferred: bool = False  # not compared by the recommendation: measured after round 1 (see the module's text)
    peer: Measurement | None = None  # a deferred one's engine and query at the compared thread count

    @property
    def processes(self) -> int:
        return len(self.values) if self.fixed else len(self.seconds)

    @property
    def valid(self) -> bool:
        return self.status == "ok" and bool(self.values)

    @property
    def name(self) -> str:
        return self.label or self.key

    def per_process(self) -> float | None:
        """Seconds a process of it takes (its session's start-up apart); a deferred one not measured yet: its peer's,
        scaled by the threads it has fewer (a guess until it has run)."""
        if self.seconds:
            return statistics.fmean(self.seconds)
        if self.estimate is None and self.peer is not None and (peer := self.peer.per_process()) is not None:
            return peer * max(1.0, self.peer.threads / max(self.threads, 1))
        return self.estimate

    def cost(self, open_session: str | None) -> float:
        """Seconds of machine time its next process costs, starting its session again if another is open."""
        start = self.session_seconds if self.session is not None and self.session != open_session else 0.0
        return (self.per_process() or 0.0) + start

    def as_row(self) -> dict:
        """What the verdict reads (a summary row)."""
        return {"engine": self.engine, "threads_asked": self.threads, "query": self.query, "status": self.status,
                "process_list": self.values, "median_seconds": statistics.median(self.values) if self.values else None}


# What each kind of question calls the rule's answers (subject / reference: FASTER is the subject faster).
_GENERIC = {stats.FASTER: "faster", stats.SLOWER: "slower", stats.EQUIVALENT: "equivalent"}
_SCALING = {stats.FASTER: "scales", stats.EQUIVALENT: "does not scale", stats.SLOWER: "slows down"}
WORDS = {"engine": _GENERIC, "task": _GENERIC, "mode": _GENERIC, "cluster": _GENERIC, "history": _GENERIC,
         "sweep": _GENERIC, "scaling": _SCALING, "executors": _SCALING}


@dataclass(eq=False)
class Question:
    """A comparison a suite's answer needs: subject / reference by the rule (set by `ask`, evaluated each look)."""

    subject: Measurement
    reference: Measurement
    kind: str  # a key of WORDS
    tier: int  # RECOMMENDATION, SCALING or OTHER
    panel: str  # what the verdict's picture groups it by: the query, the task, the executor step
    label: str  # 'duckdb vs polars', 'pandas 2 vs 1 threads'
    comparison: stats.Comparison | None = None

    @property
    def decided(self) -> bool:
        return self.comparison is not None and self.comparison.decided

    @property
    def answer(self) -> str:
        c = self.comparison
        return stats.UNDECIDED if c is None or not c.decided else WORDS[self.kind][c.answer]

    @property
    def category(self) -> str:
        return CATEGORIES[self.tier]

    def text(self) -> str:
        """'B (window): polars vs duckdb (1.07x)'; a scaling question with its speedup, '(1.85x speedup)'."""
        c = self.comparison
        ratio = "" if c is None else (f" ({1 / c.ratio:.2f}x speedup)" if WORDS[self.kind] is _SCALING else
                                      f" ({c.ratio:.2f}x)")
        return f"{self.panel}: {self.label}{ratio}"

    def sentence(self) -> str:
        """'2 -> 3 workers: pyspark, query A, flat: 1.31x (99.5 % 1.12-1.52): scales', with why when undecided.
        The ratio is the subject's time over the reference's (a speedup for scaling)."""
        c = self.comparison
        if c is None:
            return f"{self.panel}: {self.label}: not measured"
        ratio = (1 / c.ratio, 1 / c.high, 1 / c.low) if WORDS[self.kind] is _SCALING else (c.ratio, c.low, c.high)
        text = (f"{self.panel}: {self.label}: {ratio[0]:.2f}x ({stats.LOOK_CONFIDENCE * 100:g} % "
                f"{ratio[1]:.2f}-{ratio[2]:.2f}): {self.answer}")
        if not c.decided:
            need = c.processes_to_decide()
            text += (f" ({c.processes[0]} and {c.processes[1]} processes; "
                     + (f"about {need} a side would decide it)" if need else "too close to decide)"))
        return text

    def as_json(self) -> dict:
        c = self.comparison
        return {"panel": self.panel, "what": self.label, "kind": self.kind, "category": self.category,
                "ratio": c.ratio if c else None, "low": c.low if c else None, "high": c.high if c else None,
                "answer": self.answer, "processes": list(c.processes) if c else None}


def evaluate(questions: Sequence[Question], noise: stats.Noise) -> list[Question]:
    """Each question's comparison by the rule with this noise (questions whose sides are not both valid dropped)."""
    out = []
    for q in questions:
        if q.subject.valid and q.reference.valid:
            q.comparison = stats.compare(q.subject.values, q.reference.values, noise)
            out.append(q)
    return out


@dataclass
class Observer:
    """What the rounds tell a display; every method may be left as is."""

    def round_start(self, todo: list[Measurement], open_: int, seconds_left: float) -> None:
        """Round 1 starts."""

    def process_done(self, m: Measurement, rows: list[dict]) -> None: ...

    def cell_whole(self, name: str, status: str) -> None:
        """Every query of the cell has its first process (it can be stored); `status`: ok or its first failure."""

    def round_end(self, measured: int, open_: list[str], seconds_left: float) -> None:
        """Round 1 ended."""

    def feeding(self, what: str, category: str, open_: int, seconds_left: float) -> None:
        """After round 1: the question (or baseline) that gets the next processes changed."""

    def finished(self, outcome: Outcome) -> None: ...


@dataclass
class Outcome:
    measurements: list[Measurement]
    first_round: int  # processes in round 1
    later: int  # processes after it, each to the question ranked first
    stopped: str  # "decided", "budget", "most processes", "nothing to measure", "interrupted"
    open: list[str]  # the questions still open, with what would decide each
    more_seconds: float  # about how much more measuring would decide them
    unmeasured: list[tuple[str, str]]  # (group, key) of cells left with a query never measured (they stay stale)
    questions: list[Question] = field(default_factory=list)  # every question, as last evaluated
    spent: dict[str, float] = field(default_factory=dict)  # process seconds: round 1, then by category
    # After round 1, the seconds spent while a recommendation's comparison was open and fitted in the time left.
    while_open: dict[str, float] = field(default_factory=dict)
    interrupted: BaseException | None = None  # what ended the rounds early (stop_on), if anything

    def whole_cells(self) -> dict[tuple[str, str], list[Measurement]]:
        cells: dict[tuple[str, str], list[Measurement]] = {}
        for m in self.measurements:
            if not m.fixed:
                cells.setdefault((m.group, m.key), []).append(m)
        return {k: ms for k, ms in cells.items() if k not in self.unmeasured}

    def spending(self) -> str:
        """'round 1 410 s; then 190 s: recommendation 160 s (84 %), scaling 20 s (11 %), other 10 s (5 %)'."""
        first = self.spent.get(FIRST_ROUND, 0.0)
        later = {k: v for k, v in self.spent.items() if k != FIRST_ROUND}
        total = sum(later.values())
        text = f"round 1 {first:.0f} s of processes"
        if total:
            text += f"; then {total:.0f} s: " + ", ".join(
                f"{k} {v:.0f} s ({v / total:.0%})" for k, v in later.items())
        if (open_ := sum(self.while_open.values())) > 0:
            share = self.while_open.get(CATEGORIES[RECOMMENDATION], 0.0) / open_
            text += (f"; while the recommendation's comparisons were open and fitted, {share:.0%} of "
                     f"{open_:.0f} s went to them")
        return text

    def as_json(self) -> dict:
        return {"first_round": self.first_round, "later": self.later, "stopped": self.stopped, "open": self.open,
                "more_seconds": self.more_seconds, "spent_seconds": self.spent,
                "spent_while_the_recommendation_was_open": self.while_open,
                "questions": [q.as_json() for q in self.questions]}


def defer(ms: list[Measurement], cores: int) -> None:
    """In a group of several thread counts (not in sessions), the recommendation compares the engines at one: the
    most threads within the cores (stats.compared_count, as the verdict). The other counts only feed the scaling
    and the speedup plots, so the rounds measure them after round 1, by their peer's importance (harness/rounds.py)."""
    groups: dict[str, set[int]] = {}
    for m in ms:
        groups.setdefault(m.group, set()).add(m.threads)
    by = {(m.group, m.engine, m.threads, m.query): m for m in ms}
    for m in ms:
        counts = groups[m.group]
        if m.fixed or m.session is not None or len(counts) < 2:
            continue
        compared = stats.compared_count(counts, cores)
        if m.threads != compared:
            m.deferred, m.peer = True, by.get((m.group, m.engine, compared, m.query))


def _feedable(m: Measurement, most: int) -> bool:
    return not m.fixed and m.status == "ok" and m.processes < most


def measure_in_rounds(measurements: list[Measurement], measure: Callable[[Measurement, int], list[dict]],
                      deadline: float, prior: stats.Noise,
                      ask: Callable[[list[Measurement], stats.Noise], list[Question]] = lambda ms, noise: [], *,
                      previous: dict[int, Measurement] | None = None, most_processes: int = MOST_PROCESSES,
                      clock: Callable[[], float] = time.monotonic, rng: random.Random | None = None,
                      observer: Observer | None = None, between: Callable[[], None] = lambda: None,
                      whole_first_round: bool = False, stop_on: tuple[type[BaseException], ...] = (),
                      switch: Callable[[Measurement | None], None] = lambda m: None) -> Outcome:
    """Measure `measurements` (the fixed ones are context only) until nothing more is worth a process or fits
    before `deadline` (clock).

    `measure(m, process_index)` runs one process and returns its rows (status set, answers validated), in the
    session `switch(m)` opened for it: `switch(m)` makes m's session (a cluster started for its cell) the open
    one, ending the one open before (None: end it); its time is counted apart from the process, as the
    session's start-up. `ask(measurements, noise)` declares the suite's questions; `previous`: id(measurement)
    -> its previous measurement in the store (fixed), whose question is the history's. `between()` runs before
    each process (the interrupt check); `whole_first_round`: round 1 measures every measurement whatever the
    clock says (a cell measured alone is always whole); `stop_on`: exceptions (an interrupt) that end the rounds
    keeping every process finished before them (Outcome.interrupted)."""
    r = _Rounds(measurements, measure, deadline, prior, ask, previous or {}, most_processes, clock,
                rng or random.Random(), observer or Observer(), between, switch)
    stop = None
    try:
        r.first_round(whole_first_round)
        r.later()
    except stop_on as exc:
        stop = exc
    finally:
        if r.open_session is not None:
            switch(None)
    return r.outcome(stop)


class _Rounds:
    def __init__(self, measurements, measure, deadline, prior, ask, previous, most, clock, rng, observer, between,
                 switch):
        self.ms, self.measure, self.deadline, self.prior, self.ask = measurements, measure, deadline, prior, ask
        self.previous, self.most, self.clock, self.rng = previous, most, clock, rng
        self.observer, self.between, self.switch = observer, between, switch
        self.spent: dict[str, float] = {FIRST_ROUND: 0.0}
        self.while_open: dict[str, float] = {}
        self.first = self.more = 0
        self.open_session: str | None = None
        self.starved: set[int] = set()  # questions whose next process did not fit

    # -- what is asked ----------------------------------------------------------------------------------------
    def noise(self) -> stats.Noise:
        return stats.pooled([m.values for m in self.ms] + [p.values for p in self.previous.values()], self.prior)

    def questions(self) -> list[Question]:
        noise = self.noise()
        qs = list(self.ask(self.ms, noise))
        for m in self.ms:
            p = self.previous.get(id(m))
            if p is not None:
                qs.append(Question(m, p, "history", OTHER, m.query, f"{m.name} now vs before"))
        return evaluate(qs, noise)

    def left(self) -> float:
        return self.deadline - self.clock()

    # -- one process ------------------------------------------------------------------------------------------
    def run(self, m: Measurement, category: str) -> float:
        self.between()
        started = 0.0
        if m.session != self.open_session:
            start = self.clock()
            self.switch(m)
            if m.session is not None:
                started = self.clock() - start  # apart from the process, in the cost of its session's next start
                for x in self.ms:
                    if x.session == m.session:
                        x.session_seconds = started
            self.open_session = m.session
        start = self.clock()
        rows = self.measure(m, m.processes)
        spent = self.clock() - start
        m.seconds.append(spent)
        self.spent[category] = self.spent.get(category, 0.0) + spent + started
        _take(m, rows)
        self.observer.process_done(m, rows)
        if m.processes == 1:
            cell = [x for x in self.ms if x.group == m.group and x.key == m.key]
            if all(x.processes for x in cell):
                self.observer.cell_whole(m.name, next((x.status for x in cell if x.status != "ok"), "ok"))
        return spent + started

    def fits(self, m: Measurement) -> bool:
        return m.cost(self.open_session) <= self.left()

    # -- round 1 ----------------------------------------------------------------------------------------------
    def first_round(self, whole: bool) -> None:
        todo = [m for m in self.ms if not m.fixed and m.processes == 0 and (whole or not m.deferred)]
        if not todo:
            return
        self.rng.shuffle(todo)
        order: list[Measurement] = []
        for m in todo:  # a session's measurements together, where the first of them fell
            if m.session is None:
                order.append(m)
            elif m not in order:
                order += [x for x in todo if x.session == m.session]
        order.sort(key=lambda m: m.late)  # what the verdict compares first; oversubscribed counts after them
        self.observer.round_start(order, len(self.open_questions()), self.left())
        for m in order:
            if not whole and not self.fits(m):
                continue  # its process would overrun the budget: what fits, in round order
            self.run(m, FIRST_ROUND)
            self.first += 1
        self.observer.round_end(self.first, [q.text() for q in self.open_questions()], self.left())

    def open_questions(self) -> list[Question]:
        return [q for q in self.questions() if not q.decided]

    # -- after round 1 ----------------------------------------------------------------------------------------
    def plan(self, q: Question) -> tuple[float, list[Measurement]] | None:
        """(seconds the rule expects it to take to decide q, the sides to measure next), or None: not fed."""
        sides = (q.subject, q.reference)
        fixed = tuple(not _feedable(m, self.most) for m in sides)
        if all(fixed) or id(q) in self.starved:
            return None
        need = q.comparison.to_decide(self.most, fixed)
        if need is None:
            if min(m.processes for m, f in zip(sides, fixed, strict=True) if not f) >= stats.TRUST_FROM:
                return None  # beyond the processes allowed, by an estimate that rests on enough
            need = tuple(m.processes if f else max(m.processes, stats.TRUST_FROM) for m, f in zip(sides, fixed,
                                                                                                 strict=True))
        behind = [(m, n) for m, f, n in zip(sides, fixed, need, strict=True) if not f and m.processes < n]
        if not behind:
            return None
        # Sides in sessions of their own start theirs again for each process (they are measured in turn).
        alternate = q.subject.session != q.reference.session

        def price(behind: list[tuple[Measurement, int]]) -> float:
            return sum((n - m.processes) * m.cost(None if alternate else self.open_session) for m, n in behind)

        cost = price(behind)
        if cost > self.left():
            # Below the floor the estimate rests on the prior alone: what the floor costs is what must fit.
            behind = [(m, FLOOR) for m, f in zip(sides, fixed, strict=True) if not f and m.processes < FLOOR]
            cost = price(behind)
            if not behind or cost > self.left():
                return None
        fewest = min(m.processes for m, _ in behind)
        return cost, [m for m, _ in behind if m.processes == fewest]

    def deferred_tier(self, m: Measurement, questions: list[Question]) -> int:
        """SCALING while its peer is the fastest or could still be as fast; OTHER otherwise (and when it has
        more threads than the compared count: it feeds no question, only the speedup plot)."""
        if m.peer is None or m.threads > m.peer.threads:
            return OTHER
        for q in questions:
            if q.tier == RECOMMENDATION and (q.reference is m.peer or (q.subject is m.peer and (
                    not q.decided or q.comparison.answer == stats.EQUIVALENT))):
                return SCALING
        return OTHER

    def waiting(self, questions: list[Question]) -> list[tuple[tuple, Measurement]]:
        """The deferred measurements not measured yet whose whole cell's rest fits in the time left, ranked."""
        out = []
        for m in self.ms:
            if m.deferred and not m.fixed and m.processes == 0:
                cell = [x for x in self.ms if x.group == m.group and x.key == m.key]
                rest = sum(x.cost(self.open_session) for x in cell if x.processes == 0)
                if rest <= self.left():  # a cell's queries at its most important one's tier: it is stored whole
                    started = any(x.processes for x in cell)
                    tier = min(self.deferred_tier(x, questions) for x in cell if x.deferred)
                    out.append(((tier, 0, 0 if started else 1, rest), m))
        return out

    def later(self) -> None:
        fed = None
        while True:
            ranked = []
            questions = self.questions()
            for q in questions:
                p = None if q.decided else self.plan(q)
                if p is not None:
                    # Below the floor first: an estimate from one process a side rests on the prior alone.
                    floor = 0 if min(m.processes for m in p[1]) < FLOOR else 1
                    ranked.append(((q.tier, 1, floor, p[0]), q, p[1]))
            waiting = self.waiting(questions)
            if ranked or waiting:
                key, q, sides = min([*ranked, *((k, None, [m]) for k, m in waiting)], key=lambda x: x[0])
                if q is not None:
                    what, category, which = q.text(), q.category, (q.kind, q.panel, q.label)
                else:
                    what, category, which = (f"{sides[0].name}: its first processes", CATEGORIES[key[0]],
                                             (sides[0].group, sides[0].key))
            else:
                target = max(BASELINE, stats.processes_to_tell(TELL, self.noise(), self.most))
                # Level by level (every measurement to one more process), the cheapest first.
                baseline = sorted((m for m in self.ms if m.valid and _feedable(m, min(target, self.most))
                                   and self.fits(m)), key=lambda m: (m.processes, m.cost(self.open_session)))
                if not baseline:
                    return
                q, sides = None, baseline[:1]
                what, category, which = (f"every measurement towards {target} processes, so that a re-measure "
                                         f"can tell a {TELL - 1:.0%} change",
                                         CATEGORIES[OTHER], "baseline")  # said once: the target moves with the noise
            if which != fed:
                fed = which
                self.observer.feeding(what, category, len(ranked), self.left())
            self.rng.shuffle(sides)
            recommending = any(k[0] == RECOMMENDATION for k, *_ in ranked)
            ran = False
            for m in sides:
                if not self.fits(m):
                    continue
                seconds = self.run(m, category)
                if recommending:
                    self.while_open[category] = self.while_open.get(category, 0.0) + seconds
                self.more += 1
                ran = True
            if not ran and q is not None:
                self.starved.add(id(q))
            if not ran and q is None:
                return  # a deferred cell that fitted no longer does: nothing else waits on it

    # -- the end ----------------------------------------------------------------------------------------------
    def outcome(self, stop: BaseException | None) -> Outcome:
        qs = self.questions()
        still = [q for q in qs if not q.decided]
        texts, extra = [], {}
        for q in still:
            texts.append(self.what_decides(q, extra))
        if stop is not None:
            stopped = "interrupted"
        unmeasured = sorted({(m.group, m.key) for m in self.ms if not m.fixed and not m.processes})
        if stop is not None:
            pass  # "interrupted", set above
        elif not (self.first or self.more) and not still and not unmeasured:
            stopped = "nothing to measure"
        elif not still and not unmeasured:
            stopped = "decided"
        elif unmeasured or any(self.beyond_time(q) for q in still):
            stopped = "budget"
        else:
            stopped = "most processes"
        out = Outcome(self.ms, self.first, self.more, stopped, texts, sum(extra.values()), unmeasured, qs,
                      self.spent, self.while_open, stop)
        self.observer.finished(out)
        return out

    def beyond_time(self, q: Question) -> bool:
        """Open because the time ran out: it would be decided within the processes allowed."""
        sides = (q.subject, q.reference)
        need = q.comparison.to_decide(self.most, tuple(not _feedable(m, self.most) for m in sides))
        return need is not None and any(n > m.processes for m, n in zip(sides, need, strict=True))

    def what_decides(self, q: Question, extra: dict[int, float]) -> str:
        """'B: polars vs duckdb (1.05x): about 16 processes a side, 2 minutes more': an open question at the end."""
        sides = (q.subject, q.reference)
        fixed = tuple(m.fixed for m in sides)
        need = q.comparison.to_decide(fixed=fixed)
        if need is None:
            why = ("the side measured before has too few processes to decide it" if any(fixed) else
                   f"more than {stats.MOST_ESTIMATED} processes a side")
            return f"{q.text()}: {why}"
        seconds = 0.0
        for m, n in zip(sides, need, strict=True):
            if not m.fixed and m.per_process():
                more = max(0, n - m.processes) * m.cost(None)
                seconds += more
                extra[id(m)] = max(extra.get(id(m), 0.0), more)
        beyond = f" (beyond the {self.most} allowed)" if max(need) > self.most else ""
        return f"{q.text()}: about {max(need)} processes a side, {fmt.minutes(seconds)} more{beyond}"


def _take(m: Measurement, rows: list[dict]) -> None:
    """One process's rows into the measurement: numbered after the runs before, its value, its status."""
    base = len(m.rows)
    for r in rows:
        r["process_index"] = m.processes - 1
        r["run_index"] = base + r.get("run_index", 0)
    m.rows.extend(rows)
    failed = next((r["status"] for r in rows if r.get("status", "ok") != "ok"), None)
    if failed:
        m.status = failed
        return
    value = stats.process_values(rows)
    if value:
        m.values.append(value[0])
    else:  # a process without a warm run (a 0-warm-run setting): its cold run stands for it
        cold = [r["seconds"] for r in rows if r.get("seconds")]
        if cold:
            m.values.append(cold[0])
