"""A benchmark night that never hangs, never loses a measurement and never measures twice.

Real `bench-pipeline` processes on small data: kill -9 at several points,
Ctrl-C and SIGTERM, two runs at once, `cell` beside `run`, a lost or corrupt
store, and bad values and state refused before anything is measured.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import psutil
import pytest

from bench_pipeline.results.store import ResultsStore

GRID = ["duckdb|1", "duckdb|2", "polars|1", "polars|2"]
ROWS_PER_CELL = 4 * (1 + 3)  # L, A, B, C; a cold run and 3 warm runs each
RUN = ["run", "--rows", "5000", "--engines", "duckdb,polars", "--threads", "1,2",
       "--repeats", "3"]


# The tests' own lock; no noisy re-runs; one process per query (see conftest).
KEEP = ("BENCH_LOCK_FILE", "BENCH_NOISY_RETRIES", "BENCH_MAX_PROCESSES", "BENCH_CALIBRATION_DIR")


def _env(home: Path, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BENCH_") or k in KEEP}
    return {**env, "BENCH_HOME": str(home), "DAGSTER_HOME": "", **extra}


def cli(home: Path, *args, timeout: float = 300, **extra) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bench_pipeline.cli", *map(str, args)], env=_env(home, **extra),
                          capture_output=True, text=True, timeout=timeout)


def start(home: Path, *args, **extra) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "bench_pipeline.cli", *map(str, args)], env=_env(home, **extra),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _workers(pid: int) -> list[psutil.Process]:
    try:
        kids = psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []
    out = []
    for p in kids:
        try:
            if "bench_pipeline.harness.worker" in " ".join(p.cmdline()):
                out.append(p)
        except psutil.Error:
            pass
    return out


def _wait_for_worker(proc: subprocess.Popen, nth: int, timeout: float = 180) -> None:
    """Return once the nth worker process (counting from 1) of `proc` has started."""
    seen: set[int] = set()
    deadline = time.monotonic() + timeout
    while len(seen) < nth:
        assert proc.poll() is None, f"the run ended before worker {nth}: {proc.stderr.read()[-2000:]}"
        assert time.monotonic() < deadline, f"worker {nth} never started"
        seen |= {p.pid for p in _workers(proc.pid)}
        time.sleep(0.05)


def _orphans(home: Path) -> list[psutil.Process]:
    """Worker processes still measuring this state folder's data."""
    out = []
    for p in psutil.process_iter(["cmdline"]):
        cmd = " ".join(p.info["cmdline"] or [])
        if "bench_pipeline.harness.worker" in cmd and str(home) in cmd:
            out.append(p)
    return out


def _cells_in_store(home: Path) -> dict[str, int]:
    return {r["cell_run_id"]: r["n"] for r in ResultsStore(home / "results.duckdb").query(
        "SELECT cell_run_id, count(*) AS n FROM measurements GROUP BY ALL")}


def _pairs_in_store(home: Path) -> set[tuple]:
    if not (home / "results.duckdb").exists():
        return set()
    return {(r["engine"], r["threads_asked"]) for r in ResultsStore(home / "results.duckdb").query(
        "SELECT DISTINCT engine, threads_asked FROM measurements")}


def _materialized_cells(home: Path) -> list[str]:
    """cell_run_id of every successful benchmark_cells materialization that measured (not a re-use)."""
    instance = dg.DagsterInstance.from_config(str(home / "dagster"))
    records = instance.fetch_materializations(dg.AssetKey("benchmark_cells"), limit=1000).records
    out = []
    for r in records:
        md = r.asset_materialization.metadata
        if "measured_by_run" not in md:
            out.append(md["cell_run_id"].value)
    return out


def _json(proc: subprocess.CompletedProcess) -> dict:
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout)


