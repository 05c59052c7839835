"""The verdict's rule, its sequential use in rounds and its error rates, on simulated processes with known noise.

Every sample here is drawn from a seeded generator: nothing depends on how busy the machine is. The real rates
on this machine come from `bench-pipeline calibrate` (a benchmark command, not a test)."""

from __future__ import annotations

import math
import random

import pytest

from bench_pipeline import calibrate, calibration, stats
from bench_pipeline.harness.rounds import Measurement, measure_in_rounds
from bench_pipeline.verdict import build_verdict, query_verdict

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


def test_calibration_file_missing_or_corrupt_falls_back_with_one_line(tmp_path):
    assert calibration.prior(tmp_path) == (stats.DEFAULT, None)  # missing: the default, nothing to say
    calibration.path(tmp_path).write_text("{not json")
    noise, note = calibration.prior(tmp_path)
    assert noise is stats.DEFAULT and "cannot be used" in note and "\n" not in note
    calibration.save(tmp_path, {"noise": 0.05, "noise_df": 30})
    noise, note = calibration.prior(tmp_path)
    assert (noise.sigma, noise.df, note) == (0.05, 30, None) and "calibrated" in noise.source


# -- the rounds: sequential stopping and the budget, with simulated processes and a simulated clock -------------
class _Sim:
    """Simulated processes: each takes `cost` simulated seconds and returns one warm run drawn around `true`."""

    def __init__(self, true: dict[tuple[str, int], float], sigma: float = 0.05, cost: float = 10.0, seed: int = 1,
                 fail: set[str] = frozenset()):
        self.true, self.sigma, self.cost, self.fail = true, sigma, cost, fail
        self.rng, self.now, self.calls = random.Random(seed), 0.0, []

    def clock(self) -> float:
        return self.now

    def measure(self, m: Measurement, index: int) -> list[dict]:
        self.now += self.cost
        self.calls.append((m.engine, m.threads, m.query))
        if m.engine in self.fail:
            return [{"run_index": 0, "run_kind": "cold", "status": "error", "seconds": None}]
        t = self.true[(m.engine, m.threads)] * math.exp(self.rng.gauss(0, self.sigma))
        return [{"run_index": 0, "run_kind": "cold", "status": "ok", "seconds": t * 1.5},
                {"run_index": 1, "run_kind": "warm", "status": "ok", "seconds": t}]


def _cells(true, queries=("A",)):
    return [Measurement(f"{e}|{t}", e, t, q) for (e, t) in true for q in queries]


def test_rounds_stop_when_every_comparison_is_decided():
    true = {("duck", 1): 2.0, ("duck", 2): 1.0, ("pand", 1): 9.0, ("pand", 2): 9.0 * 1.01}
    sim = _Sim(true, sigma=0.02)
    out = measure_in_rounds(_cells(true), sim.measure, 1e9, 2, CALIBRATED, clock=sim.clock, rng=random.Random(0))
    assert out.stopped == "decided" and out.open == [] and out.unmeasured == []
    per = {(m.engine, m.threads): m.processes for m in out.measurements}
    # pandas at 2 threads vs duckdb (9x): one process; pandas' scaling (1 %) needs more to be shown equivalent.
    assert per[("duck", 2)] >= 1 and per[("pand", 1)] > 1 and max(per.values()) < 20
    assert all(r["process_index"] is not None for m in out.measurements for r in m.rows)


def test_processes_go_where_the_answer_is_open():
    true = {("duck", 2): 1.0, ("polar", 2): 1.15, ("pand", 2): 5.0}
    sim = _Sim(true, sigma=0.06)
    out = measure_in_rounds(_cells(true), sim.measure, 1e9, 2, CALIBRATED, clock=sim.clock, rng=random.Random(0))
    per = {m.engine: m.processes for m in out.measurements}
    assert per["pand"] == 1 and per["polar"] > 2 and per["duck"] >= per["polar"]
    v = query_verdict([m.as_row() for m in out.measurements], "A", 2, CALIBRATED)
    assert v.fastest == "duck" and v.with_answer(stats.SLOWER) == ["polar", "pand"]


def test_the_budget_ends_the_rounds_and_names_what_stayed_open():
    true = {("duck", 2): 1.0, ("polar", 2): 1.04}  # 4 % apart with 6 % noise: open for a long time
    sim = _Sim(true, sigma=0.06, cost=10.0)
    out = measure_in_rounds(_cells(true), sim.measure, 60.0, 2, CALIBRATED, clock=sim.clock, rng=random.Random(0))
    assert out.stopped == "budget" and sim.now <= 60.0
    assert out.open and "polar vs duck" in out.open[0] and out.more_seconds > 0
    assert [m.processes for m in out.measurements] == [3, 3]


def test_a_budget_too_small_for_one_round_measures_what_fits_in_round_order():
    true = {("duck", 1): 1.0, ("duck", 2): 0.6, ("polar", 1): 1.1, ("polar", 2): 0.7, ("pand", 4): 3.0}
    sim = _Sim(true, cost=10.0)
    ms = _cells(true, ("A", "B"))
    for m in ms:
        m.estimate = 10.0
    out = measure_in_rounds(ms, sim.measure, 35.0, 2, CALIBRATED, clock=sim.clock, rng=random.Random(0))
    assert out.stopped == "budget" and len(sim.calls) == 3 and sim.now <= 35.0
    assert all(t <= 2 for _, t, _ in sim.calls)  # oversubscribed counts come last in a round
    assert "pand|4" in out.unmeasured and set(out.whole_cells()) <= {"duck|1", "duck|2", "polar|1", "polar|2"}
    assert not any(k in out.unmeasured for k in out.whole_cells())


def test_a_failure_is_an_answer_and_gets_no_more_processes():
    true = {("duck", 2): 1.0, ("spark", 2): 1.05, ("polar", 2): 1.04}
    sim = _Sim(true, sigma=0.06, fail={"spark"})
    out = measure_in_rounds(_cells(true), sim.measure, 200.0, 2, CALIBRATED, clock=sim.clock, rng=random.Random(0))
    spark = next(m for m in out.measurements if m.engine == "spark")
    assert spark.status == "error" and spark.processes == 1
    assert sum(1 for c in sim.calls if c[0] == "polar") > 1


def test_a_cell_measured_alone_is_whole_whatever_the_clock_says():
    true = {("duck", 2): 1.0, ("polar", 2): 1.5}
    sim = _Sim(true)
    out = measure_in_rounds(_cells(true, ("A", "B")), sim.measure, 0.0, 2, CALIBRATED, clock=sim.clock,
                            rng=random.Random(0), whole_first_round=True)
    assert out.rounds == 1 and out.unmeasured == [] and set(out.whole_cells()) == {"duck|2", "polar|2"}


def test_fresh_cells_are_context_never_measured_again():
    true = {("duck", 2): 1.0, ("polar", 2): 1.3}
    sim = _Sim(true)
    ms = _cells(true)
    ms[0].fixed, ms[0].values = True, [1.0, 1.02, 0.99]
    out = measure_in_rounds(ms, sim.measure, 1e9, 2, CALIBRATED, clock=sim.clock, rng=random.Random(0))
    assert all(c[0] == "polar" for c in sim.calls) and "duck|2" not in out.whole_cells()


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
    from bench_pipeline import fmt

    assert [fmt.minutes(s) for s in (0, 20, 40, 60, 100, 3_130, 600_000)] == [
        "under a minute", "under a minute", "1 minute", "1 minute", "2 minutes", "52 minutes", "10,000 minutes"]
