"""The limits suite's parts: budgets enforced and handed to the engines, Polars' modes, the computed text."""

from __future__ import annotations

import pytest

from bench_pipeline.harness.runner import QuerySpec, run_query
from bench_pipeline.suites.limits.metrics import (
    MODE_QUERIES,
    MODES,
    Reach,
    capability_disagreements,
    capability_table,
    decision,
    mode_findings,
    plan_evidence,
    reach,
)

MiB = 2**20


def _status(rows):
    return next((r["status"] for r in rows if r["status"] != "ok"), "ok")


# -- budgets ------------------------------------------------------------------------------------------

@pytest.mark.slow
def test_a_budget_below_the_engine_ends_in_oom_and_nothing_is_counted(small_data):
    # Python + Polars alone take more than 64 MiB: the tree is killed the moment it passes the budget.
    rows = run_query(QuerySpec("polars", "L", small_data, threads=1, repeats=1, budget_bytes=64 * MiB))
    assert _status(rows) == "oom"
    assert all(r["status"] == "oom" for r in rows)
    assert "64 MiB" in rows[0]["message"]


@pytest.mark.slow
def test_duckdb_gets_its_own_limit_and_spill_folder_from_the_budget(small_data):
    rows = run_query(QuerySpec("duckdb", "B", small_data, threads=1, repeats=1, budget_bytes=1000 * MiB))
    assert _status(rows) == "ok"
    limits = rows[0]["engine_limits"]
    assert "memory_limit=" in limits and "temp_directory=" in limits
    # 60 % of the budget, as DuckDB reports it back.
    assert "600.0 MiB" in limits or "600 MiB" in limits
    assert max(r["peak_rss_bytes"] for r in rows) < 1000 * MiB


@pytest.mark.slow
def test_spill_folders_live_and_die_with_the_query(small_data):
    """Spill files go under the query's own temporary folder, removed even when the worker was killed."""
    import os

    rows = run_query(QuerySpec("duckdb", "A", small_data, threads=1, repeats=0, budget_bytes=1000 * MiB))
    temp = rows[0]["engine_limits"].split("temp_directory=")[1]
    assert "bench-query-" in temp and "scratch" in temp
    assert not os.path.exists(temp)


@pytest.mark.slow
def test_no_budget_means_no_engine_limits(small_data):
    rows = run_query(QuerySpec("duckdb", "A", small_data, threads=1, repeats=0))
    assert _status(rows) == "ok" and rows[0]["engine_limits"] is None


def test_spark_heap_follows_the_budget():
    """What the JVM does with it shows in the sweep (`bench-pipeline limits`); here, the rule."""
    from bench_pipeline.engines.spark_engine import budget_heap

    assert budget_heap(1400 * MiB) == "632m"  # the budget less 768 MiB outside the heap
    assert budget_heap(1024 * MiB) == "512m"  # never below the smallest heap Spark accepts
    assert budget_heap(4096 * MiB) == "3328m"


# -- Polars' execution modes ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def mode_rows(small_data):
    """Each mode on each mode query, through the runner (validated answers, plans)."""
    return {(mode, q): run_query(QuerySpec(engine, q, small_data, threads=2, repeats=0))
            for mode, engine in MODES.items() for q in MODE_QUERIES}


def test_every_mode_answers_every_mode_query(mode_rows):
    assert {k: _status(v) for k, v in mode_rows.items()} == {k: "ok" for k in mode_rows}
    answer_rows = {k: v[0]["answer_rows"] for k, v in mode_rows.items()}
    for q in MODE_QUERIES:
        assert len({answer_rows[(m, q)] for m in MODES}) == 1  # the same answer size in every mode


def test_lazy_and_streaming_plans_show_pushdown_and_eager_has_none(mode_rows):
    for mode in ("lazy", "streaming"):
        plan = mode_rows[(mode, "F")][0]["plan"]
        assert "SELECTION" in plan and "PROJECT 7/12 COLUMNS" in plan
        assert plan_evidence(plan)[0]
    assert mode_rows[("eager", "F")][0]["plan"] is None
    assert plan_evidence(None) == (False, "no plan: every operation runs as it is called")