@pytest.mark.slow
def test_kill_9_at_several_points_loses_and_duplicates_nothing(tmp_path):
    """kill -9 of `run` during its cells (and once after them): each next run finishes without help."""
    home, tmp = tmp_path / "home", tmp_path / "tmp"
    tmp.mkdir()
    kill_points = [1, 3, 6, 10]  # the nth worker (query) of that run has started
    for nth in kill_points:
        proc = start(home, *RUN, TMPDIR=str(tmp))
        _wait_for_worker(proc, nth)
        time.sleep(0.3)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        time.sleep(1)
        assert not _orphans(home), "a worker outlived its killed runner"
    # Killed once more after every cell has landed, while plots and report are built.
    proc = start(home, *RUN, TMPDIR=str(tmp))
    deadline = time.monotonic() + 240
    while len(_pairs_in_store(home)) < len(GRID) or _workers(proc.pid):
        assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read()[-3000:]
        time.sleep(0.1)
    time.sleep(1.5)  # past the last cell's materialization: metrics, plots and report are being built
    proc.send_signal(signal.SIGKILL)
    proc.wait()

    final = _json(cli(home, *RUN, "--json", TMPDIR=str(tmp)))  # finishes without help (the dead runs are reaped)
    assert not final["cells_failed"] and final["report"]
    assert not list(tmp.glob("bench-query-*")), "a killed runner's scratch folder outlived the next run"
    again = _json(cli(home, *RUN, "--json"))
    assert again["cells_run"] == [] and sorted(again["cells_fresh"]) == sorted(GRID)

    stored = _cells_in_store(home)
    assert set(stored.values()) == {ROWS_PER_CELL}, f"a partial cell reached the store: {stored}"
    measured = _materialized_cells(home)
    assert sorted(measured) == sorted(stored), "each stored cell is one measurement, each measurement stored"
    assert len(measured) == len(set(measured))
    instance = dg.DagsterInstance.from_config(str(home / "dagster"))
    stuck = instance.get_run_records(dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED]))
    assert not stuck, "a dead run was left STARTED"
    assert not instance.event_log_storage.get_concurrency_info("bench_cells").claimed_slots
    print(f"kill points tried: {len(kill_points) + 1}; cells measured: {len(measured)} for {len(GRID)} cells")


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_interrupt_stops_with_130_and_the_next_run_measures_only_the_cells_not_whole(tmp_path, sig):
    """An interrupt in the rounds keeps (stores and records) the cells whose every query was measured; the next
    run measures exactly the others."""
    home = tmp_path / "home"
    grid = ["run", "--rows", "5000", "--engines", "duckdb", "--threads", "1,2", "--repeats", "3"]
    proc = start(home, *grid)
    _wait_for_worker(proc, 6)  # the sixth process of eight: round 1 is the 2-thread cell's four, then the 1-thread
    time.sleep(0.3)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err[-3000:]
    last = err.strip().splitlines()[-1]
    assert last.startswith(f"bench-pipeline: interrupted ({sig.name}) after round 1 of the measurements"), err[-3000:]
    assert "Traceback" not in err and "dagster" not in err.lower()
    assert not _orphans(home)
    stored = _cells_in_store(home) if (home / "results.duckdb").exists() else {}
    assert set(stored.values()) <= {ROWS_PER_CELL}, f"a partial cell reached the store: {stored}"
    kept = {f"{e}|{t}" for e, t in _pairs_in_store(home)}
    assert sorted(_materialized_cells(home)) == sorted(stored)  # stored and recorded, or neither
    nxt = _json(cli(home, *grid, "--json"))
    assert sorted(nxt["cells_run"]) == sorted({"duckdb|1", "duckdb|2"} - kept) and set(nxt["cells_fresh"]) == kept


