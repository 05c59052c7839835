"""The verdict's rule, its sequential use in rounds and its error rates, on simulated processes with known noise.

Every sample here is drawn from a seeded generator: nothing depends on how busy the machine is. The real rates
on this machine come from `bench-pipeline calibrate` (a benchmark command, not a test)."""

from __future__ import annotations

import json
import math
import random

import pytest

from bench_pipeline.analysis import calibrate, calibration, stats
from bench_pipeline.analysis.verdict import build_verdict, query_verdict, questions
from bench_pipeline.harness import rounds
from bench_pipeline.harness.rounds import Measurement, measure_in_rounds

CALIBRATED = stats.Noise(0.08, 40, "calibrated")


def _processes(rng: random.Random, true_s: float, n: int, sigma: float) -> list[float]:
    """n process values of one side: each fresh process's own speed, log-normal around the true time."""
    return [true_s * math.exp(rng.gauss(0, sigma)) for _ in range(n)]


def _rate(rng, ratio: float, sigma: float, prior: stats.Noise, looks: int, trials: int, called=(stats.FASTER,)):
    hits = 0
    for _ in range(trials):
        a, b = _processes(rng, 1.0, looks, sigma), _processes(rng, ratio, looks, sigma)
        hits += stats.sequential(a, b, prior)[0] in called
    return hits / trials


def test_typical_interval_of_one_process_and_its_precision():
    assert stats.typical([1.0]) is None  # one run: no interval
    tight = stats.typical([1.0, 1.001, 0.999, 1.0])
    assert tight.low < 1.0 < tight.high and tight.relative_half_width < 0.01
    assert stats.typical([1.0, 1.5, 0.7]).relative_half_width > 0.3


def test_four_answers_never_conflated():
    near = [1.0, 1.01, 0.99, 1.0, 1.02, 0.98, 1.0, 1.01]
    assert stats.compare([x / 2 for x in near], near, CALIBRATED).answer == stats.FASTER
    assert stats.compare([x * 2 for x in near], near, CALIBRATED).answer == stats.SLOWER
    # Many steady processes 2 % apart: shown equivalent within ±MARGIN, not "faster".
    steady = stats.Noise(0.01, 40, "calibrated")
    assert stats.compare([x * 1.02 for x in near], near, steady).answer == stats.EQUIVALENT
    # One process a side 5 % apart: not enough to tell either way, and said so.
    c = stats.compare([1.05], [1.0], CALIBRATED)
    assert c.answer == stats.UNDECIDED and c.processes == (1, 1) and c.processes_to_decide() > 1


def test_a_large_difference_is_decided_with_one_process_a_side():
    rng = random.Random(3)
    for ratio in (2.0, 3.0):
        decided = [stats.sequential(_processes(rng, 1.0, 1, 0.05), _processes(rng, ratio, 1, 0.05), CALIBRATED)
                   for _ in range(200)]
        assert all(d == (stats.FASTER, 1) for d in decided)


def test_a_a_false_positives_at_most_5_percent_over_20_looks():
    """Pairs of one engine, the rule applied after each of up to 20 processes a side (what the rounds do); a
    t-test at 95 % per look, without the prior, calls far more: the test tells a broken rule from a sound one."""
    rng = random.Random(11)
    assert _rate(rng, 1.0, 0.08, CALIBRATED, 20, 1500, (stats.FASTER, stats.SLOWER)) <= 0.05
    rng = random.Random(11)
    assert _rate(rng, 1.0, 0.08, stats.DEFAULT, 20, 1500, (stats.FASTER, stats.SLOWER)) <= 0.05
    rng, naive = random.Random(11), 0
    for _ in range(500):
        a, b = _processes(rng, 1.0, 20, 0.08), _processes(rng, 1.0, 20, 0.08)
        naive += any(stats.compare(a[:k], b[:k], stats.Noise(1e-6, 1, "none"), confidence=0.95).answer
                     in (stats.FASTER, stats.SLOWER) for k in range(2, 21))
    assert naive / 500 > 0.15


def test_power_on_known_differences():
    rng = random.Random(7)
    quiet = stats.Noise(0.05, 40, "calibrated")
    assert _rate(rng, 1.2, 0.05, quiet, 6, 500) >= 0.95
    assert _rate(rng, 1.1, 0.05, quiet, 6, 500) >= 0.5
    assert _rate(rng, 1.1, 0.05, quiet, 1, 500) < 0.1  # one process a side cannot see 10 % through 5 % noise


