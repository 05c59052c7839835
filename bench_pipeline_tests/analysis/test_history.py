"""History: a slower release flagged by the verdict's rule, an unchanged re-measure not; stores of two machines
merged by `import` (idempotent, bad files refused) and shown side by side; the figures mark version changes."""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import random
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from bench_pipeline.analysis import history, stats
from bench_pipeline.analysis.history.figures import draw_history
from bench_pipeline.analysis.history.machines import side_by_side
from bench_pipeline.harness.instrument import CellSpec, cell_identity
from bench_pipeline.results.store import ResultsStore, StoreError

RELEASED = "duckdb"


def _record(store, data, version: str, when: dt.datetime, delay: float, rng: random.Random) -> str:
    """One cell of the released engine as the runner records it (query A: a cold run and 5 warm runs of one
    process), its times simulated: about 5 ms, jittered by 3 %, `delay` seconds slower."""
    cell = uuid.uuid4().hex
    identity = cell_identity(cell, CellSpec(RELEASED, 1, data))
    rows = [{**identity, "engine": RELEASED, "engine_version": version, "query": "A", "threads_asked": 1,
             "threads_verified": 1, "run_index": i, "run_kind": "cold" if i == 0 else "warm", "status": "ok",
             "seconds": (0.005 + delay) * rng.uniform(0.97, 1.03) * (3 if i == 0 else 1), "kept": True,
             "noisy": False, "measured_at": when} for i in range(6)]
    store.append(rows)
    return cell


@pytest.fixture(scope="module")
def released(small_data, tmp_path_factory):
    """One engine recorded three times on the same data: 1.0, 1.0 again (unchanged), then 2.0 with every query
    0.1 s slower (simulated times with a fixed seed: the rule's behaviour, not the machine's, is under test)."""
    store = ResultsStore(tmp_path_factory.mktemp("history") / "results.duckdb")
    rng, start = random.Random(5), dt.datetime(2026, 11, 20, 2, 0)
    ids = [_record(store, small_data, version, start + dt.timedelta(days=i), delay, rng)
           for i, (version, delay) in enumerate([("1.0", 0.0), ("1.0", 0.0), ("2.0", 0.1)])]
    return store, ids


def test_a_slower_release_is_a_regression_and_an_unchanged_re_measure_is_not(released):
    store, (first, again, slower) = released
    assert history.changes(store, 0.05, {again}) == []
    flagged = history.changes(store, 0.05, {slower})
    assert [(c.kind, c.query, c.before_version, c.after_version) for c in flagged] == [("regression", "A", "1.0",
                                                                                          "2.0")]
    assert flagged[0].ratio.low > 1.05 and flagged[0].after_seconds > flagged[0].before_seconds + 0.05
    assert "regression: A on" in flagged[0].line() and "1.0 -> 2.0" in flagged[0].line()


def test_the_rule_needs_the_whole_interval_past_the_threshold():
    steady = [1.00, 1.01, 0.99, 1.00, 1.02]
    assert history.classify([x * 1.02 for x in steady], steady, 0.05)[0] is None  # 2 %: under the threshold
    assert history.classify([x * 2 for x in steady], steady, 0.05)[0] == "regression"
    assert history.classify([x / 2 for x in steady], steady, 0.05)[0] == "improvement"
    assert history.classify([1.0], steady, 0.05)[0] is None  # one process 1 % off: nothing called


def test_a_change_the_canary_also_showed_says_so():
    at = history.dt.datetime(2026, 11, 25, 2, 0)
    steady = [1.00, 1.01, 0.99, 1.00, 1.02]

    def row(suite, engine, when, times, run):
        return {"suite": suite, "workload": "", "engine": engine, "query": "A", "threads": 1, "status": "ok",
                "process_list": times, "median_seconds": sorted(times)[2], "engine_version": "1", "hostname": "h",
                "logical_cores": 2, "total_memory_bytes": 2**34, "measured_at": when, "cell_run_id": run,
                "series": f"{suite}-{engine}"}

    day = history.dt.timedelta(days=1)
    rows = [row("grid", "duckdb", at - day, steady, "g1"), row("grid", "duckdb", at, [x * 2 for x in steady], "g2"),
            row("canary", "duckdb", at - day, steady, "c1")]
    assert history.find_changes(rows, 0.05)[0].canary is None
    rows.append(row("canary", "duckdb", at - history.dt.timedelta(minutes=10), [x * 1.6 for x in steady], "c2"))
    grid = [c for c in history.find_changes(rows, 0.05) if c.suite == "grid"]
    assert grid[0].canary is not None and "the canary moved too" in grid[0].line()


def test_the_history_figure_shows_both_versions_of_one_engine(released, tmp_path):
    store, _ = released
    rows = history.history_rows(store)
    assert {r["engine_version"] for r in rows} == {"1.0", "2.0"} and len({r["series"] for r in rows}) == 1
    path = draw_history(rows, tmp_path / "h.png", "test")
    assert path is not None and path.stat().st_size > 10_000
    assert history.build_history(store) == 3  # the store's table: one row per measurement


