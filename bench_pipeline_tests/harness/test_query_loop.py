"""The runner's per-query state machine, driven by scripted worker events with a fake sampler: no process starts."""

from __future__ import annotations

import json
import random

import pytest

from bench_pipeline.harness import protocol as p
from bench_pipeline.harness.query_loop import STARTUP_TIMEOUT_S, QueryLoop, Repetitions

MiB = 2**20
BASE = {"engine": "duckdb", "query": "A"}


class FakeSampler:
    """Windows of fixed RSS; `over_budget` set by the test (the real one kills the tree and sets it)."""

    def __init__(self, baseline: int = 100 * MiB, peak: int = 300 * MiB):
        self.baseline, self.peak = baseline, peak
        self.over_budget = False
        self.window_processes = None
        self.windows = 0

    def start_window(self) -> int:
        self.windows += 1
        return self.baseline

    def end_window(self) -> int:
        self.window_processes = 2
        return self.peak


class FakeNoise:
    """The background cores each run's end reports, in turn (then the last again)."""

    def __init__(self, *cores: float | None):
        self.cores, self.marks = list(cores) or [0.0], 0

    def mark(self) -> None:
        self.marks += 1

    def background_cores(self) -> float | None:
        return self.cores.pop(0) if len(self.cores) > 1 else self.cores[0]


def loop(reps: Repetitions | None = None, noise: FakeNoise | None = None, retries: int = 0,
         sampler: FakeSampler | None = None, timeout_s: float = 3.0, budget: int | None = None) -> QueryLoop:
    return QueryLoop(BASE, reps or Repetitions(2), timeout_s, sampler or FakeSampler(), noise or FakeNoise(),
                     budget, retries, load=lambda: 0.5)


READY = {"event": p.READY, "startup_s": 0.2, "threads_verified": 2, "version": "1.4.0", "limits": None}


def worker(loop: QueryLoop, times, end: dict | None = None) -> list[str | None]:
    """Play a well-behaved worker: ready, then one run per time while the loop says `more`, then `end`
    (default: done). Returns the replies in order."""
    replies = [loop.on_event(READY).reply]
    for i, seconds in enumerate(times):
        replies.append(loop.on_event({"event": p.RUN_START, "i": i}).reply)
        replies.append(loop.on_event({"event": p.RUN_END, "i": i, "seconds": seconds}).reply)
        if replies[-1] == p.STOP:
            break
    replies.append(loop.on_event(end or {"event": p.DONE, "plan": "SCAN posts"}).reply)
    return replies


def test_a_clean_query_is_cold_then_exactly_the_warm_runs_asked():
    q = loop(Repetitions(2))
    replies = worker(q, [1.0, 0.5, 0.5, 0.5])
    assert replies == [p.GO, p.GO, p.MORE, p.GO, p.MORE, p.GO, p.STOP, None]
    rows, made = q.result()
    assert made is None and q.finished and q.failure is None
    assert [(r["run_index"], r["run_kind"], r["status"]) for r in rows] == [(0, "cold", "ok"), (1, "warm", "ok"),
                                                                              (2, "warm", "ok")]
    assert rows[0]["plan"] == "SCAN posts" and all(r["engine_version"] == "1.4.0" for r in rows)
    assert all(r["baseline_rss_bytes"] == 100 * MiB and r["peak_rss_bytes"] == 300 * MiB for r in rows)
    assert all(r["threads_verified"] == 2 and r["startup_seconds"] == 0.2 and r["load_avg"] == 0.5 for r in rows)


def test_every_finished_run_is_handed_out_once_for_the_listeners():
    q = loop(Repetitions(1))
    steps = [q.on_event(READY), q.on_event({"event": p.RUN_START, "i": 0}),
             q.on_event({"event": p.RUN_END, "i": 0, "seconds": 1.0})]
    assert [s.row is not None for s in steps] == [False, False, True]
    assert steps[-1].row is q.rows[0]


def test_the_deadline_is_the_start_up_one_until_ready_then_the_run_timeout():
    q = loop(timeout_s=7.0)
    assert q.deadline == STARTUP_TIMEOUT_S
    q.on_event(READY)
    q.on_event({"event": p.RUN_START, "i": 0})
    assert q.deadline == 7.0


def test_a_worker_that_dies_after_ready_is_one_error_row_with_its_stderr():
    q = loop()
    q.on_event(READY)
    q.on_event({"event": p.EOF, "returncode": -9, "stderr": "Killed"})
    assert q.finished
    rows, made = q.result()
    assert rows == [made] and made["status"] == "error" and made["run_kind"] == "cold"
    assert made["message"] == "worker exited with code -9: Killed"


def test_an_error_mid_run_fails_the_run_under_way_and_unvalidates_the_runs_before():
    q = loop(Repetitions(3))
    q.on_event(READY)
    q.on_event({"event": p.RUN_START, "i": 0})
    q.on_event({"event": p.RUN_END, "i": 0, "seconds": 1.0})
    q.on_event({"event": p.RUN_START, "i": 1})
    step = q.on_event({"event": p.ERROR, "stage": "run 1", "message": "boom"})
    assert step.reply is None and step.row is not None and step.row["seconds"] is None
    rows, made = q.result()
    assert made is None and [r["status"] for r in rows] == ["error", "error"]
    assert rows[0]["seconds"] == 1.0 and rows[0]["message"] == "not validated, the query ended with: run 1: boom"
    assert rows[1]["message"] == "run 1: boom" and "plan" not in rows[0]