def test_the_noise_is_pooled_from_the_processes_of_the_run():
    rng = random.Random(5)
    groups = [_processes(rng, t, 6, 0.03) for t in (0.1, 1.0, 5.0) for _ in range(20)]
    noise = stats.pooled(groups, stats.DEFAULT)
    assert noise.sigma == pytest.approx(0.03, rel=0.2) and noise.df > 300
    assert stats.pooled([[1.0], [2.0]], CALIBRATED) is CALIBRATED  # one process a group: nothing to add


def test_calibration_replays_real_processes_through_the_rule():
    """What `calibrate` computes, on simulated pools: the noise, the A/A rate, the power, the smallest resolved."""
    rng = random.Random(2)
    pools = [calibrate.Pool(q, _processes(rng, t, 20, 0.04)) for q, t in (("A", 0.2), ("B", 1.0), ("C", 0.5))]
    noise = calibrate.noise_of(pools)
    assert noise.sigma == pytest.approx(0.04, rel=0.25) and noise.df == 57
    called, total = calibrate.false_positives(pools, noise, 240, rng)
    assert total == 240 and called / total <= 0.05
    alarms, remeasures = calibrate.false_alarms(pools, noise, 6, 0.05, 240, rng)
    assert remeasures == 240 and alarms / remeasures <= 0.05
    fast = calibrate.Pool("x100", _processes(rng, 1.0, 20, 0.04))
    assert calibrate.power(fast, calibrate.Pool("x120", _processes(rng, 1.2, 20, 0.04)), noise, 6, 200, rng)[0] >= 180
    right, pairs = calibrate.one_process_calls(fast, calibrate.Pool("x200", _processes(rng, 2.0, 20, 0.04)), noise)
    assert (right, pairs) == (400, 400)
    assert 1.03 <= calibrate.smallest_resolved(noise, 6, rng) <= 1.15
    assert calibrate.processes_in(18.0, [3.0, 3.2, 2.9]) == 6


def test_calibrate_returns_a_record_the_cli_prints():
    """`calibrate`'s figures come from its pools alone (no measurement here) and `describe` prints the record."""
    from types import SimpleNamespace

    from bench_pipeline.workloads.social.catalogue import QUERY_NAMES

    rng = random.Random(3)
    pools = {q: calibrate.Pool(q, _processes(rng, 0.5, 12, 0.04), [1.0] * 12) for q in QUERY_NAMES}
    pools |= {calibrate.known_query(f): calibrate.Pool(calibrate.known_query(f), _processes(rng, f, 12, 0.04),
                                                       [2.0 * f] * 12) for f in calibrate.FACTORS}
    settings = SimpleNamespace(engines=("duckdb", "polars"), threads=(1, 2), rows=1000, time_budget_s=900.0,
                               regression_threshold=0.05)
    record = calibrate.figures(settings, pools, 12, 2, random.Random(4))
    assert record["noise"] == pytest.approx(0.04, rel=0.3) and record["processes_in_share"] == 20  # 56 s / 2 s
    assert record["power"]["2"]["called"] == record["power"]["2"]["draws"]  # 2x through 4 % noise: always
    lines = calibrate.describe(record)
    assert lines[0].startswith(f"noise between processes: {record['noise']:.3f}")
    assert sum(line.startswith("  ") and " N (measured " in line for line in lines) == len(calibrate.FACTORS) - 1
    assert lines[-1].startswith("smallest difference the default budget resolves here")


def test_calibration_file_missing_or_corrupt_falls_back_with_one_line(tmp_path, monkeypatch):
    monkeypatch.setenv("BENCH_CALIBRATION_DIR", str(tmp_path / "machine"))
    home = tmp_path / "state"
    assert calibration.prior(home) == (stats.DEFAULT, None)  # missing: the default, nothing to say
    assert "not calibrated" in calibration.not_calibrated(home, 1.5) and "4 minutes" in \
        calibration.not_calibrated(home, 1.5)
    calibration.machine_file(home).parent.mkdir(parents=True)
    calibration.machine_file(home).write_text("{not json")
    noise, note = calibration.prior(home)
    assert noise is stats.DEFAULT and "cannot be used" in note and "\n" not in note
    assert calibration.not_calibrated(home, None) == note  # said once: the file's problem, not a second line
    saved = calibration.save(home, {"noise": 0.05, "noise_df": 30})
    assert saved == calibration.machine_file(home) and saved.parent == tmp_path / "machine"
    noise, note = calibration.prior(home)
    assert (noise.sigma, noise.df, note) == (0.05, 30, None) and "calibrated" in noise.source
    assert calibration.prior(tmp_path / "another state")[0].sigma == 0.05  # the machine's, for every state folder
    assert calibration.not_calibrated(home, 1.5) is None