def _two_runs(home: Path, args: list[str]) -> list[dict]:
    procs = [start(home, *args, "--json") for _ in range(2)]
    outs = [p.communicate(timeout=400) for p in procs]
    for p, (out, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, (out[-3000:], err[-3000:])
    return [json.loads(out) for out, _ in outs]


@pytest.mark.slow
def test_two_runs_at_once_measure_each_cell_once(tmp_path):
    home = tmp_path / "home"
    first = _two_runs(home, RUN)  # a fresh state folder: both create it at once
    assert sorted(first[0]["cells_run"] + first[1]["cells_run"]) == sorted(GRID)
    stored = _cells_in_store(home)
    assert len(stored) == len(GRID) and set(stored.values()) == {ROWS_PER_CELL}

    more = [*RUN[:-1], "4"]  # one more warm run asked: every cell is stale (existing folder)
    second = _two_runs(home, more)
    assert sorted(second[0]["cells_run"] + second[1]["cells_run"]) == sorted(GRID)
    assert len(_cells_in_store(home)) == 2 * len(GRID)


@pytest.mark.slow
def test_cell_waits_for_a_running_run(tmp_path, small_data):
    home = tmp_path / "home"
    run = start(home, *RUN)
    _wait_for_worker(run, 2)
    cell = cli(home, "cell", "--engine", "duckdb", "--data", small_data.root, "--queries", "A",
               "--store", tmp_path / "other.duckdb")
    assert cell.returncode == 0, cell.stderr[-2000:]
    assert "waiting for the measurement lock" in cell.stderr and f"(pid {run.pid}," in cell.stderr, cell.stderr
    assert run.wait(timeout=300) == 0
    # Never at the same time: the cell's query ended outside every cell of the run (first to last query).
    theirs = ResultsStore(home / "results.duckdb").query(
        "SELECT cell_run_id, min(measured_at) AS t0, max(measured_at) AS t1 FROM measurements GROUP BY ALL")
    ours = ResultsStore(tmp_path / "other.duckdb").query("SELECT max(measured_at) AS t FROM measurements")[0]["t"]
    assert len(theirs) == len(GRID) and ours is not None
    assert not any(c["t0"] < ours < c["t1"] for c in theirs), (ours, theirs)


@pytest.mark.slow
def test_a_truncated_or_deleted_store_is_measured_again(tmp_path):
    home = tmp_path / "home"
    assert sorted(_json(cli(home, *RUN, "--json"))["cells_run"]) == sorted(GRID)
    store = home / "results.duckdb"
    os.truncate(store, 1000)
    proc = cli(home, *RUN, "--json")
    again = _json(proc)
    assert sorted(again["cells_run"]) == sorted(GRID) and again["report"]
    aside = list(home.glob("results.duckdb.unreadable-*"))
    assert len(aside) == 1 and aside[0].stat().st_size == 1000, "the old store is kept, not deleted"
    notes = [line for line in proc.stderr.splitlines() if "moved aside" in line]
    assert len(notes) == 1 and str(aside[0]) in notes[0]

    store.unlink()
    gone = _json(cli(home, *RUN, "--json"))
    assert sorted(gone["cells_run"]) == sorted(GRID) and gone["report"]
    assert len(_cells_in_store(home)) == len(GRID)


def _one_line(proc: subprocess.CompletedProcess, *words) -> None:
    assert proc.returncode == 2, proc.stderr[-2000:]
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("bench-pipeline: error:"), proc.stderr[-2000:]
    for w in words:
        assert w in lines[0], lines[0]


@pytest.mark.slow
@pytest.mark.parametrize("args,words", [
    (["--timeout", "inf"], ["--timeout", "finite"]),
    (["--timeout", "nan"], ["--timeout", "finite"]),
    (["--rows", "10000000000000"], ["--rows", "10,000,000,000,000", "free"]),
])
def test_bad_values_are_refused_before_anything_is_written(tmp_path, args, words):
    home = tmp_path / "home"
    _one_line(cli(home, "run", *args), *words)
    assert not home.exists()


@pytest.mark.slow
def test_bad_settings_and_state_are_one_line_and_left_as_they_are(tmp_path, small_data):
    home = tmp_path / "home"
    home.mkdir()
    saved = home / "settings.json"
    for text, words in (("{not json", ["settings.json", "not valid JSON"]),
                        ('{"threads": 5}', ["settings.json", "'threads'"]),
                        ('{"colour": "red"}', ["settings.json", "'colour'"])):
        saved.write_text(text)
        _one_line(cli(home, "run", "--rows", "5000"), *words)
        assert saved.read_text() == text, "a bad settings file is never overwritten"
        assert not (home / "results.duckdb").exists()
    saved.unlink()
    _one_line(cli(home, "run", BENCH_TIMEOUT_S="inf"), "timeout", "finite")

    a_file = tmp_path / "state-file"
    a_file.write_text("not a folder")
    _one_line(cli(a_file, "run", "--rows", "5000"), "BENCH_HOME", "is a file")

    text_store = tmp_path / "notes.txt"
    text_store.write_text("my notes\n")
    _one_line(cli(home, "cell", "--engine", "duckdb", "--data", small_data.root, "--store", text_store),
              "--store", "not a DuckDB")
    assert text_store.read_text() == "my notes\n"


@pytest.mark.slow
def test_a_posts_file_with_no_rows_is_refused(tmp_path, small_data):
    import pyarrow.parquet as pq

    empty = tmp_path / "empty"
    empty.mkdir()
    pq.write_table(pq.read_table(small_data.posts).slice(0, 0), empty / "posts.parquet")
    pq.write_table(pq.read_table(small_data.users), empty / "users.parquet")
    _one_line(cli(tmp_path / "home", "query", "--engine", "duckdb", "--query", "A", "--data", empty),
              "--data", "no rows")


@pytest.fixture
def small_mount(tmp_path):
    """A 2 MiB tmpfs (needs root and mount rights; skipped where there are none)."""
    where = tmp_path / "mnt"
    where.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(where)],
                      capture_output=True).returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], capture_output=True)


