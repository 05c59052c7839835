"""The suite's results: the latest measurement per task and engine (a table in the store)."""

from __future__ import annotations

import json

from bench_pipeline.results.store import ResultsStore, latest_sql
from bench_pipeline.suites.wars.tasks import TASK_NAMES, TASKS

_SQL = ["""CREATE OR REPLACE TABLE wars_latest AS
""" + latest_sql("query, engine", "suite = 'wars' AND dataset_fingerprint = $fp")]


def build_wars_metrics(store: ResultsStore, fingerprint: str) -> list[dict]:
    store.execute(_SQL, {"fp": fingerprint})
    return read_wars_metrics(store)


def read_wars_metrics(store: ResultsStore) -> list[dict]:
    try:
        rows = store.query("SELECT * FROM wars_latest ORDER BY list_position($w, query), engine",
                           {"w": list(TASK_NAMES)})
    except Exception as exc:  # noqa: BLE001 - the table exists only once the suite has run
        if "wars_latest" in str(exc):
            return []
        raise
    for r in rows:
        order = list(TASKS[r["query"]].engines) if r["query"] in TASKS else []
        r["_order"] = order.index(r["engine"]) if r["engine"] in order else len(order)
        r["zero_copy"] = _zero_copy(r.get("checks"))
    rows.sort(key=lambda r: (list(TASK_NAMES).index(r["query"]) if r["query"] in TASKS else 99, r["_order"]))
    return rows


def _zero_copy(checks: str | None) -> str | None:
    if not checks:
        return None
    c = json.loads(checks)
    if "zero_copy" not in c:
        return None
    shared = ", ".join(f"{k} {'shared' if v else 'copied'}" for k, v in sorted(c.get("shared_columns", {}).items()))
    return f"{'yes' if c['zero_copy'] else 'no'} ({shared}; {c.get('arrow_batches')} batches)"