def test_a_state_folders_own_calibration_still_wins(tmp_path, monkeypatch):
    monkeypatch.setenv("BENCH_CALIBRATION_DIR", str(tmp_path / "machine"))
    home = tmp_path / "state"
    calibration.save(home, {"noise": 0.05, "noise_df": 30})
    home.mkdir()
    calibration.state_file(home).write_text(json.dumps(
        {"machines": {calibration.machine_id(): {"noise": 0.09, "noise_df": 10}}}))
    assert calibration.prior(home)[0].sigma == 0.09 and calibration.prior(tmp_path / "other")[0].sigma == 0.05
    calibration.save(home, {"noise": 0.06, "noise_df": 40})  # a new calibration replaces the one that wins too
    assert calibration.prior(home)[0].sigma == 0.06 and calibration.prior(tmp_path / "other")[0].sigma == 0.06


# -- the rounds: sequential stopping and the budget, with simulated processes and a simulated clock -------------
class _Sim:
    """Simulated processes: each takes `cost` simulated seconds (or `costs[engine]`) and returns one warm run drawn
    around `true`; `session` seconds more when it has to start its measurement's session."""

    def __init__(self, true: dict[tuple[str, int], float], sigma: float = 0.05, cost: float = 10.0, seed: int = 1,
                 fail: set[str] = frozenset(), costs: dict[str, float] | None = None, session: float = 0.0):
        self.true, self.sigma, self.cost, self.fail, self.costs = true, sigma, cost, fail, costs or {}
        self.session = session
        self.rng, self.now, self.calls, self.switches = random.Random(seed), 0.0, [], []

    def clock(self) -> float:
        return self.now

    def switch(self, m) -> None:
        self.switches.append(None if m is None else m.session)
        if m is not None and m.session is not None:
            self.now += self.session

    def measure(self, m: Measurement, index: int) -> list[dict]:
        self.now += self.costs.get(m.engine, self.cost)
        self.calls.append((m.engine, m.threads, m.query))
        if m.engine in self.fail:
            return [{"run_index": 0, "run_kind": "cold", "status": "error", "seconds": None}]
        t = self.true[(m.engine, m.threads)] * math.exp(self.rng.gauss(0, self.sigma))
        return [{"run_index": 0, "run_kind": "cold", "status": "ok", "seconds": t * 1.5},
                {"run_index": 1, "run_kind": "warm", "status": "ok", "seconds": t}]


def _cells(true, queries=("A",), cores=2):
    return [Measurement("g", f"{e}|{t}", e, t, q, late=t > cores) for (e, t) in true for q in queries]


def _verdict(ms, noise):
    """The grid's questions (verdict.questions) at 2 cores."""
    return questions(ms, "g", 2, noise)


def _rounds(ms, sim, deadline=1e9, ask=_verdict, **kw):
    return measure_in_rounds(ms, sim.measure, deadline, CALIBRATED, ask, clock=sim.clock, rng=random.Random(0),
                             switch=sim.switch, **kw)


def test_rounds_stop_when_every_comparison_is_decided():
    true = {("duck", 1): 2.0, ("duck", 2): 1.0, ("pand", 1): 9.0, ("pand", 2): 9.0 * 1.01}
    sim = _Sim(true, sigma=0.02)
    out = _rounds(_cells(true), sim)
    assert out.stopped == "decided" and out.open == [] and out.unmeasured == []
    per = {(m.engine, m.threads): m.processes for m in out.measurements}
    # pandas at 2 threads vs duckdb (9x): one process; pandas' scaling (1 %) needs more to be shown equivalent.
    assert per[("duck", 2)] >= 1 and per[("pand", 1)] > 1 and max(per.values()) < 20
    assert all(r["process_index"] is not None for m in out.measurements for r in m.rows)
    assert {q.answer for q in out.questions} >= {"slower", "scales", "does not scale"}


