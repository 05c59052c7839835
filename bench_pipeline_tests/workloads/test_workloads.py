"""A user's workload (workload.toml, their files, their SQL) on every engine, through the same instrument."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pytest

from bench_pipeline.engines import ENGINE_NAMES
from bench_pipeline.harness.runner import QuerySpec, run_query
from bench_pipeline.harness.validate import AnswerMismatch
from bench_pipeline.workloads.reference import reference_answer, validate_answer
from bench_pipeline.workloads.spec import WorkloadError, has_top_level_order, load_workload

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "workloads" / "shop"


def _run(engine: str, query: str, workload, repeats: int = 0) -> list[dict]:
    return run_query(QuerySpec(engine, query, workload, threads=1, repeats=repeats,
                               validator=validate_answer))


def test_the_example_reads_a_parquet_file_a_csv_file_and_a_hive_folder():
    w = load_workload(EXAMPLE)
    assert {t.name: (t.kind, t.hive) for t in w.tables.values()} == {
        "orders": ("parquet", False), "customers": ("csv", False), "events": ("parquet", True)}
    assert len(w.tables["events"].files) == 3
    assert has_top_level_order(w.query("revenue_by_country").sql)
    assert not has_top_level_order(w.query("events_per_region").sql)
    assert reference_answer(w, "events_per_region").column_names == ["region", "kind", "month", "events"]


@pytest.mark.slow
@pytest.mark.parametrize("engine", list(ENGINE_NAMES))
def test_every_engine_answers_the_example_or_says_it_cannot(engine):
    """Each query: a validated answer, `unsupported` with the engine's message, or `skipped` (extra not
    installed); never a time for a failure. The API measured is recorded with every run."""
    w = load_workload(EXAMPLE)
    for query in w.queries:
        rows = _run(engine, query, w)
        status = rows[0]["status"]
        assert status in ("ok", "unsupported", "skipped"), (engine, query, rows[0].get("message"))
        if status != "ok":
            assert rows[0]["message"] and all(r["seconds"] is None for r in rows if r["status"] != "ok")
            continue
        api = json.loads(rows[0]["checks"])["api"]
        has_frames = engine in ("pandas",) or (engine == "polars" and query == "events_per_region")
        assert api == ("dataframe" if has_frames else "sql"), (engine, query, api)


@pytest.mark.slow
def test_a_query_an_engine_rejects_is_unsupported_with_its_message(tmp_path):
    shutil.copy(EXAMPLE / "data" / "orders.parquet", tmp_path)
    # histogram() is DuckDB's and not a Polars SQL function (arg_max, used here
    # before, became Polars SQL in 2.2).
    (tmp_path / "workload.toml").write_text(
        'name = "hist"\n[tables]\norders = "orders.parquet"\n[queries.spread]\n'
        'sql = "SELECT customer_id, histogram(order_id) AS ids FROM orders GROUP BY customer_id"\n')
    rows = _run("polars", "spread", load_workload(tmp_path), repeats=1)
    assert [r["status"] for r in rows] == ["unsupported"]
    assert "histogram" in rows[0]["message"] and rows[0]["seconds"] is None


def test_order_is_compared_only_where_the_sql_orders():
    w = load_workload(EXAMPLE)
    unordered = reference_answer(w, "events_per_region")
    assert validate_answer("events_per_region", unordered.take(list(reversed(range(unordered.num_rows)))), w)
    ordered = reference_answer(w, "revenue_by_country")
    with pytest.raises(AnswerMismatch):
        validate_answer("revenue_by_country", ordered.take(list(reversed(range(ordered.num_rows)))), w)
    narrower = ordered.set_column(1, "orders", ordered["orders"].cast(pa.int32()))  # widths are conformed
    assert validate_answer("revenue_by_country", narrower, w).num_rows == ordered.num_rows


def _bad(tmp_path: Path, toml: str | None, files: dict[str, str] | None = None) -> Path:
    root = tmp_path / "w"
    shutil.copytree(EXAMPLE / "data", root / "data")
    for name, text in (files or {}).items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    if toml is not None:
        (root / "workload.toml").write_text(toml)
    return root


_OK_TABLES = '[tables]\norders = "data/orders.parquet"\n'
BAD = {
    "no workload.toml": (None, {}, "no such file"),
    "not TOML": ("name = \n", {}, "is not valid TOML"),
    "a bad name": ('name = "my shop"\n' + _OK_TABLES + '[queries.q]\nsql = "SELECT 1"\n', {}, "name 'my shop'"),
    "a missing table file": ('name = "s"\n[tables]\norders = "data/nope.parquet"\n[queries.q]\nsql = "SELECT 1"\n', {},
                             "'data/nope.parquet' does not exist"),
    "a missing SQL file": ('name = "s"\n' + _OK_TABLES + '[queries.q]\nsql = "queries/q.sql"\n', {},
                           "cannot read 'queries/q.sql'"),
    "SQL the reference cannot run": ('name = "s"\n' + _OK_TABLES + '[queries.q]\nsql = "SELECT nope FROM orders"\n',
                                     {}, "the reference (DuckDB) cannot run it"),
    "an unreadable table": ('name = "s"\n[tables]\norders = "data/broken.parquet"\n[queries.q]\n'
                            'sql = "SELECT count(*) AS n FROM orders"\n', {"data/broken.parquet": "not parquet"},
                            "the reference (DuckDB) cannot run it"),
}


@pytest.mark.slow
@pytest.mark.parametrize("case", list(BAD))
def test_a_bad_workload_is_one_line_exit_2_and_nothing_written(tmp_path, case):
    toml, files, words = BAD[case]
    root = _bad(tmp_path, toml, files)
    out = tmp_path / "answer.parquet"
    r = subprocess.run([sys.executable, "-m", "bench_pipeline.cli", "query", "--workload", str(root), "--engine",
                        "duckdb", "--query", "q", "--out", str(out)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and words in lines[0] and "argument --workload" in lines[0], r.stderr
    assert not out.exists()


def test_load_errors_name_the_file(tmp_path):
    with pytest.raises(WorkloadError, match=r"workload\.toml: no \[queries\]"):
        load_workload(_bad(tmp_path, 'name = "s"\n' + _OK_TABLES))


def _run_workload(home: Path, folder: Path, *extra: str) -> dict:
    env = {**os.environ, "BENCH_HOME": str(home), "BENCH_MAX_REPEATS": "3", "DAGSTER_HOME": ""}
    r = subprocess.run([sys.executable, "-m", "bench_pipeline.cli", "run", "--workload", str(folder), "--engines",
                        "duckdb,polars", "--threads", "1", "--json", *extra], capture_output=True, text=True,
                       env=env, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    return json.loads(r.stdout)


@pytest.mark.slow
def test_run_workload_measures_once_and_an_edited_query_makes_its_cells_stale(tmp_path):
    """Through Dagster: engine x threads cells holding every query; the second run measures nothing; editing
    one query's SQL makes that workload's cells stale (a cell holds every query, so all of them rerun)."""
    from bench_pipeline.results.store import ResultsStore

    folder, home = tmp_path / "shop", tmp_path / "home"
    shutil.copytree(EXAMPLE, folder)
    first = _run_workload(home, folder)
    cells = ["shop|duckdb|1", "shop|polars|1"]
    assert sorted(first["cells_run"]) == cells and not first["cells_failed"]
    assert first["workload"] == "shop" and first["verdict"]["revenue_by_country"]["fastest"] in ("duckdb", "polars")
    assert _run_workload(home, folder)["cells_run"] == []
    sql = folder / "queries" / "revenue_by_country.sql"
    sql.write_text(sql.read_text().replace("ORDER BY c.country", "ORDER BY c.country DESC"))
    third = _run_workload(home, folder)
    assert sorted(third["cells_run"]) == cells
    assert all("queries" in third["stale_reasons"][k] for k in cells), third["stale_reasons"]
    rows = ResultsStore(home / "results.duckdb").query(
        "SELECT DISTINCT suite, workload, engine FROM measurements ORDER BY engine")
    assert rows == [{"suite": "workload", "workload": "shop", "engine": e} for e in ("duckdb", "polars")]
    report = (home / "report.html").read_text()
    assert "Workload shop" in report and "revenue_by_country" in report


@pytest.mark.slow
def test_the_nightly_schedule_asks_for_the_stale_cells_of_every_registered_workload(tmp_path, monkeypatch):
    import datetime as dt

    import dagster as dg

    from bench_pipeline.config.settings import Settings
    from bench_pipeline.defs.automation import nightly_stale_workload_cells
    from bench_pipeline.defs.orchestrate import prepare_instance

    folder, home = tmp_path / "shop", tmp_path / "home"
    shutil.copytree(EXAMPLE, folder)
    _run_workload(home, folder)
    monkeypatch.setenv("BENCH_HOME", str(home))
    monkeypatch.setenv("DAGSTER_HOME", "")
    instance = prepare_instance(Settings.from_env())
    when = dt.datetime(2026, 11, 22, 2)
    with dg.build_schedule_context(instance=instance, scheduled_execution_time=when) as context:
        assert isinstance(nightly_stale_workload_cells(context), dg.SkipReason)  # all fresh
    sql = folder / "queries" / "events_per_region.sql"
    sql.write_text(sql.read_text() + "\nHAVING COUNT(*) > 0")
    with dg.build_schedule_context(instance=instance, scheduled_execution_time=when) as context:
        requests = nightly_stale_workload_cells(context)
    assert sorted(r.partition_key for r in requests) == ["shop|duckdb|1", "shop|polars|1"]


@pytest.mark.slow
def test_the_built_in_benchmark_is_a_workload_run_by_each_engines_own_code(tmp_path):
    """`run --workload social`: the generated posts and users, the built-in workload's SQL and dataframes.py (the
    code the grid runs): DataFrame engines run their own code, DuckDB its SQL (and its L loading into memory),
    every answer valid against DuckDB's answer to the catalogue SQL; the second run measures nothing."""
    import duckdb

    out = _run_workload(tmp_path, Path("social"), "--rows", "20000", "--engines", "duckdb,polars,pandas")
    assert sorted(out["cells_run"]) == [f"social_20000|{e}|1" for e in ("duckdb", "pandas", "polars")]
    statuses = {(row["engine"], row["query"]): row["status"] for row in out["results"]}
    assert sorted({q for _, q in statuses}) == ["A", "B", "C", "F", "L"]
    assert set(statuses.values()) == {"ok"}, statuses
    with duckdb.connect(str(tmp_path / "results.duckdb"), read_only=True) as con:
        apis = dict(con.sql("SELECT engine, string_agg(DISTINCT json_extract_string(checks, '$.api'), ',') "
                            "FROM measurements WHERE suite = 'workload' GROUP BY engine").fetchall())
        rows = con.sql("SELECT DISTINCT answer_rows FROM measurements WHERE query = 'L'").fetchall()
    assert apis == {"duckdb": "sql", "polars": "dataframe", "pandas": "dataframe"}
    assert rows == [(1,)]
    folder = tmp_path / "workloads" / "social_20000"
    assert load_workload(folder).tables["posts"].files == (tmp_path / "data" / "posts-20000-seed-42" / "posts.parquet",)
    assert _run_workload(tmp_path, Path("social"), "--rows", "20000", "--engines", "duckdb,polars,pandas")[
        "cells_run"] == []


