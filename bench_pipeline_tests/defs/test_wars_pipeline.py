"""The Engine Wars suite through Dagster from a fresh state, stale-only reruns, and life without the extra."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import dagster as dg
import pytest

from bench_pipeline import suites
from bench_pipeline.config.settings import Settings
from bench_pipeline.defs.orchestrate import prepare_instance, run_suite, stale
from bench_pipeline.suites import SuiteConfig
from bench_pipeline.suites.wars.settings import WarsSettings
from bench_pipeline.suites.wars.tasks import TASKS

CELLS = sorted(f"{w}:{e}" for w, wl in TASKS.items() for e in wl.engines)
WARS = WarsSettings(events_rows=5_000, sales_rows=5_000, images=4, threads=2)


def run_wars(settings: Settings, wars: WarsSettings):
    return run_suite("wars", SuiteConfig(settings, wars))


def wars_staleness(instance, wars: WarsSettings, repeats: int) -> dict:
    run = SuiteConfig(Settings.from_env(repeats=repeats), wars)
    return {g.asset: stale(instance, g, run) for g in suites.get("wars").cells(run)}


@pytest.fixture(scope="module")
def wars_home(tmp_path_factory):
    root = tmp_path_factory.mktemp("wars_home")
    env = {"BENCH_HOME": str(root), "BENCH_REPEATS": "1", "DAGSTER_HOME": ""}
    with pytest.MonkeyPatch.context() as mp:
        for k, v in env.items():
            mp.setenv(k, v)
        yield root, run_wars(Settings.from_env(), WARS)


@pytest.mark.spark
def test_fresh_state_builds_every_workload_cell(wars_home):
    root, first = wars_home
    assert sorted(first.cells_run) == CELLS and not first.cells_failed, first.stale_reasons
    assert sorted(p.name for p in (root / "plots").glob("wars_*.png")) == [f"wars_{w}.png" for w in sorted(TASKS)]
    report = (root / "report.html").read_text()
    assert "The Engine Wars tasks" in report and "datafusion_polars" in report and "daft" in report
    instance = prepare_instance(Settings.from_env())
    check = instance.event_log_storage.get_latest_asset_check_execution_by_key(
        [dg.AssetCheckKey(dg.AssetKey("wars_summary"), "handoff_zero_copy")])
    evaluation = next(iter(check.values())).event.dagster_event.event_specific_data
    assert evaluation.passed


@pytest.mark.spark
def test_second_run_measures_nothing_and_threads_make_cells_stale(wars_home):
    again = run_wars(Settings.from_env(), WARS)
    assert again.cells_run == [] and sorted(again.cells_fresh) == CELLS
    instance = prepare_instance(Settings.from_env())
    stale = wars_staleness(instance, WARS.model_copy(update={"threads": 1}), 1)
    assert all(reason == "measured with other settings: threads_asked 2 -> 1"
               for w in stale.values() for reason in w.values())


# Importing daft or datafusion fails in this interpreter, as on a machine without the extra.
BLOCK = """
import sys
class _NoExtra:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("daft", "datafusion"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
sys.meta_path.insert(0, _NoExtra())
"""


def _without_extra(code: str, *args):
    return subprocess.run([sys.executable, "-c", BLOCK + code, *map(str, args)], capture_output=True, text=True,
                          timeout=300)


@pytest.mark.slow
def test_without_the_extra_engines_say_they_are_missing(small_data, tmp_path):
    code = """
import json
from bench_pipeline.data.dataset import open_dataset
from bench_pipeline.engines import optional_note
from bench_pipeline.engines import default_engines, missing_optional
from bench_pipeline.harness.runner import QuerySpec, run_query
from bench_pipeline.config.settings import Settings
from bench_pipeline.suites.wars.cells import missing_engines
data = open_dataset(sys.argv[1])
runs = {e: run_query(QuerySpec(e, "A", data)) for e in ("daft", "datafusion", "duckdb")}
print(json.dumps({"default": list(default_engines()), "settings": list(Settings().engines),
                  "missing": missing_optional(), "wars": missing_engines(), "note": optional_note(),
                  "runs": {e: [r["status"], r["message"]] for e, rows in runs.items() for r in rows[-1:]}}))
"""
    proc = _without_extra(code, small_data.root)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["default"] == out["settings"] == ["pandas", "polars", "duckdb", "pyspark"]
    hint = "pip install -e '.[engines]'"
    assert out["missing"] == {"datafusion": f"datafusion is not installed: {hint}",
                              "daft": f"daft is not installed: {hint}"}
    assert set(out["wars"]) >= {"datafusion", "daft", "datafusion_polars"}
    assert out["note"] == ("bench-pipeline: note: datafusion, daft not installed, so not measured "
                           "(pip install -e '.[engines]' adds them)")
    assert out["runs"]["daft"] == ["skipped", f"daft is not installed: {hint}"]
    assert out["runs"]["datafusion"][0] == "skipped"
    assert out["runs"]["duckdb"] == ["ok", None]  # the core engines are untouched


@pytest.mark.slow
def test_without_the_extra_asking_for_the_engine_is_one_line(tmp_path):
    code = "from bench_pipeline.cli.commands import main; sys.exit(main(sys.argv[1:]))"
    proc = subprocess.run([sys.executable, "-c", BLOCK + code, "run", "--engines", "duckdb,daft"],
                          capture_output=True, text=True, env={**os.environ, "BENCH_HOME": str(tmp_path / "h")})
    assert proc.returncode == 2
    assert proc.stderr.strip() == ("bench-pipeline: error: argument --engines: daft is not installed: "
                                   "pip install -e '.[engines]'")
    assert not (tmp_path / "h").exists()  # nothing written


@pytest.mark.slow
@pytest.mark.parametrize("args,words", [(["--images", "0"], ["--images", "greater than 0"]),
                                        (["--rows", "many"], ["--rows", "whole number"]),
                                        (["--repeats", "1"], ["--repeats", "3 or more"])])
def test_wars_bad_argument_is_one_line_and_writes_nothing(tmp_path, args, words):
    proc = subprocess.run([sys.executable, "-m", "bench_pipeline.cli", "wars", *args], capture_output=True, text=True,
                          env={**os.environ, "BENCH_HOME": str(tmp_path / "h")})
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("bench-pipeline: error:") and all(w in lines[0] for w in words)
    assert not (tmp_path / "h").exists()