def test_processes_go_where_the_answer_is_open():
    true = {("duck", 2): 1.0, ("polar", 2): 1.15, ("pand", 2): 5.0}
    sim = _Sim(true, sigma=0.06)
    out = _rounds(_cells(true), sim)
    per = {m.engine: m.processes for m in out.measurements}
    # pandas (5x) is decided with one process: it gets more only from time left over, up to the baseline.
    assert per["pand"] == rounds.BASELINE and per["polar"] > rounds.BASELINE and per["duck"] >= per["polar"]
    assert {q.label: q.answer for q in out.questions} == {"polar vs duck": "slower", "pand vs duck": "slower"}


def test_the_recommendation_gets_the_budget_before_the_scaling_of_slow_engines():
    """The issue's grid: PySpark's scaling is open and costly, DuckDB against Polars is open and cheap. After
    round 1 the recommendation's comparisons get every process while they are open and fit; then the rest."""
    true = {("duck", 1): 2.0, ("duck", 2): 1.0, ("polar", 1): 2.1, ("polar", 2): 1.08,
            ("spark", 1): 30.0, ("spark", 2): 27.0}
    sim = _Sim(true, sigma=0.05, costs={"duck": 1.0, "polar": 1.0, "spark": 30.0})
    out = _rounds(_cells(true), sim, deadline=400.0)
    engine = next(q for q in out.questions if q.kind == "engine" and "polar" in q.label)
    assert engine.decided, engine.comparison
    # While one of the recommendation's comparisons was open and fitted, every process went to them.
    assert out.while_open["recommendation"] > 0
    assert out.while_open["recommendation"] / sum(out.while_open.values()) == 1.0
    assert out.spent.get("other", 0) > 0 and sim.now <= 400.0  # then the rest: PySpark's scaling


def test_within_a_tier_the_comparison_decided_soonest_per_second_goes_first():
    """Two open recommendations: C is cheap (0.3 s a process), B costly (8 s); with little time left C is decided
    and B, whose estimated cost exceeds what is left, is not fed and is named with what would decide it."""
    true = {("duck", 2): 1.0, ("polar", 2): 1.12}
    sim = _Sim(true, sigma=0.05, costs={"duck": 0.3, "polar": 0.3})
    ms = _cells(true, ("C",)) + [Measurement("g", k, e, 2, "B") for k, e in (("duck|2", "duck"), ("polar|2", "polar"))]
    slow = _Sim({("duck", 2): 1.0, ("polar", 2): 1.10}, sigma=0.05, seed=3)

    def measure(m, index):
        if m.query == "B":
            sim.now += 8.0
            return slow.measure(m, index)
        return sim.measure(m, index)

    out = measure_in_rounds(ms, measure, 30.0, CALIBRATED, _verdict, clock=sim.clock, rng=random.Random(0))
    c = next(q for q in out.questions if q.panel.startswith("C") and q.kind == "engine")
    b = next(q for q in out.questions if q.panel.startswith("B") and q.kind == "engine")
    assert c.decided and not b.decided and sim.now <= 30.0
    assert any(line.startswith("B") and "processes a side" in line for line in out.open)
    assert out.stopped == "budget"


def test_the_budget_ends_the_rounds_and_names_what_stayed_open():
    true = {("duck", 2): 1.0, ("polar", 2): 1.04}  # 4 % apart with 6 % noise: open for a long time
    sim = _Sim(true, sigma=0.06, cost=10.0)
    out = _rounds(_cells(true), sim, deadline=60.0)
    assert out.stopped in ("budget", "most processes") and sim.now <= 60.0
    assert out.open and "polar vs duck" in out.open[0] and "processes a side" in out.open[0]


def test_a_budget_too_small_for_one_round_measures_what_fits_in_round_order():
    true = {("duck", 1): 1.0, ("duck", 2): 0.6, ("polar", 1): 1.1, ("polar", 2): 0.7, ("pand", 4): 3.0}
    sim = _Sim(true, cost=10.0)
    ms = _cells(true, ("A", "B"))
    for m in ms:
        m.estimate = 10.0
    out = _rounds(ms, sim, deadline=35.0)
    assert len(sim.calls) == 3 and sim.now <= 35.0
    assert all(t <= 2 for _, t, _ in sim.calls)  # oversubscribed counts come last in a round
    assert ("g", "pand|4") in out.unmeasured and set(out.whole_cells()) <= {("g", k) for k in
                                                                            ("duck|1", "duck|2", "polar|1", "polar|2")}
    assert not any(k in out.unmeasured for k in out.whole_cells())


