"""What an engine must provide to be benchmarked.

The harness drives an engine in a fresh process, in this order:

1. `configure(threads)`: fix the thread count. Called before the engine library
   is imported, because some engines (Polars) read it only at import time.
   The memory budget the runner enforces on the process tree, if any, is in
   `self.memory_budget` (bytes): engines with limits of their own derive them
   from it in `start()` and describe them in `memory_limits()`.
2. `start()`: import the library, create any session (timed as start-up).
3. `reported_threads()`: what the engine itself says it will use.
4. `run(query, dataset)`: the timed part. Returns the engine's own result
   object, fully computed (collected, fetched or counted).
5. `to_arrow(result)`: untimed conversion of that result for validation.
6. `plan(query, data)`: untimed, the optimized plan the engine executes for the
   query (None for engines without a planner).

One method per query, named `query_<NAME>` (or `frame_<NAME>` for a lazy
engine), holds the engine's idiomatic code.
"""

from __future__ import annotations

import importlib.metadata
import os
import shutil
from abc import ABC, abstractmethod
from typing import Any

import pyarrow as pa

from bench_pipeline.dataset import Dataset
from bench_pipeline.fmt import MiB

# Set by the runner in the worker's environment when a memory budget applies.
BUDGET_ENV = "BENCH_MEMORY_BUDGET_BYTES"

class Unsupported(Exception):
    """The engine rejects the query's text (a parse or planning error, an unsupported function): the status
    `unsupported`, with the engine's message; distinct from an `error` while the query runs."""


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

    # -- the timed part ----------------------------------------------------
    def run(self, query: str, data: Dataset) -> Any:
        """Query Q is `query_Q(data)`; for engines with a planner `finish(frame_Q(data))`; for SQL engines
        that define neither, the catalogue's reference SQL through `catalogue_sql`."""
        frame = getattr(self, f"frame_{query}", None)
        if frame is not None:
            return self.finish(frame(data))
        method = getattr(self, f"query_{query}", None)
        if method is not None:
            return method(data)
        return self.catalogue_sql(data, query)

    def catalogue_sql(self, data: Dataset, query: str) -> Any:
        """Run the query's reference SQL (queries.py) over `posts` and `users`: SQL engines override this."""
        raise NotImplementedError(f"engine {self.name} has no query {query}")

    def finish(self, frame: Any) -> Any:
        """Compute a lazy query built by a `frame_<Q>` method (collect, fetch)."""
        raise NotImplementedError(f"engine {self.name} builds frames but cannot finish them")

    @abstractmethod
    def to_arrow(self, result: Any) -> pa.Table: ...

    def after_run(self, result: Any) -> None:
        """Untimed clean-up between runs (e.g. drop a cached table)."""

    def plan(self, query: str, data: Dataset) -> str | None:
        """The optimized plan of a query as the engine prints it; None without a planner."""
        return None

    # -- the queries (docs/contract.md; their SQL: queries.py) ----------------
    # Each engine implements L, A, B, C and F as `query_<Q>(data)` returning its
    # computed result, or, where the engine plans lazily, as `frame_<Q>(data)`
    # returning the unexecuted query that `finish` computes; a SQL engine may
    # leave a query to `catalogue_sql`, which runs the reference SQL itself.


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
