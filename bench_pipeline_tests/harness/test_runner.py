"""The measuring instrument with real engines in real worker processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from bench_pipeline.harness import interrupt
from bench_pipeline.harness.instrument import CellSpec, run_cell
from bench_pipeline.harness.runner import QuerySpec, run_query
from bench_pipeline.results.store import ResultsStore

FAKE = "bench_pipeline_tests.fake_engines"
MiB = 2**20


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["duckdb", "polars", "pandas", "datafusion", "daft"])
@pytest.mark.parametrize("threads", [1, 3])
def test_thread_setting_is_verified(small_data, engine, threads):
    rows = run_query(QuerySpec(engine, "A", small_data, threads=threads, repeats=1))
    assert [r["status"] for r in rows] == ["ok", "ok"]
    assert [r["threads_verified"] for r in rows] == [threads, threads]


@pytest.mark.slow
def test_cell_lands_measured_rows_in_the_store(small_data, tmp_path):
    store = ResultsStore(tmp_path / "results.duckdb")
    result = run_cell(CellSpec("duckdb", 3, small_data, repeats=3, dagster_run_id="run-1"), store)
    assert result.statuses() == {"L": "ok", "A": "ok", "B": "ok", "C": "ok"}
    rows = store.query("SELECT * FROM measurements WHERE cell_run_id = ?", [result.cell_run_id])
    assert len(rows) == 16  # 4 queries x (1 cold + 3 warm)
    for r in rows:
        assert r["oversubscribed"] is True  # 3 threads on this 2-core machine
        assert r["seconds"] > 0 and r["peak_rss_bytes"] >= r["baseline_rss_bytes"] > 0
        assert r["engine_version"] and r["cpu_model"] and r["logical_cores"] >= 1
        assert r["dataset_fingerprint"] == small_data.fingerprint() and r["dataset_rows"] == 20_000
        assert r["dagster_run_id"] == "run-1" and r["threads_verified"] == 3
    summary = {s["query"]: s for s in store.summary(result.cell_run_id)}
    a = [r["seconds"] for r in rows if r["query"] == "A" and r["run_kind"] == "warm"]
    assert summary["A"]["warm_runs"] == 3
    assert summary["A"]["median_seconds"] == pytest.approx(sorted(a)[1])
    assert summary["A"]["min_seconds"] == min(a) and summary["A"]["max_seconds"] == max(a)
    assert summary["A"]["cv"] >= 0 and summary["B"]["answer_rows"] > 0


def _statuses(small_data, engine, **kw):
    return run_cell(CellSpec(f"{FAKE}:{engine}", 1, small_data, queries=["L", "A", "C"], repeats=1, **kw))


@pytest.mark.slow
def test_timeout_ends_the_query_and_the_cell_goes_on(small_data):
    result = _statuses(small_data, "SleepyEngine", timeout_s=3)
    assert result.statuses() == {"L": "ok", "A": "timeout", "C": "ok"}
    a = [r for r in result.rows if r["query"] == "A"]
    assert len(a) == 1 and a[0]["seconds"] is None and "3 s" in a[0]["message"]


@pytest.mark.slow
def test_memory_budget_ends_the_query_as_oom(small_data):
    result = _statuses(small_data, "GreedyEngine", budget_bytes=700 * MiB)
    assert result.statuses() == {"L": "ok", "A": "oom", "C": "ok"}
    a = next(r for r in result.rows if r["query"] == "A")
    assert a["seconds"] is None and a["peak_rss_bytes"] > 700 * MiB and "700 MiB" in a["message"]


@pytest.mark.slow
def test_engine_error_is_recorded_with_its_message(small_data):
    result = _statuses(small_data, "BrokenEngine")
    assert result.statuses() == {"L": "ok", "A": "error", "C": "ok"}
    assert "broke on purpose" in next(r for r in result.rows if r["query"] == "A")["message"]


@pytest.mark.slow
def test_wrong_answer_keeps_its_time(small_data):
    result = _statuses(small_data, "WrongEngine")
    assert result.statuses() == {"L": "ok", "A": "wrong_answer", "C": "wrong_answer"}
    a = [r for r in result.rows if r["query"] == "A"]
    assert all(r["seconds"] > 0 and "posts" in r["message"] for r in a)


@pytest.mark.slow
def test_failure_after_the_timed_part_leaves_no_run_ok(small_data):
    rows = run_query(QuerySpec(f"{FAKE}:FailingConversionEngine", "A", small_data, repeats=2))
    assert rows and rows[0]["seconds"] > 0  # the cold run was timed...
    assert {r["status"] for r in rows} == {"error"}  # ...but never validated, so never ok
    assert all("cannot convert this answer" in r["message"] for r in rows)


@pytest.mark.slow
def test_failure_before_start_is_one_error_row(small_data):
    rows = run_query(QuerySpec(f"{FAKE}:CrashingStartEngine", "A", small_data, repeats=2))
    assert len(rows) == 1 and rows[0]["status"] == "error" and "no such engine runtime" in rows[0]["message"]


def test_spark_is_skipped_without_java(small_data, monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.delenv("JAVA_HOME", raising=False)
    rows = run_query(QuerySpec("pyspark", "A", small_data))
    assert [r["status"] for r in rows] == ["skipped"] and "Java not found" in rows[0]["message"]


@pytest.mark.spark
def test_spark_memory_counts_the_jvm(small_data):
    rows = run_query(QuerySpec("pyspark", "A", small_data, threads=2, repeats=1))
    assert [r["status"] for r in rows] == ["ok", "ok"]
    for r in rows:
        assert r["threads_verified"] == 2 and r["startup_seconds"] > 1
        assert r["processes"] >= 2  # the Python driver and its JVM
        assert r["peak_rss_bytes"] > 400 * MiB  # far beyond a Python process alone


@pytest.mark.slow
def test_an_interrupt_as_the_worker_starts_is_the_interrupt(small_data):
    # The signal lands between the worker's start and its registration: it is killed and reaped at once, and
    # the query ends as interrupted (no row), not with the vanished process's error.
    interrupt.request("SIGTERM")
    try:
        with pytest.raises(interrupt.Interrupted):
            run_query(QuerySpec("duckdb", "A", small_data, threads=1, repeats=1))
    finally:
        interrupt.reset()


@pytest.mark.slow
def test_killed_cell_leaves_the_store_intact(small_data, tmp_path):
    """A cell's rows are written whole when it ends: killed in its second query, it leaves nothing."""
    import psutil

    path = tmp_path / "results.duckdb"
    script = (
        "from bench_pipeline.harness.instrument import CellSpec, run_cell\n"
        "from bench_pipeline.data.dataset import open_dataset\n"
        "from bench_pipeline.results.store import ResultsStore\n"
        f"run_cell(CellSpec('{FAKE}:SleepyEngine', 1, open_dataset({str(small_data.root)!r}), "
        f"queries=['L', 'A'], repeats=1), ResultsStore({str(path)!r}))\n"
    )
    def command_lines() -> list[str]:
        lines = []
        for p in psutil.Process(proc.pid).children(recursive=True):
            try:
                lines.append(" ".join(p.cmdline()))
            except psutil.Error:  # L's worker ending between the listing and the read (seen in CI)
                pass
        return lines

    proc = subprocess.Popen([sys.executable, "-c", script], start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            time.sleep(0.2)
            if any("--query A" in w for w in command_lines()):
                break
        time.sleep(1)  # A is now sleeping inside its worker
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the runner and its worker, as a crash would take them
        proc.wait()
    store = ResultsStore(path)
    store.init()  # opens: the file is whole
    assert store.query("SELECT query, status FROM measurements") == []


@pytest.mark.slow
def test_concurrent_writers_lose_no_rows(tmp_path):
    path = tmp_path / "results.duckdb"
    script = (
        "import datetime, sys\n"
        "from bench_pipeline.results.store import ResultsStore\n"
        f"s = ResultsStore({str(path)!r})\n"
        "for i in range(20):\n"
        "    s.append([dict(cell_run_id=sys.argv[1], engine='x', query='A', threads_asked=1,"
        " oversubscribed=False, run_index=i, run_kind='warm', status='ok', suite='grid',"
        " measured_at=datetime.datetime.now())])\n"
    )
    procs = [subprocess.Popen([sys.executable, "-c", script, f"w{k}"]) for k in range(3)]
    assert [p.wait() for p in procs] == [0, 0, 0]
    assert ResultsStore(path).query("SELECT count(*) AS n FROM measurements")[0]["n"] == 60
    assert os.path.getsize(path) > 0


@pytest.mark.slow
def test_runs_under_background_load_are_flagged_and_measured_again(small_data, monkeypatch):
    """A busy loop on one core during the query: its warm runs are noisy, measured again (bounded), then kept
    with the flag; the headline counts only the runs kept."""
    from bench_pipeline.harness.noise import NOISY_RETRIES

    monkeypatch.setenv("BENCH_NOISY_RETRIES", str(NOISY_RETRIES))
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.5)
        rows = run_query(QuerySpec("duckdb", "B", small_data, threads=1, repeats=3))
    finally:
        busy.kill()
        busy.wait()
    warm = [r for r in rows if r["run_kind"] == "warm"]
    assert all(r["background_cores"] is None or r["background_cores"] > 0.5 for r in warm), warm
    dropped = [r for r in warm if not r["kept"]]
    kept = [r for r in warm if r["kept"]]
    assert len(dropped) == NOISY_RETRIES and all(r["noisy"] for r in dropped)
    assert len(kept) == 3 and any(r["noisy"] for r in kept)  # still noisy: kept, flagged


def test_repetitions_stop_when_precise_or_out_of_budget():
    from bench_pipeline.harness.runner import Repetitions

    fixed = Repetitions(3)
    assert fixed.more([1.0, 1.0], 2.0, 1.0) and not fixed.more([1.0] * 3, 3.0, 1.0)
    adaptive = Repetitions(3, 30, precision=0.05, budget_s=10.0)
    assert adaptive.more([], 0.0, 100.0)  # never fewer than one warm run
    assert not adaptive.more([6.0], 6.0, 6.0)  # a second would not fit in the budget
    assert adaptive.more([1.0, 1.1, 0.9], 3.0, 1.0)  # 10 % spread: not precise yet
    assert not adaptive.more([1.0, 1.001, 0.999], 3.0, 1.0)  # precise: stop at the least number
    assert not adaptive.more([0.5, 0.6, 0.4] * 6, 9.0, 1.5)  # the budget is spent
    assert not Repetitions(3, 5, budget_s=1e9).more([1.0, 2.0] * 3, 9.0, 1.5)  # the most runs