@pytest.mark.slow
def test_eager_reads_every_column_so_it_holds_more_memory(tmp_path):
    """Eager F reads all 12 columns (about 70 MiB here), lazy F only 7, filtered as it reads: eager grows more."""
    from bench_pipeline.data.datagen import generate

    data = generate(400_000, tmp_path / "modes", seed=3)
    eager = run_query(QuerySpec("polars-eager", "F", data, threads=1, repeats=1))
    lazy = run_query(QuerySpec("polars", "F", data, threads=1, repeats=1))
    assert _status(eager) == _status(lazy) == "ok"
    growth = [min(r["peak_rss_bytes"] - r["baseline_rss_bytes"] for r in rows) for rows in (eager, lazy)]
    assert growth[0] > growth[1]


def test_mode_findings_follow_the_rows():
    rows = [{"mode": m, "query": "F", "status": "ok", "median_seconds": t, "peak_rss_bytes": p * MiB}
            for m, t, p in (("eager", 0.5, 900), ("lazy", 0.1, 300), ("streaming", 0.05, 200))]
    text = mode_findings(rows)
    assert text == ["Query F: eager 0.500 s, peak 900 MiB; lazy 0.100 s, peak 300 MiB; "
                    "streaming 0.050 s, peak 200 MiB."]
    rows[0]["status"] = "oom"
    assert "eager oom" in mode_findings(rows)[0]


# -- the decision boundary and the capability table are computed from the numbers ----------------------

def _sweep(statuses: dict[tuple[str, str, int], str], seconds: float = 1.0) -> list[dict]:
    return [{"engine": e, "query": q, "dataset_rows": n, "status": st,
             "median_seconds": seconds if st == "ok" else None, "budget_bytes": 1024 * MiB,
             "peak_rss_bytes": 500 * MiB}
            for (e, q, n), st in statuses.items()]


SIZES = {1000: 200 * MiB, 8000: 1600 * MiB}


def _grid(single_ok_at_large: bool, spark_ok_at_large: bool) -> list[dict]:
    statuses = {}
    for e in ("pandas", "polars", "duckdb", "pyspark"):
        for q in ("L", "A", "B", "C"):
            statuses[(e, q, 1000)] = "ok"
            large_ok = spark_ok_at_large if e == "pyspark" else (single_ok_at_large and e == "duckdb")
            statuses[(e, q, 8000)] = "ok" if large_ok else "oom"
    return _sweep(statuses)


def test_decision_names_the_boundary_when_only_spark_completes():
    text = decision(_grid(single_ok_at_large=False, spark_ok_at_large=True), SIZES, 1024 * MiB, 2)
    boundary = [t for t in text if t.startswith("Boundary")]
    assert boundary and "8,000 rows" in boundary[0] and "1.6x the memory" in boundary[0]
    assert "polars: L completed up to 1,000 rows and ran out of the budget (oom) at 8,000" in " ".join(text)


def test_decision_changes_when_the_numbers_change():
    spark_wins = decision(_grid(single_ok_at_large=False, spark_ok_at_large=True), SIZES, 1024 * MiB, 2)
    duckdb_holds = decision(_grid(single_ok_at_large=True, spark_ok_at_large=True), SIZES, 1024 * MiB, 2)
    nobody = decision(_grid(single_ok_at_large=False, spark_ok_at_large=False), SIZES, 1024 * MiB, 2)
    assert spark_wins != duckdb_holds != nobody
    assert not any(t.startswith("Boundary") for t in duckdb_holds)
    assert any("No boundary reached" in t and "duckdb" in t for t in duckdb_holds)
    assert any("No engine, single-node or Spark, completed" in t for t in nobody)
    without_spark = [r for r in _grid(False, True) if r["engine"] != "pyspark"]
    assert any(t.startswith("Spark was not in this sweep") for t in decision(without_spark, SIZES, 1024 * MiB, 2))
    # A bigger budget for the same sizes moves the ratio in the text.
    assert any("0.8x the memory" in t for t in decision(_grid(False, True), SIZES, 2048 * MiB, 2))


