"""The Dagster layer on a persistent instance: stale-only reruns, nightly requests, pools, CLI entry points."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import subprocess
import sys

import dagster as dg
import pytest

from bench_pipeline.config.settings import Settings
from bench_pipeline.defs.automation import nightly_stale_cells
from bench_pipeline.defs.orchestrate import materialize, prepare_instance, run_suite, stale
from bench_pipeline.engines import default_engines
from bench_pipeline.engines.polars_engine import PolarsEngine
from bench_pipeline.results.store import ResultsStore
from bench_pipeline.suites import SuiteConfig
from bench_pipeline.suites.grid.cells import group
from bench_pipeline.suites.limits.settings import LimitsSettings

GRID = ["duckdb|1", "duckdb|2", "polars|1", "polars|2"]


def run_pipeline(settings: Settings):
    return run_suite("grid", SuiteConfig(settings))


def grid_staleness(instance, keys, settings: Settings) -> dict:
    return stale(instance, dataclasses.replace(group(settings), keys=keys), SuiteConfig(settings))


def run_limits(settings: Settings):
    return run_suite("limits", SuiteConfig(settings, LimitsSettings.from_env()))


def cell_staleness(instance, keys, repeats: int) -> dict:
    return grid_staleness(instance, keys, Settings.from_env(repeats=repeats))


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    """A BENCH_HOME where the pipeline has run once on a small grid."""
    root = tmp_path_factory.mktemp("bench_home")
    env = {"BENCH_HOME": str(root), "BENCH_ROWS": "5000", "BENCH_ENGINES": "duckdb,polars",
           "BENCH_THREADS": "1,2", "BENCH_REPEATS": "1", "BENCH_MAX_REPEATS": "1", "DAGSTER_HOME": ""}
    with pytest.MonkeyPatch.context() as mp:
        for k, v in env.items():
            mp.setenv(k, v)
        yield root, run_pipeline(Settings.from_env())


def _instance():
    return prepare_instance(Settings.from_env())


def test_first_run_measures_every_cell_and_draws(home):
    root, first = home
    assert sorted(first.cells_run) == sorted(GRID) and not first.cells_failed and not first.cells_fresh
    assert len(first.plots) == 13 and all(os.path.getsize(p) > 0 for p in first.plots)
    assert any(os.path.basename(p).startswith("verdict_") for p in first.plots)  # the verdict's forest picture
    report = (root / "report.html").read_text()
    assert "<img" in report and "duckdb" in report and "polars" in report
    assert (root / "dagster" / "dagster.yaml").is_file()
    rows = ResultsStore(root / "results.duckdb").query("SELECT count(DISTINCT cell_run_id) AS n FROM measurements")
    assert rows[0]["n"] == 4


def test_second_run_recomputes_nothing(home):
    root, _ = home
    written = (root / "report.html").stat().st_mtime_ns
    again = run_pipeline(Settings.from_env())
    assert again.cells_run == [] and sorted(again.cells_fresh) == sorted(GRID)
    assert (root / "report.html").stat().st_mtime_ns == written  # the report is current: not written again


def test_a_report_written_by_other_code_is_written_again(home):
    """The report's Dagster code version is every source of the package: a report from older code (an edited
    figure or sentence) is not current, though no cell changed."""
    import dagster as dg

    from bench_pipeline.defs.orchestrate import _outputs_are_current

    root, _ = home
    settings, instance = Settings.from_env(), _instance()
    assert _outputs_are_current(instance, settings)
    instance.report_runless_asset_event(dg.AssetMaterialization("benchmark_report",
                                                                tags={"dagster/code_version": "older code"}))
    assert not _outputs_are_current(instance, settings)
    written = (root / "report.html").stat().st_mtime_ns
    again = run_pipeline(settings)
    assert again.cells_run == [] and (root / "report.html").stat().st_mtime_ns > written
    assert _outputs_are_current(_instance(), settings)


def test_another_memory_budget_makes_the_grid_stale(home):
    """A budget sets the engines' own limits too, so cells measured without one are not its measurement."""
    settings = Settings.from_env()
    assert set(grid_staleness(_instance(), GRID, settings).values()) == {None}
    stale = grid_staleness(_instance(), GRID, settings.model_copy(update={"budget_mib": 2000}))
    assert all(reason and f"budget_bytes None -> {2000 * 2**20}" in reason for reason in stale.values())


def test_new_engine_version_makes_exactly_its_cells_stale(home, monkeypatch):
    instance = _instance()
    assert all(v is None for v in cell_staleness(instance, GRID, 1).values())
    monkeypatch.setattr(PolarsEngine, "version", classmethod(lambda cls: "99.0.0"))
    stale = cell_staleness(instance, GRID, 1)
    assert {k for k, v in stale.items() if v} == {"polars|1", "polars|2"}
    assert "polars 99.0.0" in stale["polars|1"]
    # The nightly schedule asks for exactly those.
    with dg.build_schedule_context(instance=instance, scheduled_execution_time=dt.datetime(2026, 11, 22, 2)) as context:
        requests = nightly_stale_cells(context)
    assert sorted(r.partition_key for r in requests) == ["polars|1", "polars|2"]