def test_a_failure_is_an_answer_and_gets_no_more_processes():
    true = {("duck", 2): 1.0, ("spark", 2): 1.05, ("polar", 2): 1.04}
    sim = _Sim(true, sigma=0.06, fail={"spark"})
    out = _rounds(_cells(true), sim, deadline=200.0)
    spark = next(m for m in out.measurements if m.engine == "spark")
    assert spark.status == "error" and spark.processes == 1
    assert sum(1 for c in sim.calls if c[0] == "polar") > 1


def test_a_cell_measured_alone_is_whole_whatever_the_clock_says():
    true = {("duck", 2): 1.0, ("polar", 2): 1.5}
    sim = _Sim(true)
    out = _rounds(_cells(true, ("A", "B")), sim, deadline=0.0, whole_first_round=True)
    assert out.first_round == 4 and out.later == 0 and out.unmeasured == []
    assert set(out.whole_cells()) == {("g", "duck|2"), ("g", "polar|2")}


def test_fresh_cells_are_context_never_measured_again():
    true = {("duck", 2): 1.0, ("polar", 2): 1.3}
    sim = _Sim(true)
    ms = _cells(true)
    ms[0].fixed, ms[0].values = True, [1.0, 1.02, 0.99]
    out = _rounds(ms, sim)
    assert all(c[0] == "polar" for c in sim.calls) and ("g", "duck|2") not in out.whole_cells()


def test_a_re_measure_is_judged_against_its_previous_measurement():
    """The history's question: a query made 20 % slower is fed until the rule calls it slower; an unchanged one
    until it is shown equivalent or the processes allowed are spent, and never called different here."""
    rng = random.Random(5)
    before = Measurement("g", "duck|2", "duck", 2, "A", values=_processes(rng, 1.0, 6, 0.05), fixed=True)
    for factor, called in ((1.2, "slower"), (1.0, None)):
        sim = _Sim({("duck", 2): factor}, sigma=0.05, seed=11)
        m = Measurement("g", "duck|2", "duck", 2, "A")
        out = _rounds([m], sim, ask=lambda ms, noise: [], previous={id(m): before})
        (q,) = out.questions
        assert q.kind == "history" and m.processes >= 2
        assert (q.answer == "slower") if called else q.answer in ("equivalent", "undecided")


def test_a_sessions_processes_run_together_in_round_1_and_its_start_up_is_counted_apart():
    true = {("spark", 2): 10.0, ("spark", 3): 8.0, ("duck", 2): 1.0}
    sim = _Sim(true, sigma=0.02, cost=5.0, session=12.0)
    ms = _cells(true, ("A", "B", "C"))
    for m in ms:
        m.session = m.key if m.engine == "spark" else None
    out = _rounds(ms, sim, ask=lambda ms, noise: [], most_processes=1)
    first = [s for s in sim.switches][:4]
    assert [s for s in first if s is not None] == list(dict.fromkeys(s for s in first if s is not None))
    assert sum(1 for s in sim.switches if s is not None) == 2  # one start-up per cell, not per process
    assert sim.switches[-1] is None  # the last session is ended
    spark = [m for m in out.measurements if m.engine == "spark"]
    assert all(s == 5.0 for m in spark for s in m.seconds) and all(m.session_seconds == 12.0 for m in spark)
    assert spark[0].cost("another") == 17.0 and spark[0].cost(spark[0].session) == 5.0


def test_time_left_over_brings_every_measurement_to_a_baseline():
    true = {("duck", 2): 1.0, ("pand", 2): 9.0}
    sim = _Sim(true, sigma=0.02, cost=1.0)
    out = _rounds(_cells(true), sim, deadline=100.0)
    assert all(m.processes == rounds.BASELINE for m in out.measurements)
    assert out.spent["other"] > 0 and out.stopped == "decided"
    short = _Sim(true, sigma=0.02, cost=1.0)
    out = _rounds(_cells(true), short, most_processes=1)
    assert all(m.processes == 1 for m in out.measurements)  # --max-processes 1: one process, whatever is left


