"""The bench-pipeline command as a user runs it: real processes, real exit codes."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pyarrow.parquet as pq
import pytest

from bench_pipeline.harness.validate import compare
from bench_pipeline.workloads.social import reference as reference_answer
from bench_pipeline.workloads.social.catalogue import get_query


def cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "bench_pipeline.cli", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd)


def _one_line_error(proc, *words):
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("bench-pipeline: error:"), proc.stderr
    for w in words:
        assert w in lines[0]


@pytest.mark.slow
def test_generate_then_query_writes_the_validated_answer(tmp_path):
    gen = cli("generate", "--rows", 3000, "--seed", 1, "--out", tmp_path / "d")
    assert gen.returncode == 0 and "3,000 rows" in gen.stdout
    out = tmp_path / "a.parquet"
    q = cli("query", "--engine", "polars", "--query", "C", "--data", tmp_path / "d", "--threads", 2,
            "--out", out)
    assert q.returncode == 0, q.stderr
    assert "status: ok" in q.stdout and "verified 2" in q.stdout
    from bench_pipeline.data.dataset import open_dataset

    written = pq.read_table(out)
    assert written.schema == get_query("C").schema  # the contract's types, not the engine's
    compare(written, reference_answer("C", open_dataset(tmp_path / "d")))


@pytest.mark.slow
@pytest.mark.parametrize("rows", ["0", "-1", "ten"])
def test_generate_rejects_bad_rows_and_writes_nothing(tmp_path, rows):
    _one_line_error(cli("generate", "--rows", rows, "--out", tmp_path / "d"), "--rows")
    assert not (tmp_path / "d").exists()


@pytest.mark.slow
@pytest.mark.parametrize(
    "args,words",
    [
        (["--engine", "sqlite", "--query", "A"], ["--engine", "sqlite"]),
        (["--engine", "duckdb", "--query", "Z"], ["--query", "'Z'"]),
        (["--engine", "duckdb", "--query", "A", "--threads", "0"], ["--threads"]),
    ],
)
def test_query_rejects_bad_arguments(small_data, tmp_path, args, words):
    out = tmp_path / "answer.parquet"
    _one_line_error(cli("query", *args, "--data", small_data.root, "--out", out), *words)
    assert not out.exists()


@pytest.mark.slow
def test_query_rejects_missing_data_folder(tmp_path):
    out = tmp_path / "answer.parquet"
    _one_line_error(cli("query", "--engine", "duckdb", "--query", "A", "--data", tmp_path / "none",
                        "--out", out), "--data", "does not exist")
    assert not out.exists()


@pytest.mark.slow
def test_query_rejects_corrupt_parquet(small_data, tmp_path):
    shutil.copy(small_data.users, tmp_path / "users.parquet")
    (tmp_path / "posts.parquet").write_bytes(b"\x00" * 100)
    out = tmp_path / "answer.parquet"
    _one_line_error(cli("query", "--engine", "pandas", "--query", "L", "--data", tmp_path, "--out", out),
                    "--data", "posts.parquet", "not a readable Parquet file")
    assert not out.exists()


@pytest.mark.slow
def test_cell_needs_three_warm_runs(small_data, tmp_path):
    _one_line_error(cli("cell", "--engine", "duckdb", "--data", small_data.root, "--repeats", 2,
                        "--store", tmp_path / "r.duckdb"), "--repeats", "3 or more")
    assert not (tmp_path / "r.duckdb").exists()


@pytest.mark.slow
def test_cell_command_fills_the_store(small_data, tmp_path):
    store = tmp_path / "r.duckdb"
    proc = cli("cell", "--engine", "duckdb", "--threads", 2, "--data", small_data.root, "--queries", "A,C",
               "--repeats", 3, "--store", store)
    assert proc.returncode == 0, proc.stderr
    from bench_pipeline.results.store import ResultsStore

    rows = ResultsStore(store).query("SELECT query, status FROM query_summary ORDER BY query")
    assert rows == [{"query": "A", "status": "ok"}, {"query": "C", "status": "ok"}]


@pytest.mark.slow
@pytest.mark.parametrize("args,words", [
    (["limits", "--sizes", "0"], ["--sizes", "greater than 0"]),
    (["limits", "--budget-mib", "-5"], ["--budget-mib"]),
    (["limits", "--engines", "sqlite"], ["--engines", "sqlite"]),
    (["limits", "--engines", "datafusion"], ["--engines", "datafusion"]),
    (["limits", "--repeats", "1"], ["--repeats", "3 or more"]),
    (["cluster", "--engines", "ray"], ["--engines", "ray"]),
    (["cluster", "--engines", "ray-data", "--no-images"], ["--no-images", "ray-data", "image pipeline"]),
    (["cluster", "--executors", "0"], ["--executors"]),
    (["cluster", "--ray-address", "127.0.0.1:1"], ["--ray-address", "nothing listens at 127.0.0.1:1"]),
    (["cluster", "--ray-address", "headnode"], ["--ray-address", "not host:port"]),
    (["run", "--time-budget", "0"], ["--time-budget"]),
    (["run", "--time-budget", "-5m"], ["--time-budget"]),
    (["run", "--time-budget", "inf"], ["--time-budget"]),
    (["run", "--time-budget", "nan"], ["--time-budget"]),
    (["run", "--time-budget", "soon"], ["--time-budget", "'soon'"]),
    (["run", "--max-processes", "21"], ["max_processes"]),
    (["calibrate", "--processes", "2"], ["--processes", "at least 4"]),
])
def test_bad_suite_arguments_are_one_line_and_write_nothing(tmp_path, args, words):
    home = tmp_path / "home"
    proc = subprocess.run([sys.executable, "-m", "bench_pipeline.cli", *args], capture_output=True, text=True,
                          env={**os.environ, "BENCH_HOME": str(home)})
    _one_line_error(proc, *words)
    assert not home.exists()


def test_limits_choices_do_not_replace_the_main_grids(tmp_path):
    from bench_pipeline.config.settings import Settings
    from bench_pipeline.suites.limits.settings import LimitsSettings

    Settings(home=tmp_path, engines=("duckdb",), threads=(1, 2)).save()
    LimitsSettings(home=tmp_path, sweep_rows=(5000,), sweep_budget_mib=300).save()
    saved, limits = Settings.from_env(home=tmp_path), LimitsSettings.from_env(home=tmp_path)
    assert saved.engines == ("duckdb",) and saved.threads == (1, 2)
    assert limits.sweep_rows == (5000,) and limits.sweep_budget_mib == 300


@pytest.mark.parametrize("command", [["run"], ["run", "--workload", "examples/workloads/shop"], ["cluster"],
                                     ["limits"], ["wars"], ["tpch"]])
@pytest.mark.parametrize("budget", ["0", "-5m", "inf", "nan", "soon"])
def test_a_bad_time_budget_is_one_line_on_every_suite_and_writes_nothing(tmp_path, monkeypatch, capsys, command,
                                                                        budget):
    """In process (no command started): the budget is every suite's option, checked before anything is made."""
    from bench_pipeline.cli import commands as cli

    home = tmp_path / "home"
    monkeypatch.setenv("BENCH_HOME", str(home))
    assert cli.main([*command, f"--time-budget={budget}"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "--time-budget" in lines[0] and budget in lines[0], lines
    assert not home.exists()


def test_every_suite_says_its_own_budget_and_how_it_is_spent(capsys):
    from bench_pipeline import suites
    from bench_pipeline.cli import commands as cli

    for suite in suites.all_suites():
        command = ["tpch"] if suite.name == "workload" else suite.command.split()
        with pytest.raises(SystemExit):
            cli.main([*command, "--help"])
        text = " ".join(capsys.readouterr().out.split())
        assert "--time-budget" in text and " ".join(suite.budget.split())[:60] in text, suite.name
    assert suites.get("cluster").default_budget_s > suites.get("grid").default_budget_s