def test_decision_text_survives_partial_skipped_and_one_sided_sweeps():
    grid = _grid(single_ok_at_large=False, spark_ok_at_large=True)
    # An interrupted Spark cell: B and C never measured.
    partial = [r for r in grid if not (r["engine"] == "pyspark" and r["query"] in ("B", "C"))]
    assert any("B not measured" in t for t in decision(partial, SIZES, 1024 * MiB, 2))
    # Spark skipped (no Java) is absent, not a failure: no boundary toward it.
    skipped = [{**r, "status": "skipped"} if r["engine"] == "pyspark" else r for r in grid]
    text = decision(skipped, SIZES, 1024 * MiB, 2)
    assert any(t.startswith("Spark was not in this sweep") for t in text)
    assert not any("pyspark from" in t for t in text)
    # Only pandas and Spark: no single-node engine to draw a boundary against.
    one_sided = [r for r in grid if r["engine"] in ("pandas", "pyspark")]
    text = decision(one_sided, SIZES, 1024 * MiB, 2)
    assert not any(t.startswith("Boundary") for t in text)
    assert any(t.startswith("No single-node engine (Polars, DuckDB) was in this sweep") for t in text)


def test_reach_finds_the_first_failure():
    sweep = _sweep({("polars", "L", 1000): "ok", ("polars", "L", 4000): "ok", ("polars", "L", 8000): "oom"})
    assert reach(sweep, "polars", "L") == Reach("polars", "L", 4000, 8000, "oom", 1.0)
    # A success after a failure does not extend the reach.
    sweep = _sweep({("polars", "L", 1000): "ok", ("polars", "L", 4000): "timeout", ("polars", "L", 8000): "ok"})
    assert reach(sweep, "polars", "L") == Reach("polars", "L", 1000, 4000, "timeout", 1.0)


def test_capability_table_reports_disagreements_from_measurements():
    speedup = [{"engine": "duckdb", "query": "A", "threads": 2, "speedup": 1.8},
               {"engine": "pandas", "query": "A", "threads": 2, "speedup": 1.0}]
    sweep = _grid(single_ok_at_large=True, spark_ok_at_large=True)
    plans = {"pandas": None, "duckdb": "READ_PARQUET\nFilters: device='Mobile'", "polars": "SELECTION: x"}
    table = capability_table(speedup, sweep, plans, {"pyspark": 3}, SIZES, 1024 * MiB, 2, None)
    cell = {(e.engine, e.capability): e for e in table}
    assert cell[("duckdb", "parallel")].measured is True and cell[("duckdb", "parallel")].disagrees
    assert cell[("pandas", "parallel")].measured is False and not cell[("pandas", "parallel")].disagrees
    assert cell[("pyspark", "distributed")].measured is True
    assert cell[("duckdb", "out_of_core")].measured is True and "kept the whole table (L)" in \
        cell[("duckdb", "out_of_core")].evidence
    assert cell[("polars", "out_of_core")].measured is False and cell[("polars", "out_of_core")].disagrees
    # Completing A (a few columns) on data larger than the budget is not out-of-core evidence; only L is.
    only_a = [r for r in sweep if not (r["engine"] == "pandas" and r["query"] == "A" and r["dataset_rows"] == 8000)]
    only_a.append({"engine": "pandas", "query": "A", "dataset_rows": 8000, "status": "ok", "median_seconds": 1.0,
                   "budget_bytes": 1024 * MiB, "peak_rss_bytes": 500 * MiB})
    pandas_ooc = {e.capability: e for e in capability_table(speedup, only_a, plans, {}, SIZES, 1024 * MiB, 2, None)
                  if e.engine == "pandas"}["out_of_core"]
    assert pandas_ooc.measured is False
    assert cell[("pandas", "optimizer")].measured is False
    assert plan_evidence("PushedFilters: []\nReadSchema: struct<" + ",".join(f"c{i}:int" for i in range(12)) + ">") \
        == (False, "plan shows no pushdown")
    text = capability_disagreements(table)
    assert any(t.startswith("duckdb / parallel") for t in text)
    # Slower DuckDB at 2 threads: the disagreement goes away.
    speedup[0]["speedup"] = 1.0
    table = capability_table(speedup, sweep, plans, {}, SIZES, 1024 * MiB, 2, None)
    assert not any(t.startswith("duckdb / parallel") for t in capability_disagreements(table))