def test_the_estimate_of_what_decides_a_comparison_respects_fixed_sides_and_the_most_allowed():
    noise = stats.Noise(0.057, 100, "x")
    close = stats.compare([1.0], [1.07], noise)
    need = close.to_decide(20)
    assert need is not None and need[0] == need[1] and 5 < need[0] <= 20
    assert close.to_decide(3) is None  # more than the 3 allowed
    assert close.to_decide(20, fixed=(True, False)) is None  # one process on a side that cannot grow
    assert stats.compare([1.0] * 3, [2.0] * 3, noise).to_decide(20) == (3, 3)  # decided: what it has
    assert close.processes_to_decide() == max(close.to_decide())


def test_the_geometric_mean_of_ratios_has_an_interval_that_narrows_with_queries():
    rng = random.Random(2)
    cs = [stats.compare(_processes(rng, 1.2, 6, 0.05), _processes(rng, 1.0, 6, 0.05), CALIBRATED) for _ in range(20)]
    g = stats.geometric_mean(cs)
    assert g.low < 1.2 < g.high and g.low > 1.1
    few = stats.geometric_mean(cs[:2])
    assert few.high / few.low > g.high / g.low
    assert stats.geometric_mean([]) is None


def test_the_picture_of_the_verdict_reads_without_the_table(tmp_path):
    from bench_pipeline.report import forest

    rng = random.Random(8)
    true = {("duck", 1): 2.0, ("duck", 2): 1.0, ("polar", 1): 2.1, ("polar", 2): 1.02, ("pand", 2): 6.0,
            ("pand", 1): 6.0}
    sim = _Sim(true, sigma=0.03, cost=1.0, seed=rng.randrange(100))
    out = _rounds(_cells(true, ("A", "B")), sim, deadline=60.0)
    panels = forest.points(out.questions)
    assert list(panels) == ["A (aggregation)", "B (window)"]
    rows = {r["label"]: r for r in panels["A (aggregation)"]}
    assert rows["pand / duck"]["answer"] == "slower" and rows["pand / duck"]["class"] == forest.DIFFERENT
    assert rows["duck 2 threads / 1 thread"]["answer"] == "scales"
    assert all(r["low"] <= r["ratio"] <= r["high"] for rs in panels.values() for r in rs)
    assert all(r["text"].startswith(r["answer"]) for rs in panels.values() for r in rs)
    path = forest.draw(out.questions, tmp_path / "verdict.png", "the verdict", "caption")
    assert path.stat().st_size > 10_000
    assert forest.draw([], tmp_path / "none.png", "nothing") is None and not (tmp_path / "none.png").exists()


