"""One task on one engine as the instrument measures it (`task_spec`), into the results store.

Each process is a fresh worker with the thread settings fixed before import, a
cold run and warm runs, the peak RSS of the whole process tree, timeouts, a
memory budget and statuses. Answers are checked by the suite's own validator;
rows are stored with suite = 'wars' and query = the task's name. The image
pipeline's session serves the images over HTTP on 127.0.0.1 for its processes.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
from pathlib import Path

from bench_pipeline.engines import engine_class
from bench_pipeline.harness.instrument import CellSpec, Session
from bench_pipeline.harness.runner import DEFAULT_REPEATS, DEFAULT_TIMEOUT_S
from bench_pipeline.results.versions import engine_signature, harness_code_hash
from bench_pipeline.suites.wars.data import WarsData
from bench_pipeline.suites.wars.engines import IMAGES_URL_ENV
from bench_pipeline.suites.wars.server import ImageServer
from bench_pipeline.suites.wars.tasks import TASKS, get_task, validate_task

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


def task_spec(task: str, engine: str, data: WarsData, threads: int, repeats: int = DEFAULT_REPEATS,
              timeout_s: float = DEFAULT_TIMEOUT_S, budget_bytes: int | None = None,
              query_budget_s: float = 30.0) -> CellSpec:
    """The cell of one task on one engine: the engine's class for the task, the suite's validator, the size the
    task reads as `dataset_rows`, and for the image pipeline a session that serves the images."""
    params = data.params()
    size = (params["images"] if task == "images" else
            params["sales_rows"] if task == "csv_groupby" else params["events_rows"])
    return CellSpec(wars_engine_path(task, engine), threads, data, (task,), repeats=repeats, timeout_s=timeout_s,
                    budget_bytes=budget_bytes, suite=SUITE, validator=validate_task, query_budget_s=query_budget_s,
                    name=engine, dataset_rows=size,
                    session=functools.partial(image_server, data) if task == "images" else None)


@contextlib.contextmanager
def image_server(data: WarsData):
    """The images over HTTP on 127.0.0.1 for the processes of an image cell."""
    with ImageServer(data.images) as server:
        yield Session(env={IMAGES_URL_ENV: server.url, "NO_PROXY": "127.0.0.1,localhost",
                           "no_proxy": "127.0.0.1,localhost"})
