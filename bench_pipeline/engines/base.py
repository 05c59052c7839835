"""What an engine must provide to be benchmarked.

The harness drives an engine in a fresh process, in this order:

1. `configure(threads)`: fix the thread count. Called before the engine library
   is imported, because some engines (Polars) read it only at import time.
   The memory budget the runner enforces on the process tree, if any, is in
   `self.memory_budget` (bytes): engines with limits of their own derive them
   from it in `start()` and describe them in `memory_limits()`.
2. `start()`: import the library, create any session (timed as start-up).
3. `reported_threads()`: what the engine itself says it will use.
4. `run(query, data)`: the timed part. Returns the engine's own result
   object, fully computed (collected, fetched or counted).
5. `to_arrow(result)`: untimed conversion of that result for validation.
6. `plan(query, data)`: untimed, the optimized plan the engine executes for the
   query (None for engines without a planner).

An engine holds no query: every query is a workload's (the built-in benchmark is
workloads/social/), run by one mechanism (workloads/execute.py). An engine says
only how it takes part: `read_table` (a table as its native frame), `plan_sql`
(SQL to its unexecuted query), `collect` (compute a frame or query) and
`explain` (the plan of one).
"""

from __future__ import annotations

import importlib.metadata
import os
import shutil
from abc import ABC, abstractmethod
from typing import Any

import pyarrow as pa

from bench_pipeline.data.dataset import Dataset
from bench_pipeline.report.fmt import MiB
from bench_pipeline.workloads import execute
from bench_pipeline.workloads.execute import Unsupported  # noqa: F401 - engines and the worker raise it from here

# Set by the runner in the worker's environment when a memory budget applies.
BUDGET_ENV = "BENCH_MEMORY_BUDGET_BYTES"

class Engine(ABC):
    name: str = ""
    distribution: str = ""  # the package whose version is recorded
    extra_distributions: tuple[str, ...] = ()  # packages whose version also makes a cell stale
    # -- traits the suites read (one place each, instead of name checks in the suites) --
    # How the lab groups engines: "baseline" (pandas), "single-node" (the tools a lab compares with a
    # cluster) or "distributed" (runs on a cluster: the cluster suite's engine).
    role: str = "single-node"
    # Runs only against a cluster the harness started (or was given): never in a process on its own.
    needs_cluster: bool = False
    # How the engine completes data larger than its memory budget, in words ("spilled to disk"), or None.
    out_of_core: str | None = None
    # Its execution modes measured side by side (mode -> engine name, itself included); a "streaming"
    # mode is also measured in the limits suite's sweep.
    modes: dict[str, str] = {}
    # The lab's capability table row for this engine (limits suite), or None when the lab has none.
    lab_claims: dict[str, object] | None = None

    def __init__(self) -> None:
        self.threads = 1
        self.memory_budget: int | None = None

    # -- set-up -----------------------------------------------------------
    def configure(self, threads: int) -> None:
        self.threads = threads
        budget = os.environ.get(BUDGET_ENV)
        self.memory_budget = int(budget) if budget else None

    def memory_limits(self) -> str | None:
        """The engine's own memory limits in force (e.g. DuckDB memory_limit), or None."""
        return None

    @abstractmethod
    def start(self) -> None: ...

    @abstractmethod
    def reported_threads(self) -> int: ...

    def close(self) -> None:
        """Release sessions; called once the process's runs are over."""

    @classmethod
    def unavailable_reason(cls) -> str | None:
        """Why this engine cannot run on this machine (status `skipped`), or None."""
        return None

    @classmethod
    def version(cls) -> str:
        return _dist_version(cls.distribution)

    @classmethod
    def versions(cls) -> str:
        """Every version the engine's results depend on, e.g. 'pandas 3.1.1, pyarrow 26.0.1'."""
        return ", ".join([f"{cls.distribution} {cls.version()}",
                          *(f"{d} {_dist_version(d)}" for d in cls.extra_distributions)])

    # -- the timed part: one query mechanism for every engine (workloads/execute.py) -----------------
    dialect: str = "duckdb"  # its SQL dialect (sqlglot's name): the workload's SQL is translated into it
    api: str | None = None  # "sql" or "dataframe": what the last run of a workload's query measured

    @property
    def code_name(self) -> str:
        """The name a workload's DataFrame functions carry for it (`polars_A`): a mode variant's is its base's."""
        return self.name

    def run(self, query: str, data: Dataset) -> Any:
        """The query of the workload `data` names (a dataset folder: the built-in benchmark), computed."""
        return execute.run(self, query, data)

    def plan(self, query: str, data: Dataset) -> str | None:
        """The optimized plan of a query as the engine prints it; None without a planner."""
        return execute.plan(self, query, data)

    def read_table(self, table) -> Any:
        """A workload table (workloads.spec.Table) as the engine's native frame."""
        raise Unsupported(f"{self.name} has no DataFrame implementation here")

    def plan_sql(self, workload, sql: str) -> Any:
        """The workload's tables registered, the SQL parsed and planned, not yet run."""
        raise Unsupported(f"{self.name} has no SQL interface; give {self.code_name}_<query>(tables) in dataframes.py")

    def collect(self, result: Any) -> Any:
        """Compute what a DataFrame function or plan_sql returned (an answer already computed is kept)."""
        return result

    def explain(self, planned: Any) -> str | None:
        """The plan of an unexecuted query; None when the engine has none to show."""
        return None

    def run_checks(self, result: Any) -> dict | None:
        """Facts recorded with a run (the store's `checks`): the API a workload's run measured."""
        return {"api": self.api} if self.api else None

    @abstractmethod
    def to_arrow(self, result: Any) -> pa.Table: ...

    def after_run(self, result: Any) -> None:
        """Untimed clean-up between runs (e.g. drop a cached table)."""


def _dist_version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def mib(n_bytes: int) -> int:
    return int(n_bytes // MiB)


def java_missing_reason() -> str | None:
    """None when a `java` can be started, else why not."""
    java_home = os.environ.get("JAVA_HOME")
    if java_home and os.access(os.path.join(java_home, "bin", "java"), os.X_OK):
        return None
    if shutil.which("java"):
        return None
    return "Java not found (no java on PATH and JAVA_HOME not set); PySpark needs Java 17 or newer"