# -- the verdict's sentences ----------------------------------------------------------------------------------
def _row(engine: str, threads: int, query: str, processes: list[float], status: str = "ok") -> dict:
    return {"engine": engine, "threads_asked": threads, "query": query, "status": status,
            "median_seconds": sorted(processes)[len(processes) // 2] if processes else None,
            "process_list": processes, "peak_rss_bytes": 100 * 2**20, "noisy": False}


def test_verdict_answers_each_comparison_and_the_scaling():
    rng = random.Random(4)
    true = {("duck", 1): (2.0, 6, 0.02), ("duck", 2): (1.0, 6, 0.02), ("polar", 1): (2.0, 8, 0.01),
            ("polar", 2): (1.01, 8, 0.01), ("pand", 1): (6.0, 8, 0.01), ("pand", 2): (6.0, 8, 0.01)}
    latest = [_row(e, t, "B", _processes(rng, s, n, sd)) for (e, t), (s, n, sd) in true.items()]
    latest += [_row("spark", 1, "B", [30.0]), _row("spark", 2, "B", [20.0])]
    quiet = stats.Noise(0.02, 40, "calibrated")
    v = query_verdict(latest, "B", 2, quiet)
    assert v.threads == 2 and v.fastest in ("duck", "polar")
    assert set(v.with_answer(stats.SLOWER)) == {"pand", "spark"}  # 6x and 20x: decided, never "tied"
    other = "polar" if v.fastest == "duck" else "duck"
    assert other in v.with_answer(stats.EQUIVALENT)
    scaling = {s.engine: s for s in v.scaling}
    assert scaling["duck"].answer == "scales" and scaling["pand"].answer == "does not scale"
    assert scaling["spark"].answer in ("scales", "undecided")  # 1.5x from one process a side
    verdict = build_verdict(latest, cores=2, rows=1000, prior=quiet, resolves="5 %")
    j = verdict.as_json()["B"]
    assert set(j["slower"]) == {"pand", "spark"} and other in j["equivalent"] and "tied_with" not in j
    assert j["compared"]["pand"]["answer"] == "slower" and j["compared"]["pand"]["ratio"] > 5
    assert any("1,000 rows" in c for c in verdict.caveats) and any("5 %" in c for c in verdict.caveats)
    assert {r["answer"] for r in verdict.table()} >= {"slower", "equivalent", "scales", "does not scale"}


def test_an_undecided_comparison_says_what_would_decide_it():
    latest = [_row("duck", 2, "A", [1.0]), _row("polar", 2, "A", [1.15])]
    v = query_verdict(latest, "A", 2, CALIBRATED, most_processes=20)
    (c,) = v.compared
    assert c.answer == stats.UNDECIDED and "1 and 1 processes" in c.why() and "a side would decide it" in c.why()
    line = build_verdict(latest, cores=2, prior=CALIBRATED).recommendation
    assert any("undecided: polar" in s for s in line)


def test_time_still_to_spend_is_never_written_as_zero_minutes():
    from bench_pipeline.report import fmt

    assert [fmt.minutes(s) for s in (0, 20, 40, 60, 100, 3_130, 600_000)] == [
        "under a minute", "under a minute", "1 minute", "1 minute", "2 minutes", "52 minutes", "10,000 minutes"]


def test_thread_counts_the_recommendation_does_not_compare_wait_for_it_and_slow_engines_scaling_comes_last():
    """The issue's slow day: round 1 of every cell would spend the whole budget (PySpark's processes 30 s each).
    Deferred, round 1 measures every engine at the cores; the recommendation (polars against duckdb) is then
    decided, the close engines' other thread counts come next (their scaling), and what the budget does not
    reach is PySpark's and pandas' other counts, left stale and named."""
    true = {(e, t): base * f for e, base in (("duck", 1.0), ("polar", 1.1), ("pand", 5.0), ("spark", 20.0))
            for t, f in ((1, 1.8), (2, 1.0), (4, 1.05))}
    sim = _Sim(true, sigma=0.05, costs={"duck": 1.0, "polar": 1.0, "pand": 6.0, "spark": 30.0})
    ms = _cells(true, ("A", "B"))
    rounds.defer(ms, 2)
    assert {(m.threads, m.deferred) for m in ms} == {(1, True), (2, False), (4, True)}
    assert all(m.peer is not None and m.peer.threads == 2 and m.peer.engine == m.engine for m in ms if m.deferred)
    whole = sum(sim.costs[e] for e, _ in true) * 2  # one process of every query of every cell: 228 s
    out = _rounds(ms, sim, deadline=whole * 0.8)
    assert out.first_round == 8 and all(t == 2 for _, t, _ in sim.calls[:8])
    engine = [q for q in out.questions if q.kind == "engine" and "polar" in q.label]
    assert engine and all(q.decided for q in engine)
    assert out.while_open["recommendation"] / sum(out.while_open.values()) == 1.0
    per = {(m.engine, m.threads): m.processes for m in out.measurements}
    assert all(per[(e, t)] >= 1 for e in ("duck", "polar") for t in (1, 4))  # the close engines: measured
    assert ("g", "spark|1") in out.unmeasured and out.stopped == "budget" and sim.now <= whole * 0.8
    assert not set(out.unmeasured) & set(out.whole_cells())


def test_a_deferred_cell_is_started_only_when_the_rest_of_it_fits():
    true = {("duck", 1): 2.0, ("duck", 2): 1.0}
    sim = _Sim(true, sigma=0.02, cost=10.0)
    ms = _cells(true, ("A", "B", "C"))
    rounds.defer(ms, 2)
    out = _rounds(ms, sim, deadline=45.0)  # round 1: 30 s; the 1-thread cell's three processes would need 60
    assert out.first_round == 3 and all(t == 2 for _, t, _ in sim.calls) and ("g", "duck|1") in out.unmeasured


def test_a_measurement_raised_to_processes_to_tell_lets_the_next_re_measure_tell_a_20_percent_change():
    """The baseline the rounds give a measurement from time left over (stats.processes_to_tell): against it, a
    re-measure 1.2x slower with 20 processes is called a regression at least TELL_POWER of the time, and with a
    single earlier process far less often; an unchanged re-measure almost never is."""
    from bench_pipeline.analysis.history import classify

    sigma = 0.08
    noise = stats.Noise(sigma, 40, "simulated")
    n = stats.processes_to_tell(1.2, noise, 20)
    assert 1 < n < 20
    rng = random.Random(11)

    def flagged(ratio: float, before_n: int, trials: int = 400) -> float:
        hits = 0
        for _ in range(trials):
            before, after = _processes(rng, 1.0, before_n, sigma), _processes(rng, ratio, 20, sigma)
            hits += classify(after, before, 0.05, noise)[0] == "regression"
        return hits / trials

    assert flagged(1.2, n) >= stats.TELL_POWER - 0.05
    assert flagged(1.2, 1) < flagged(1.2, n) - 0.2
    assert flagged(1.0, n) <= 0.01
    assert stats.processes_to_tell(1.2, stats.Noise(0.03, 40, "quiet"), 20) < n  # a quieter machine needs fewer


def test_the_clusters_single_node_reference_waits_for_the_executor_steps():
    """The cluster suite's budget goes to "did more workers help?" first: the single-node engines it is compared
    with (CellSpec.reference: deferred, no peer) are measured after round 1 of the cluster's cells and once the
    executor steps are fed, so a budget that one round of everything would spend still decides the steps."""
    from bench_pipeline.suites.cluster import ASSET, _questions

    true = {("spark", 2): 10.0, ("spark", 3): 7.0, ("spark", 4): 6.9, ("duck", 2): 1.0, ("pand", 2): 8.0}
    sim = _Sim(true, sigma=0.05, costs={"spark": 10.0, "duck": 1.0, "pand": 8.0})
    ms = [Measurement(ASSET, f"{n}|flat", "spark", n, q) for n in (2, 3, 4) for q in ("A", "B")]
    ms += [Measurement("benchmark_cells", f"{e}|2", e, 2, q, deferred=True) for e in ("duck", "pand")
           for q in ("A", "B")]
    out = _rounds(ms, sim, deadline=200.0, ask=lambda ms, noise: _questions(None, ms, noise))
    assert out.first_round == 6 and all(e == "spark" for e, _, _ in sim.calls[:6])
    steps = [q for q in out.questions if q.kind == "executors"]
    assert steps and all(min(q.comparison.processes) >= 2 for q in steps if not q.decided)
    assert any(q.decided for q in steps)
    first_local = next(i for i, (e, _, _) in enumerate(sim.calls) if e != "spark")
    assert first_local > 6  # after round 1 of the cluster's cells, and after their steps were fed


def test_every_open_question_gets_two_processes_a_side_before_any_gets_a_third():
    """The cluster's slow day: twelve processes of a minute each in round 1, a budget for about twelve more. The
    cheapest-first order alone fed two executor steps again and again and left others at one process a side;
    with the floor every step that stayed open has at least rounds.FLOOR processes a side."""
    from bench_pipeline.suites.cluster import ASSET, _questions

    factors = {"L": (1.0, 0.98, 1.13), "A": (1.0, 0.68, 0.48), "B": (1.0, 0.77, 0.72), "C": (1.0, 0.81, 0.70)}
    true = {("spark", n): 1.0 for n in (2, 3, 4)}
    sim = _Sim(true, sigma=0.12, cost=60.0)
    base = sim.measure

    def measure(m, index):
        rows = base(m, index)
        for r in rows:
            if r.get("seconds"):
                r["seconds"] *= factors[m.query][(2, 3, 4).index(m.threads)]
        return rows

    sim.measure = measure
    ms = [Measurement(ASSET, f"{n}|flat", "spark", n, q) for n in (2, 3, 4) for q in factors]
    out = _rounds(ms, sim, deadline=12 * 60 + 13 * 60, ask=lambda ms, noise: _questions(None, ms, noise))
    steps = [q for q in out.questions if q.kind == "executors"]
    assert len(steps) == 8
    assert all(min(q.comparison.processes) >= rounds.FLOOR for q in steps if not q.decided)