@pytest.mark.slow
def test_a_full_or_read_only_state_folder_is_refused(small_mount, small_data):
    """Checked before the first query (`cell` needs no dataset built, so the state folder is what fails)."""
    cell = ("cell", "--engine", "duckdb", "--data", small_data.root, "--queries", "A")
    _one_line(cli(small_mount / "home", *cell), "BENCH_HOME", "free")
    _one_line(cli(small_mount / "home", "run", "--rows", "5000"), "--rows", "free")
    subprocess.run(["mount", "-o", "remount,ro", str(small_mount)], check=True)
    _one_line(cli(small_mount / "home", *cell), "BENCH_HOME", "not writable")


@pytest.mark.slow
def test_scratch_folders_of_dead_workers_are_removed(tmp_path):
    from bench_pipeline.harness import scratch

    script = ("import os, sys, time\n"
              "from bench_pipeline.harness.scratch import scratch_folder\n"
              "with scratch_folder() as d:\n"
              "    print(d, flush=True)\n"
              "    time.sleep(60)\n")
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    dead = subprocess.Popen([sys.executable, "-c", script], env=env, stdout=subprocess.PIPE, text=True)
    alive = subprocess.Popen([sys.executable, "-c", script], env=env, stdout=subprocess.PIPE, text=True)
    dead_dir, alive_dir = Path(dead.stdout.readline().strip()), Path(alive.stdout.readline().strip())
    dead.kill()
    dead.wait()
    unlocked = tmp_path / f"{scratch.PREFIX}maker-died-before-its-lock"
    unlocked.mkdir()
    try:  # a dead owner's folder goes at once (the soak counts leftovers seconds after a kill -9)
        assert scratch.remove_dead(tmp_path) == [dead_dir]
        assert not dead_dir.exists() and alive_dir.exists() and unlocked.exists()
        old = time.time() - 3600
        os.utime(unlocked, (old, old))
        assert scratch.remove_dead(tmp_path) == [unlocked]
        assert alive_dir.exists()
    finally:
        alive.kill()
        alive.wait()