def _tpch(home: Path) -> dict:
    env = {**os.environ, "BENCH_HOME": str(home), "BENCH_MAX_REPEATS": "3", "DAGSTER_HOME": ""}
    r = subprocess.run([sys.executable, "-m", "bench_pipeline.cli", "tpch", "--scale-factor", "0.01", "--engines",
                        "duckdb,polars,pandas", "--threads", "1", "--json"], capture_output=True, text=True, env=env,
                       timeout=900)
    assert r.returncode == 0, r.stderr[-2000:]
    return json.loads(r.stdout)


@pytest.mark.slow
def test_tpch_at_a_tiny_scale_every_query_valid_through_sql_and_both_dataframe_apis(tmp_path):
    """`bench-pipeline tpch`: tpchgen-cli's data, the 22 queries through run --workload: DuckDB's SQL, and the
    DataFrame implementations of Polars and pandas, every answer valid; the second run measures nothing."""
    import duckdb
    import pyarrow.parquet as pq

    out = _tpch(tmp_path)
    assert sorted(out["cells_run"]) == [f"tpch_sf0_01|{e}|1" for e in ("duckdb", "pandas", "polars")]
    statuses = {(row["engine"], row["query"]): row["status"] for row in out["results"]}
    assert len(statuses) == 66
    assert set(statuses.values()) == {"ok"}, {k: v for k, v in statuses.items() if v != "ok"}
    with duckdb.connect(str(tmp_path / "results.duckdb"), read_only=True) as con:
        apis = dict(con.sql("SELECT engine, string_agg(DISTINCT json_extract_string(checks, '$.api'), ',') "
                            "FROM measurements GROUP BY engine").fetchall())
    assert apis == {"duckdb": "sql", "polars": "dataframe", "pandas": "dataframe"}
    data = tmp_path / "tpch" / "sf0.01" / "data"
    assert not any(pa.types.is_string_view(f.type) for f in pq.read_schema(data / "lineitem.parquet"))  # Daft reads it
    assert _tpch(tmp_path)["cells_run"] == []


