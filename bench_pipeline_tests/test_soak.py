"""The soak's own rules (bench_pipeline_tests/soak.py), on timelines written out: what counts as a hang, the
nights' plan, and the rows measured across a store moved aside. The soak itself is a benchmark command."""

from __future__ import annotations

import random

import pytest

from bench_pipeline_tests.soak import FAULTS, STALL_S, Night, measured_rows, plan, stalled_runs, summary

NOW = 10_000.0


def test_runs_queued_behind_a_slow_cell_are_not_a_hang_once_the_queue_drains():
    """Found by the soak: on a night whose engine hangs until its timeout, the observers and plots queue behind
    the cell for minutes (one run at a time). When the cell ends, the oldest queued run was older than STALL_S
    and was called hung in the seconds before the queue started it. Its age is not the rule: how long no run
    has been started is."""
    queued = [("observe-1", "observe_engine_versions")]
    assert stalled_runs(NOW, [], queued, idle_since=NOW - 2) == []  # the cell ended 2 s ago
    assert stalled_runs(NOW, [("cell", "benchmark_cells_job", NOW - 5)], queued, idle_since=None) == []


def test_a_queue_that_does_not_drain_is_a_hang():
    queued = [("observe-1", "observe_engine_versions"), ("cell-2", "benchmark_cells_job")]
    hung = stalled_runs(NOW, [], queued, idle_since=NOW - STALL_S - 1)
    assert [h.split()[0] for h in hung] == ["observe-1", "cell-2"]
    assert "no run started for 181 s" in hung[0]


def test_a_started_run_without_events_is_a_hang():
    started = [("cell", "benchmark_cells_job", NOW - STALL_S - 5), ("plots", "plots_job", NOW - 1)]
    assert stalled_runs(NOW, started, [("observe-1", "x")], idle_since=None) == [
        f"cell benchmark_cells_job (no event for {STALL_S + 5} s)"]


@pytest.mark.parametrize("rate", [0.4, 0.6])
def test_the_plan_never_puts_two_faults_in_a_row_and_its_share_follows_the_rate(rate):
    nights = plan(6000, random.Random(1), FAULTS, rate)
    faults = [f for _, f in nights]
    assert faults[0] is None and all(not (a and b) for a, b in zip(faults, faults[1:], strict=False))
    assert all(c is None for c, f in nights if f)  # a fault night changes nothing else
    share = sum(f is not None for f in faults) / len(faults)
    assert share == pytest.approx(rate / (1 + rate), abs=0.02)
    assert plan(60, random.Random(3), FAULTS, rate) == plan(60, random.Random(3), FAULTS, rate)  # seeded


def test_rows_measured_count_on_across_a_store_moved_aside():
    rows = [368, 749, 1126, -1, 404, 796]  # -1: the store could not be read that night; then it started again
    assert measured_rows([Night(i, None, None, rows=r) for i, r in enumerate(rows, 1)]) == [
        368, 749, 1126, 1126, 1530, 1922]


def test_the_summary_of_no_night_at_all_does_not_fail():
    out = summary([], seed=3)
    assert out["nights"] == 0 and out["daemon_rss_mib"]["last"] is None
