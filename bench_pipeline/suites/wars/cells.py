"""Measure one task on one engine with the project's harness, into the results store.

Each measurement is `harness.runner.run_query`: a fresh worker process with the
thread settings fixed before import, a cold run and warm runs, the peak RSS of
the whole process tree, timeouts, a memory budget and statuses. Answers are
checked by the suite's own validator; rows are stored with suite = 'wars' and
query = the task's name. The image pipeline gets an HTTP server on
127.0.0.1 for the duration of its measurement.
"""

from __future__ import annotations

import contextlib
import hashlib
import uuid
from collections.abc import Callable
from pathlib import Path

from bench_pipeline.engines import engine_class
from bench_pipeline.harness.runner import (
    DEFAULT_REPEATS,
    DEFAULT_TIMEOUT_S,
    CellResult,
    QuerySpec,
    cell_identity,
    run_query,
    stamped,
)
from bench_pipeline.store import ResultsStore
from bench_pipeline.suites.wars.data import WarsData
from bench_pipeline.suites.wars.engines import IMAGES_URL_ENV
from bench_pipeline.suites.wars.server import ImageServer
from bench_pipeline.suites.wars.tasks import TASKS, get_task, validate_task
from bench_pipeline.versions import engine_signature, harness_code_hash

SUITE = "wars"
_PKG = Path(__file__).resolve().parent
# The engine's own module is in its signature; these are shared by every task measurement.
_SUITE_FILES = [_PKG / "tasks.py", _PKG / "data.py", _PKG / "imagegen.py", _PKG / "server.py",
                _PKG / "cells.py", _PKG / "engines" / "__init__.py"]


def wars_engine_path(task: str, engine: str) -> str:
    w = get_task(task)
    try:
        return w.engines[engine]
    except KeyError:
        raise ValueError(f"task {task!r} has no engine {engine!r}; choose from {', '.join(w.engines)}") \
            from None


def wars_signature(path: str) -> str:
    """Library versions + the code of the suite's engine class and every engine class it extends."""
    return engine_signature(path)


def suite_code_hash() -> str:
    h = hashlib.sha256(harness_code_hash().encode())
    for p in _SUITE_FILES:
        h.update(p.read_bytes())
    return h.hexdigest()[:12]


def unavailable(task: str, engine: str) -> str | None:
    return engine_class(wars_engine_path(task, engine)).unavailable_reason()


def missing_engines() -> dict[str, str]:
    """Engines of the suite that cannot run here -> why (the optional extra not installed, no Java)."""
    out: dict[str, str] = {}
    for name, w in TASKS.items():
        for engine in w.engines:
            if engine not in out and (reason := unavailable(name, engine)):
                out[engine] = reason
    return out


def run_task(task: str, engine: str, data: WarsData, threads: int, store: ResultsStore | None = None,
                 repeats: int = DEFAULT_REPEATS, timeout_s: float = DEFAULT_TIMEOUT_S,
                 budget_bytes: int | None = None, dagster_run_id: str | None = None,
                 on_run: Callable[[dict], None] | None = None, max_repeats: int | None = None,
                 precision: float = 0.05, query_budget_s: float = 30.0) -> CellResult:
    """max_repeats, precision, query_budget_s: Settings.repetition_settings (None: exactly `repeats` warm runs)."""
    path = wars_engine_path(task, engine)
    result = CellResult(uuid.uuid4().hex, engine, threads)
    with contextlib.ExitStack() as stack:
        env = {}
        if task == "images":
            server = stack.enter_context(ImageServer(data.images))
            env = {IMAGES_URL_ENV: server.url, "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"}
        spec = QuerySpec(path, task, data, threads, repeats, timeout_s, budget_bytes, env=env,
                         validator=validate_task, max_repeats=max_repeats, precision=precision,
                         query_budget_s=query_budget_s)

        def named(row: dict) -> None:
            row["engine"] = engine  # the suite's engine name, not its class path
            if on_run:
                on_run(row)

        rows = run_query(spec, on_run=named)
    params = data.params()
    size = (params["images"] if task == "images" else
            params["sales_rows"] if task == "csv_groupby" else params["events_rows"])
    rows = stamped(rows, cell_identity(result.cell_run_id, SUITE, threads, data.fingerprint(), size,
                                       dagster_run_id, engine=engine))
    if store is not None:
        store.append(rows)
    result.rows = rows
    return result
