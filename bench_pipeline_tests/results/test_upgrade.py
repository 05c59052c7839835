"""A store written by the previous release (main before the soak, `fixtures/earlier/`) opens, keeps every row and
its history, and takes new rows, in place."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

from bench_pipeline.analysis.history import history_rows
from bench_pipeline.results.store import COLUMN_NAMES, ResultsStore

EARLIER = Path(__file__).resolve().parents[1] / "fixtures" / "earlier" / "results.duckdb"


def test_the_previous_releases_store_opens_keeps_its_rows_and_takes_new_ones(tmp_path):
    path = tmp_path / "results.duckdb"
    shutil.copy(EARLIER, path)
    store = ResultsStore(path)
    assert store.recover() is None  # opened as it is: not moved aside
    before = store.query("SELECT * FROM measurements ORDER BY cell_run_id, query, run_index")
    history = history_rows(store)
    series = {(r["engine"], r["query"], r["threads"]) for r in history}
    assert before and len(series) >= 4 and {r["suite"] for r in before} == {"grid"}
    cells = store.cell_run_ids()
    new = {**{k: before[0][k] for k in COLUMN_NAMES if k in before[0]}, "cell_run_id": "after-the-upgrade",
           "measured_at": dt.datetime.now(dt.UTC).replace(tzinfo=None), "run_index": 0}
    assert store.append([new]) == 1
    after = store.query("SELECT * FROM measurements WHERE cell_run_id != 'after-the-upgrade' "
                        "ORDER BY cell_run_id, query, run_index")
    assert after == before  # every earlier row, value for value
    assert store.cell_run_ids() == cells | {"after-the-upgrade"}
    assert len(history_rows(store)) == len(history) + 1