def test_a_decimal_answer_is_exact_to_its_own_last_place_only(tmp_path):
    """DataFusion answers AVG over DECIMAL(15,2) as DECIMAL(19,6), cut at the 6th place: one unit there is
    allowed beside the relative tolerance, two are not."""
    import decimal

    (tmp_path / "t.csv").write_text("a\n1\n")
    (tmp_path / "workload.toml").write_text('name = "d"\n[tables]\nt = "t.csv"\n[queries.q]\n'
                                            'sql = "SELECT CAST(1 AS DOUBLE) / 30000 AS x FROM t"\n')
    w = load_workload(tmp_path)

    def answer(text):
        return pa.table({"x": pa.array([decimal.Decimal(text)], pa.decimal128(19, 6))})

    assert validate_answer("q", answer("0.000033"), w).num_rows == 1  # 1/30000 = 0.0000333...
    with pytest.raises(AnswerMismatch):
        validate_answer("q", answer("0.000035"), w)


def test_the_built_in_benchmark_is_a_shipped_workload_read_as_any_is(small_data, tmp_path):
    """One folder: its workload.toml gives each query's title, description and schema; bound to a dataset its
    tables are that dataset's files; written out for `run --workload social` it loads as a user's would."""
    from bench_pipeline.workloads import social
    from bench_pipeline.workloads.social.catalogue import ALL_QUERY_NAMES, QUERIES

    w = social.bound(small_data.root)
    assert list(w.queries) == list(ALL_QUERY_NAMES) and w.queries == QUERIES
    assert [w.queries[q].title for q in ("L", "A", "F")] == ["load", "aggregation", "selective filter"]
    assert QUERIES["A"].schema.field("avg_likes").type == pa.float64()
    assert {t.name: t.files for t in w.tables.values()} == {"posts": (small_data.posts,), "users": (small_data.users,)}
    written = load_workload(social.write(tmp_path, small_data))
    assert written.name == f"social_{small_data.posts_rows()}" and written.queries == QUERIES
    assert written.tables["posts"].files == (small_data.posts,)


