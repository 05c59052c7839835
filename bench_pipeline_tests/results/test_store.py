"""The results store's one way to a row, and the migration of stores written before `suite` was always set."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from bench_pipeline.results.store import ResultsStore, measurement_row


def _row(**over) -> dict:
    return {"cell_run_id": "c1", "engine": "duckdb", "query": "A", "threads_asked": 1, "oversubscribed": False,
            "run_index": 0, "run_kind": "cold", "status": "ok", "suite": "grid",
            "measured_at": dt.datetime(2026, 1, 1), **over}


@pytest.mark.parametrize(("over", "words"), [
    ({"sekonds": 1.0}, "not columns of measurements: sekonds"),
    ({"engine": None}, "without engine"),
    ({"suite": None}, "without suite"),
    ({"suite": "grd"}, "unknown suite 'grd'"),
])
def test_a_row_outside_the_schema_is_refused_and_nothing_is_written(tmp_path, over, words):
    store = ResultsStore(tmp_path / "results.duckdb")
    with pytest.raises(ValueError, match=words):
        store.append([_row(), _row(run_index=1, **over)])
    assert store.query("SELECT count(*) AS n FROM measurements") == [{"n": 0}]


def test_a_row_is_in_the_schemas_column_order():
    from bench_pipeline.results.store import COLUMN_NAMES

    row = measurement_row(_row(seconds=0.5))
    assert len(row) == len(COLUMN_NAMES) and row[COLUMN_NAMES.index("seconds")] == 0.5


def test_an_old_store_gets_its_suite_column_filled_in_place(tmp_path):
    """Before, the grid and the cluster left `suite` NULL (told apart by master_url): opening for writing fills it."""
    path = tmp_path / "results.duckdb"
    ResultsStore(path).init()
    con = duckdb.connect(str(path))
    for run_id, master, suite in [("grid1", None, None), ("clu1", "spark://127.0.0.1:7077", None),
                                  ("sw1", None, "sweep")]:
        con.execute("INSERT INTO measurements (cell_run_id, engine, query, threads_asked, oversubscribed, run_index,"
                    " run_kind, status, measured_at, master_url, suite) VALUES (?, 'pyspark', 'A', 1, false, 0,"
                    " 'cold', 'ok', now(), ?, ?)", [run_id, master, suite])
    con.close()
    store = ResultsStore(path)
    store.init()
    got = {r["cell_run_id"]: r["suite"] for r in store.query("SELECT cell_run_id, suite FROM query_summary")}
    assert got == {"grid1": "grid", "clu1": "cluster", "sw1": "sweep"}
    store.init()  # again: nothing left to change
    assert store.query("SELECT count(*) AS n FROM measurements WHERE suite IS NULL") == [{"n": 0}]
