"""What an engine must provide to be benchmarked.

The harness drives an engine in a fresh process, in this order:

1. `configure(threads)`: fix the thread count. Called before the engine library
   is imported, because some engines (Polars) read it only at import time.
2. `start()`: import the library, create any session (timed as start-up).
3. `reported_threads()`: what the engine itself says it will use.
4. `run(query, dataset)`: the timed part. Returns the engine's own result
   object, fully computed (collected, fetched or counted).
5. `to_arrow(result)`: untimed conversion of that result for validation.

One method per query, named `query_<NAME>`, holds the engine's idiomatic code.
"""

from __future__ import annotations

import importlib.metadata
import os
import shutil
from abc import ABC, abstractmethod
from typing import Any

import pyarrow as pa

from bench_pipeline.dataset import Dataset


class Engine(ABC):
    name: str = ""
    distribution: str = ""  # the package whose version is recorded
    extra_distributions: tuple[str, ...] = ()  # packages whose version also makes a cell stale

    def __init__(self) -> None:
        self.threads = 1

    # -- set-up -----------------------------------------------------------
    def configure(self, threads: int) -> None:
        self.threads = threads

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
        return getattr(self, f"query_{query}")(data)

    @abstractmethod
    def to_arrow(self, result: Any) -> pa.Table: ...

    def after_run(self, result: Any) -> None:
        """Untimed clean-up between runs (e.g. drop a cached table)."""

    # -- the queries (SPEC §2) ---------------------------------------------
    @abstractmethod
    def query_L(self, data: Dataset) -> Any: ...

    @abstractmethod
    def query_A(self, data: Dataset) -> Any: ...

    @abstractmethod
    def query_B(self, data: Dataset) -> Any: ...

    @abstractmethod
    def query_C(self, data: Dataset) -> Any: ...


def _dist_version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def java_missing_reason() -> str | None:
    """None when a `java` can be started, else why not."""
    java_home = os.environ.get("JAVA_HOME")
    if java_home and os.access(os.path.join(java_home, "bin", "java"), os.X_OK):
        return None
    if shutil.which("java"):
        return None
    return "Java not found (no java on PATH and JAVA_HOME not set); PySpark needs Java 17 or newer"