def _with_schema(tmp_path, schema: str):
    if not (tmp_path / "shop").exists():
        shutil.copytree(EXAMPLE, tmp_path / "shop")
    manifest = tmp_path / "shop" / "workload.toml"
    text = (EXAMPLE / "workload.toml").read_text()
    query = "[queries.revenue_by_country]\n"
    manifest.write_text(text.replace(query, f"{query}schema = {schema}\n"))
    return load_workload(tmp_path / "shop")


def test_a_workload_schema_checks_every_answer_and_names_a_bad_type(tmp_path):
    w = _with_schema(tmp_path, '{ country = "string", orders = "int64", revenue = "double", items = "int64" }')
    assert w.query("revenue_by_country").schema.names == ["country", "orders", "revenue", "items"]
    answer = reference_answer(w, "revenue_by_country")
    assert validate_answer("revenue_by_country", answer, w).schema == w.query("revenue_by_country").schema
    as_text = answer.set_column(2, "revenue", answer["revenue"].cast(pa.string()))
    with pytest.raises(AnswerMismatch, match="'revenue' is string"):
        validate_answer("revenue_by_country", as_text, w)
    # a schema the reference itself does not have is the workload's mistake, not the engine's
    w = _with_schema(tmp_path, '{ country = "string", orders = "int64", revenue = "int64", items = "int64" }')
    with pytest.raises(WorkloadError, match="does not have the schema workload.toml gives"):
        validate_answer("revenue_by_country", answer, w)
    with pytest.raises(WorkloadError, match="column 'country': unknown type 'text'") as e:
        _with_schema(tmp_path, '{ country = "text" }')
    assert "\n" not in str(e.value)