def test_failed_cell_is_requested_again(home):
    instance = _instance()
    settings = Settings.from_env(budget_mib=20)  # far below any engine's footprint: every query ends oom
    result = materialize(instance, ["benchmark_cells"], SuiteConfig(settings), partition_key="duckdb|2")
    assert not result.success
    assert cell_staleness(instance, GRID, 1)["duckdb|2"] == "failed"
    with dg.build_schedule_context(instance=instance, scheduled_execution_time=dt.datetime(2026, 11, 22, 2)) as context:
        requests = nightly_stale_cells(context)
    assert [r.partition_key for r in requests] == ["duckdb|2"]
    oom = ResultsStore(Settings.from_env().store_path).query(
        "SELECT DISTINCT status FROM measurements WHERE engine = 'duckdb' AND budget_bytes IS NOT NULL")
    assert oom == [{"status": "oom"}]
    again = run_pipeline(Settings.from_env())
    assert again.cells_run == ["duckdb|2"]


def test_two_materializations_at_once_run_one_cell_at_a_time(home):
    root, _ = home
    script = (
        "import sys\n"
        "from bench_pipeline.config.settings import Settings\n"
        "from bench_pipeline.defs.orchestrate import prepare_instance, materialize\n"
        "from bench_pipeline.suites import SuiteConfig\n"
        "s = Settings.from_env()\n"
        "r = materialize(prepare_instance(s), ['benchmark_cells'], SuiteConfig(s), partition_key=sys.argv[1])\n"
        "print(r.run_id)\n"
    )
    procs = [subprocess.Popen([sys.executable, "-c", script, key], stdout=subprocess.PIPE, text=True)
             for key in ("polars|1", "polars|2")]
    run_ids = [p.communicate()[0].strip().splitlines()[-1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0]
    instance = _instance()
    spans = []
    for run_id in run_ids:
        start = instance.all_logs(run_id, of_type=dg.DagsterEventType.STEP_START)[0].timestamp
        end = instance.all_logs(run_id, of_type=dg.DagsterEventType.STEP_SUCCESS)[0].timestamp
        spans.append((start, end))
    (a0, a1), (b0, b1) = sorted(spans)
    assert a1 <= b0, f"cell steps overlapped: {spans}"
    counts = ResultsStore(root / "results.duckdb").query(
        "SELECT dagster_run_id, count(*) AS n FROM measurements WHERE dagster_run_id IN (?, ?) GROUP BY ALL",
        run_ids)
    assert sorted(c["n"] for c in counts) == [8, 8]  # 4 queries x 2 runs each, none lost


def test_dagster_cli_redraws_plots(home):
    root, _ = home
    for png in (root / "plots").glob("*.png"):
        png.unlink()
    env = {**os.environ, "DAGSTER_HOME": str(root / "dagster")}
    proc = subprocess.run([sys.executable, "-m", "dagster", "asset", "materialize", "-m", "bench_pipeline",
                           "--select", "speedup_plots"], env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert len(list((root / "plots").glob("speedup_*.png"))) == 4


@pytest.mark.slow
def test_plots_fail_clearly_when_there_is_nothing(tmp_path):
    env = {**os.environ, "BENCH_HOME": str(tmp_path), "DAGSTER_HOME": str(tmp_path / "dagster")}
    (tmp_path / "dagster").mkdir()
    proc = subprocess.run([sys.executable, "-m", "dagster", "asset", "materialize", "-m", "bench_pipeline",
                           "--select", "speedup_plots"], env=env, capture_output=True, text=True)
    assert proc.returncode != 0
    assert "no dataset to report on" in proc.stdout + proc.stderr


def test_run_command_json_and_bad_threads(home):
    root, _ = home
    proc = subprocess.run([sys.executable, "-m", "bench_pipeline.cli", "run", "--json"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    summary = json.loads(proc.stdout)
    assert summary["cells_run"] == [] and sorted(summary["cells_fresh"]) == sorted(GRID)
    assert summary["cells_failed"] == [] and summary["report"].endswith("report.html")
    for q in ("L", "A", "B", "C"):  # the verdict: a fastest engine, the other compared with it, one answer
        verdict = summary["verdict"][q]
        others = [*verdict["slower"], *verdict["equivalent"], *verdict["undecided"]]
        assert verdict["fastest"] in ("duckdb", "polars") and others == [{"duckdb": "polars"}.get(
            verdict["fastest"], "duckdb")]
        assert "tied_with" not in verdict
    assert summary["rounds"] is None  # every cell fresh: no rounds
    assert 'id="verdict"' in (root / "report.html").read_text()
    bad = subprocess.run([sys.executable, "-m", "bench_pipeline.cli", "run", "--threads", "2,0"],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and "--threads" in bad.stderr and len(bad.stderr.strip().splitlines()) == 1


def _graphql(port: int, query: str) -> dict:
    import urllib.request

    req = urllib.request.Request(f"http://127.0.0.1:{port}/graphql", data=json.dumps({"query": query}).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read())["data"]


def test_ui_shows_the_graph_grid_and_plots_then_stops_on_sigterm(home):
    import signal
    import socket
    import time
    import urllib.request

    import psutil

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "bench_pipeline.cli", "ui", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=5)
                break
            except OSError:
                assert time.monotonic() < deadline and proc.poll() is None, "the UI did not come up"
                time.sleep(1)
        nodes = _graphql(port, "{ assetNodes { assetKey { path } "
                               "partitionKeysByDimension { name partitionKeys } } }")
        by_key = {n["assetKey"]["path"][0]: n for n in nodes["assetNodes"]}
        assert {"engine_versions", "dataset", "benchmark_cells", "metrics", "speedup_plots",
                "benchmark_report"} <= set(by_key)
        dims = {d["name"]: d["partitionKeys"] for d in by_key["benchmark_cells"]["partitionKeysByDimension"]}
        # The installed engines; the thread counts the runs asked for (any positive integers).
        assert dims["engine"] == list(default_engines()) and set(dims["threads"]) >= {"1", "2"}
        plots = _graphql(port, """{ assetOrError(assetKey: {path: ["speedup_plots"]}) { ... on Asset {
            assetMaterializations(limit: 1) {
              metadataEntries { label ... on MarkdownMetadataEntry { mdStr } } } } } }""")
        entries = plots["assetOrError"]["assetMaterializations"][0]["metadataEntries"]
        assert any(e["label"] == "plots" and "data:image/png;base64," in e.get("mdStr", "") for e in entries)
        children = psutil.Process(proc.pid).children(recursive=True)
        assert children, "dagster dev runs its webserver and daemon as child processes"
    finally:
        stopped = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            raise
    _, alive = psutil.wait_procs(children, timeout=10)
    assert not alive, f"processes left after SIGTERM: {alive}"
    took = time.monotonic() - stopped
    assert took < 15, f"the UI took {took:.0f} s to stop (its code server used to linger for 45-60 s)"


# -- the limits suite on the same instance ---------------------------------------------------------------

@pytest.fixture(scope="module")
def limits_env(home):
    """Sizes and modes on the grid's own 5,000-row data; a budget the small data fits in."""
    env = {"BENCH_SWEEP_ROWS": "5000", "BENCH_MODES_ROWS": "5000", "BENCH_SWEEP_BUDGET_MIB": "1024",
           "BENCH_SWEEP_REPEATS": "1"}
    with pytest.MonkeyPatch.context() as mp:
        for k, v in env.items():
            mp.setenv(k, v)
        yield home[0]


def test_limits_builds_modes_sweep_capabilities_and_decision(limits_env):
    first = run_limits(Settings.from_env())
    sweep = ["duckdb|5000", "polars-streaming|5000", "polars|5000"]
    assert sorted(first.cells_run) == sorted(["eager", "lazy", "streaming", *sweep]) and not first.cells_failed
    assert set(GRID) <= set(first.cells_fresh)  # the 1- and 2-thread cells were already measured
    report = (limits_env / "report.html").read_text()
    for heading in ("Polars: eager, lazy, streaming", "Under a memory budget", "Size sweep",
                    "Capabilities: the lab&#x27;s table", "Decision boundary"):
        assert heading.replace("&#x27;", "'") in report.replace("&#x27;", "'")
    assert {"limits_modes.png", "limits_sweep_time.png", "limits_sweep_memory.png"} <= {
        os.path.basename(p) for p in first.plots}
    plans = ResultsStore(limits_env / "results.duckdb").query(
        "SELECT engine, plan FROM query_summary WHERE suite = 'modes' AND query = 'F'")
    assert {r["engine"]: r["plan"] is not None for r in plans} == {
        "polars-eager": False, "polars": True, "polars-streaming": True}

    again = run_limits(Settings.from_env())
    assert again.cells_run == [] and not again.cells_failed


def test_oom_under_the_budget_is_a_result_not_a_failed_cell(limits_env, monkeypatch):
    monkeypatch.setenv("BENCH_SWEEP_BUDGET_MIB", "64")  # below any engine's interpreter: every query ends in oom
    result = run_limits(Settings.from_env())
    assert sorted(result.cells_run) == sorted(["duckdb|5000", "polars-streaming|5000", "polars|5000"])
    assert all("budget_bytes" in result.stale_reasons[k] for k in result.cells_run)
    assert not result.cells_failed and result.report
    rows = ResultsStore(limits_env / "results.duckdb").query(
        "SELECT DISTINCT status FROM metrics_sweep")
    assert [r["status"] for r in rows] == ["oom"]
    report = (limits_env / "report.html").read_text()
    assert '<td class="bad">oom</td>' in report
    assert "Spark was not in this sweep, so no boundary between them can be drawn." in report
    assert "L ran out of the budget (oom) from the smallest size, 5,000 rows" in report
    assert run_limits(Settings.from_env()).cells_run == []  # an oom under the budget stays measured