def _other_machine(store: ResultsStore, where: Path) -> Path:
    """A copy of the store as another machine wrote it: its own cell runs, hostname and cores."""
    copy = where / "other.duckdb"
    shutil.copy(store.path, copy)
    with duckdb.connect(str(copy)) as con:
        con.execute("UPDATE measurements SET hostname = 'big-box', logical_cores = 16, "
                    "cell_run_id = cell_run_id || '-big-box', seconds = seconds / 3")
    return copy


def test_import_is_idempotent_keeps_provenance_and_the_machines_show_side_by_side(released, tmp_path):
    store, _ = released
    mine = ResultsStore(tmp_path / "results.duckdb")
    shutil.copy(store.path, mine.path)
    other = _other_machine(store, tmp_path)
    assert mine.import_from(other) == (mine.query("SELECT count(*) AS n FROM measurements")[0]["n"] // 2, 3)
    assert mine.import_from(other) == (0, 0)
    hosts = {r["hostname"] for r in mine.query("SELECT DISTINCT hostname FROM measurements")}
    assert "big-box" in hosts and len(hosts) == 2
    here = (hosts - {"big-box"}).pop()
    rows = side_by_side(history.history_rows(mine), here, {"big-box": 3.6})
    assert [r["machine"].split(" ")[0] for r in rows] == [here, "big-box"]
    assert rows[1]["differs"] == "faster" and rows[1]["ratio"] < 0.5
    assert rows[1]["cost_per_query"] == pytest.approx(rows[1]["median_seconds"] * 3.6 / 3600)
    assert rows[0]["cost_per_query"] is None  # no price for this machine


@pytest.mark.parametrize("make, words", [
    (lambda d: d / "missing.duckdb", "no such file"),
    (lambda d: (d / "text.duckdb").write_text("not a store") and d / "text.duckdb", "not a DuckDB file"),
    (lambda d: duckdb.connect(str(d / "empty.duckdb")).close() or d / "empty.duckdb", "not a results store"),
    (lambda d: (duckdb.connect(str(d / "odd.duckdb")).execute("CREATE TABLE measurements (cell_run_id VARCHAR)")
                .close()) or d / "odd.duckdb", "incompatible results store"),
], ids=["missing", "not duckdb", "no measurements", "incompatible"])
def test_a_bad_file_to_import_is_refused_and_nothing_changes(released, tmp_path, make, words):
    store, _ = released
    mine = ResultsStore(tmp_path / "results.duckdb")
    shutil.copy(store.path, mine.path)
    before = mine.query("SELECT count(*) AS n FROM measurements")[0]["n"]
    with pytest.raises(StoreError, match=words):
        mine.import_from(make(tmp_path))
    assert mine.query("SELECT count(*) AS n FROM measurements")[0]["n"] == before


@pytest.mark.slow
def test_import_command_rewrites_the_report_with_history_and_machines(released, tmp_path):
    """`bench-pipeline import`: one line per outcome, exit 2 on a bad file, and a report whose history section
    flags the slower release and puts the two machines side by side."""
    store, _ = released
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(store.path, home / "results.duckdb")
    other = _other_machine(store, tmp_path)
    env = {**os.environ, "BENCH_HOME": str(home), "DAGSTER_HOME": ""}

    def cli(*args):
        return subprocess.run([sys.executable, "-m", "bench_pipeline.cli", *args], capture_output=True, text=True,
                              env=env, timeout=600)

    bad = cli("import", str(tmp_path / "nope.duckdb"))
    assert bad.returncode == 2 and bad.stderr.strip().count("\n") == 0 and "no such file" in bad.stderr
    first = cli("import", str(other))
    assert first.returncode == 0, first.stderr[-2000:]
    assert "imported" in first.stdout and "big-box (16 cores" in first.stdout
    again = cli("import", str(other))
    assert again.returncode == 0 and "nothing to import" in again.stdout
    report = (home / "report.html").read_text()
    assert "History and machines" in report and "regression: A on" in report and "1.0 -&gt; 2.0" in report
    assert "Machines side by side" in report and "big-box" in report
    assert "data:image/png;base64," in report.split("History and machines", 1)[1]


@pytest.mark.slow
def test_a_slower_implementation_is_flagged_by_run_the_asset_check_and_the_report(tmp_path):
    """Through Dagster, from a fresh state: a workload measured; its DataFrame code edited without changing what
    it does (its cells stale, measured again: not flagged); then made slower (flagged in run's output, as the
    cell's `no_regression` check, a warning, and in the report)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder = tmp_path / "w"
    folder.mkdir()
    n = 400_000
    pq.write_table(pa.table({"k": pa.array([i % 97 for i in range(n)], pa.int64()),
                             "v": pa.array([float(i % 1013) for i in range(n)])}), folder / "t.parquet")
    (folder / "workload.toml").write_text('name = "slowdown"\n[tables]\nt = "t.parquet"\n[queries.q]\n'
                                          'sql = "SELECT k, sum(v) AS s FROM t GROUP BY k"\n')
    code = ('def polars_q(tables):\n    import polars as pl\n{delay}'
            '    return tables["t"].group_by("k").agg(pl.col("v").sum().alias("s"))\n')
    home = tmp_path / "home"
    env = {**os.environ, "BENCH_HOME": str(home), "BENCH_MAX_REPEATS": "6", "DAGSTER_HOME": ""}

    def run(delay: str = "") -> dict:
        (folder / "dataframes.py").write_text(code.format(delay=delay))
        r = subprocess.run([sys.executable, "-m", "bench_pipeline.cli", "run", "--workload", str(folder),
                            "--engines", "polars", "--threads", "1", "--repeats", "5", "--json"],
                           capture_output=True, text=True, env=env, timeout=600)
        assert r.returncode == 0, r.stderr[-2000:]
        return json.loads(r.stdout)

    assert run()["cells_run"] == ["slowdown|polars|1"]
    unchanged = run("    # the same code, edited\n")
    assert unchanged["cells_run"] == ["slowdown|polars|1"] and unchanged["changes"] == []
    slower = run("    import time\n    time.sleep(0.25)\n")
    assert slower["cells_run"] == ["slowdown|polars|1"]
    assert len(slower["changes"]) == 1 and slower["changes"][0].startswith("regression: slowdown q on polars")
    instance = dg.DagsterInstance.from_config(str(home / "dagster"))
    key = dg.AssetCheckKey(dg.AssetKey("workload_cells"), "no_regression")
    records = instance.event_log_storage.get_asset_check_execution_history(key, limit=3)
    evaluations = [r.event.dagster_event.event_specific_data for r in records]
    assert [e.passed for e in evaluations] == [False, True, True]  # newest first
    assert evaluations[0].severity == dg.AssetCheckSeverity.WARN
    report = (home / "report.html").read_text()
    assert "regression: slowdown q on polars" in report


@pytest.mark.slow
def test_the_canary_is_measured_even_when_fresh(tmp_path, monkeypatch):
    """The nightly schedule's canary: materialized twice, measured twice (a canary that stayed fresh would not
    tell a slower machine apart), rows of suite `canary` with valid answers."""
    from bench_pipeline.config.settings import Settings
    from bench_pipeline.defs.history import nightly_canary
    from bench_pipeline.defs.orchestrate import materialize, prepare_instance
    from bench_pipeline.suites import SuiteConfig

    monkeypatch.setenv("BENCH_HOME", str(tmp_path))
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    settings = Settings.from_env(repeats=3)
    instance = prepare_instance(settings)
    for _ in range(2):
        assert materialize(instance, ["canary"], SuiteConfig(settings)).success
    rows = ResultsStore(settings.store_path).query(
        "SELECT count(DISTINCT cell_run_id) AS cells, list(DISTINCT status) AS statuses, list(DISTINCT query) AS q "
        "FROM measurements WHERE suite = 'canary'")[0]
    assert rows["cells"] == 2 and rows["statuses"] == ["ok"] and sorted(rows["q"]) == list(history.CANARY_QUERIES)
    with dg.build_schedule_context(scheduled_execution_time=history.dt.datetime(2026, 11, 25, 1, 50)) as context:
        request = nightly_canary(context)
    assert isinstance(request, dg.RunRequest)  # every night, with nothing stale


def test_a_change_is_judged_against_the_other_engines_drift_that_night():
    """The machine moves between runs: every engine 12 % faster the same night is the machine, not a change; one
    engine 30 % slower while the others drifted is a regression; an engine re-measured alone is judged as
    measured, and its line says the drift was not known."""
    at = history.dt.datetime(2026, 11, 25, 2, 0)
    day = history.dt.timedelta(days=1)
    rng = random.Random(3)

    def row(engine, when, factor, run):
        times = [factor * math.exp(rng.gauss(0, 0.02)) for _ in range(8)]
        return {"suite": "workload", "workload": "w", "engine": engine, "query": "q", "threads": 2, "status": "ok",
                "process_list": times, "median_seconds": sorted(times)[4], "engine_version": "1", "hostname": "h",
                "logical_cores": 2, "total_memory_bytes": 2**34, "measured_at": when, "cell_run_id": run,
                "series": engine}

    engines = ("duckdb", "polars", "pandas", "datafusion")
    before = [row(e, at - day, 1.0, f"{e}-1") for e in engines]
    faster = [row(e, at + history.dt.timedelta(minutes=i), 0.88, f"{e}-2") for i, e in enumerate(engines)]
    assert history.find_changes(before + faster, 0.05, prior=stats.Noise(0.02, 40, "t")) == []
    one = [row(e, at, 0.9 if e != "polars" else 1.3, f"{e}-2") for e in engines]
    flagged = history.find_changes(before + one, 0.05, prior=stats.Noise(0.02, 40, "t"))
    assert [(c.kind, c.engine) for c in flagged] == [("regression", "polars")]
    assert flagged[0].drift == pytest.approx(0.9, rel=0.05) and "drift that night (x0.9" in flagged[0].line()
    alone = history.find_changes(before + [row("polars", at, 0.88, "polars-2")], 0.05,
                                 prior=stats.Noise(0.02, 40, "t"))
    assert [c.kind for c in alone] == ["improvement"] and alone[0].drift is None
    assert "no other engine re-measured" in alone[0].line()