@pytest.mark.spark
def test_a_spark_failure_keeps_its_java_cause(started_engines, tmp_path):
    from bench_pipeline.harness.worker import error_message

    bad = tmp_path / "bad.parquet"
    bad.write_bytes(b"PAR1" + b"x" * 5000 + b"PAR1")
    spark = started_engines("pyspark").spark
    with pytest.raises(Exception) as info:
        spark.read.parquet(str(bad)).count()
    message = error_message(info.value)
    assert "Caused by: " in message and "\tat " not in message and len(message) < 2000, message
    assert message.startswith("org.apache.spark.SparkException"), message


@pytest.mark.slow
def test_rounds_give_open_comparisons_more_processes_and_a_rerun_measures_nothing(tmp_path):
    """Several processes per query through the real command: each process numbered, each cell one recorded
    Dagster run with its rows stored once; the same command again measures nothing."""
    home = tmp_path / "home"
    grid = [*RUN, "--max-processes", "3", "--time-budget", "10m", "--json"]
    first = _json(cli(home, *grid))
    assert sorted(first["cells_run"]) == sorted(GRID) and first["cells_left"] == []
    # A measurement may sit a round out (its comparison decided) and be asked again when the pooled noise moves.
    # Round 1: the cells the recommendation compares (2 threads); the 1-thread cells after it (the scaling).
    assert first["rounds"]["first_round"] == 8 and first["rounds"]["later"] >= 8
    assert first["rounds"]["stopped"] in ("decided", "most processes")
    per = ResultsStore(home / "results.duckdb").query(
        "SELECT engine, threads_asked, query, count(DISTINCT process_index) AS processes, count(*) AS n, "
        "count(DISTINCT cell_run_id) AS cells FROM measurements GROUP BY ALL")
    assert len(per) == 16 and all(r["cells"] == 1 and 1 <= r["processes"] <= 3 for r in per)
    assert all(r["n"] == 4 * r["processes"] for r in per)  # a cold and 3 warm runs per process, none lost
    assert sorted(_materialized_cells(home)) == sorted(_cells_in_store(home))
    for q in ("L", "A", "B", "C"):
        compared = first["verdict"][q]["compared"]
        assert len(compared) == 1 and next(iter(compared.values()))["answer"] in (
            "slower", "equivalent", "undecided", "faster")
    again = _json(cli(home, *grid))
    assert again["cells_run"] == [] and again["rounds"] is None


@pytest.mark.slow
def test_a_full_disk_is_one_line_naming_it_and_the_store_keeps_every_whole_cell(small_mount):
    from bench_pipeline.results.store import StoreError
    from bench_pipeline_tests.results.test_store import _row

    store = ResultsStore(small_mount / "results.duckdb")
    cells = 0
    with pytest.raises(StoreError) as err:
        for cells in range(1, 1000):  # rows that do not compress, until the 2 MiB disk is full
            store.append([_row(cell_run_id=f"c{cells}", run_index=i, message=os.urandom(500).hex())
                          for i in range(50)])
    line = str(err.value)
    assert "\n" not in line and str(store.path) in line and f"mounted at {small_mount}" in line, line
    assert cells > 1  # some cells landed before the disk filled
    counts = store.query("SELECT cell_run_id, count(*) AS n FROM measurements GROUP BY ALL")
    assert {r["cell_run_id"] for r in counts} == {f"c{i}" for i in range(1, cells)}  # none half-written
    assert {r["n"] for r in counts} == {50}


@pytest.mark.slow
def test_the_nightly_schedule_on_a_full_disk_launches_nothing_and_says_why_in_one_line(small_mount, capsys):
    from bench_pipeline.config.settings import Settings
    from bench_pipeline.defs.automation import stale_run_requests

    home = small_mount / "home"
    home.mkdir()
    with dg.instance_for_test() as instance:
        out = stale_run_requests(instance, Settings(home=home), "2026-12-07T01:00")
    assert isinstance(out, dg.SkipReason)
    said = capsys.readouterr().err.strip().splitlines()
    assert said == [out.skip_message] and f"mounted at {small_mount}" in said[0] and str(home) in said[0]
