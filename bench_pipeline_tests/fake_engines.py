"""Engines that misbehave on purpose, to provoke each failure status in the runner.

They are real Engine subclasses loaded by the worker through "module:Class",
the same path any engine outside the package takes.
"""

from __future__ import annotations

import time

import pyarrow as pa

from bench_pipeline.engines.duckdb_engine import DuckDBEngine


class SleepyEngine(DuckDBEngine):
    """Query A never finishes in time."""

    def run(self, query, data):
        if query == "A":
            time.sleep(120)
        return super().run(query, data)


class GreedyEngine(DuckDBEngine):
    """Query A holds 1.5 GiB of touched memory."""

    def run(self, query, data):
        if query == "A":
            hog = bytearray(1536 * 2**20)
            for i in range(0, len(hog), 4096):
                hog[i] = 1
            time.sleep(1)
        return super().run(query, data)


class BrokenEngine(DuckDBEngine):
    """Query A raises."""

    def run(self, query, data):
        if query == "A":
            raise RuntimeError("the engine broke on purpose")
        return super().run(query, data)


class WrongEngine(DuckDBEngine):
    """Query A answers with every post count off by one."""

    def to_arrow(self, result: pa.Table) -> pa.Table:
        if "posts" in result.column_names:
            i = result.column_names.index("posts")
            result = result.set_column(i, "posts", pa.compute.add(result["posts"], 1))
        return result


class CrashingStartEngine(DuckDBEngine):
    """Dies before it is ready."""

    def start(self) -> None:
        raise OSError("no such engine runtime")


class FailingConversionEngine(DuckDBEngine):
    """Every run finishes in time, then turning the answer into Arrow fails."""

    def to_arrow(self, result: pa.Table) -> pa.Table:
        raise ValueError("cannot convert this answer")