def test_an_unsupported_query_keeps_its_status():
    q = loop()
    q.on_event(READY)
    q.on_event({"event": p.ERROR, "stage": "run 0", "message": "no such function", "status": "unsupported"})
    rows, _ = q.result()
    assert [r["status"] for r in rows] == ["unsupported"]


@pytest.mark.parametrize("ready, what, limit", [(False, "start-up", STARTUP_TIMEOUT_S), (True, "query run", 3.0)])
def test_a_timeout_kills_the_tree_and_says_which_deadline(ready, what, limit):
    q = loop(timeout_s=3.0)
    if ready:
        q.on_event(READY)
        q.on_event({"event": p.RUN_START, "i": 0})
    step = q.on_event({"event": p.TIMEOUT})
    assert step.reply == p.KILL and q.finished
    rows, _ = q.result()
    assert [r["status"] for r in rows] == ["timeout"]
    assert rows[0]["message"] == f"{what} exceeded {limit:g} s" and rows[0].get("seconds") is None


def test_peak_memory_over_the_budget_is_oom_with_the_budget_named():
    sampler = FakeSampler(peak=900 * MiB)
    q = loop(sampler=sampler, budget=700 * MiB)
    q.on_event(READY)
    q.on_event({"event": p.RUN_START, "i": 0})
    sampler.over_budget = True  # the sampler killed the tree: the worker's stdout closes
    q.on_event({"event": p.EOF, "returncode": -9, "stderr": ""})
    rows, _ = q.result()
    assert [r["status"] for r in rows] == ["oom"] and rows[0]["peak_rss_bytes"] == 900 * MiB
    assert rows[0]["message"] == "process tree exceeded the memory budget of 700 MiB"


def test_noisy_warm_runs_are_measured_again_and_kept_out_of_the_count():
    # Cold quiet, then two noisy warm runs, then quiet: 2 warm runs asked, 2 retries allowed.
    q = loop(Repetitions(2), FakeNoise(0.0, 0.9, 0.9, 0.0, 0.0), retries=2)
    worker(q, [1.0] * 10)
    rows, _ = q.result()
    assert [(r["noisy"], r["kept"]) for r in rows] == [(False, True), (True, False), (True, False), (False, True),
                                                       (False, True)]
    assert sum(r["kept"] and r["run_kind"] == "warm" for r in rows) == 2


def test_a_noisy_run_stays_flagged_and_kept_when_no_retry_is_left():
    q = loop(Repetitions(1), FakeNoise(0.0, 0.9), retries=0)
    worker(q, [1.0] * 5)
    rows, _ = q.result()
    assert [(r["noisy"], r["kept"]) for r in rows] == [(False, True), (True, True)]


def test_a_short_window_is_not_judged_noisy():
    q = loop(Repetitions(1), FakeNoise(None), retries=2)
    worker(q, [0.001] * 5)
    rows, _ = q.result()
    assert [r["background_cores"] for r in rows] == [None, None] and not any(r["noisy"] for r in rows)


def test_adaptive_repetitions_stop_at_the_least_when_the_times_agree():
    q = loop(Repetitions(3, max_warm=20, precision=0.05, budget_s=100))
    worker(q, [1.0] * 30)
    assert len(q.rows) == 4  # cold + 3


def test_adaptive_repetitions_go_on_while_the_interval_is_wide_up_to_the_most():
    rng = random.Random(11)
    q = loop(Repetitions(3, max_warm=8, precision=0.01, budget_s=1000))
    worker(q, [rng.uniform(0.5, 1.5) for _ in range(30)])
    assert len(q.rows) == 9  # cold + the most


def test_adaptive_repetitions_stop_when_the_next_run_would_not_fit_the_budget():
    rng = random.Random(11)
    q = loop(Repetitions(3, max_warm=50, precision=0.001, budget_s=10))
    worker(q, [2.0 + rng.uniform(-0.5, 0.5) for _ in range(30)])
    warm = [r["seconds"] for r in q.rows if r["run_kind"] == "warm"]
    assert 3 <= len(warm) < 50 and sum(warm) <= 10 + max(warm)


def test_checks_attach_to_their_run_and_unknown_events_are_ignored():
    q = loop(Repetitions(1))
    q.on_event(READY)
    q.on_event({"event": p.RUN_START, "i": 0})
    q.on_event({"event": p.RUN_END, "i": 0, "seconds": 1.0})
    assert q.on_event({"event": "progress", "pct": 50}).reply is None
    q.on_event({"event": p.CHECKS, "i": 0, "checks": {"zero_copy": True}})
    q.on_event({"event": p.CHECKS, "i": 5, "checks": {"zero_copy": False}})  # no such run: dropped
    assert json.loads(q.rows[0]["checks"]) == {"zero_copy": True}


def test_the_protocol_lines_round_trip_and_stray_output_is_not_an_event():
    line = p.encode(p.RUN_END, i=3, seconds=0.25)
    assert p.decode(line) == {"event": p.RUN_END, "i": 3, "seconds": 0.25}
    assert p.decode("WARNING: Using incubator modules\n") is None
    assert p.decode("{not json") is None and p.decode('{"no": "event"}') is None
