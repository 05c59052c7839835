"""Daft: the DataFrame API on the native (single-process, multi-threaded) runner (optional extra).

Threads: the native runner's compute pool is sized once per process by
`set_runner_native(num_threads=...)`; the harness gives each query its own
process, so that is enough. Daft names its compute threads DAFTCPU-<i>: the
verified thread count is how many of them this process really runs.

A workload's DataFrame code returns lazy DataFrames that `collect` computes, so
`explain` prints the optimized plan of exactly what is run.
"""

from __future__ import annotations

import io
import os
import time
from typing import Any

import pyarrow as pa

from bench_pipeline.engines.base import Engine
from bench_pipeline.engines.optional import missing_reason

THREAD_NAMING_WAIT_S = 5.0
POSTS_ENV = "BENCH_DAFT_POSTS"  # another copy of the posts to read (the cluster suite's partitioned layout)
NO_TELEMETRY = {"DO_NOT_TRACK": "1", "DAFT_ANALYTICS_ENABLED": "0", "SCARF_NO_ANALYTICS": "true"}


def compute_threads() -> int:
    """Daft's compute-pool threads alive in this process, by their names."""
    count = 0
    for tid in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{tid}/comm") as f:
                count += f.read().startswith("DAFTCPU")
        except OSError:
            pass  # a thread that ended meanwhile
    return count


class DaftEngine(Engine):
    name = "daft"
    distribution = "daft"
    extra_distributions = ("pyarrow",)

    @classmethod
    def unavailable_reason(cls) -> str | None:
        return missing_reason("daft")

    def configure(self, threads: int) -> None:
        super().configure(threads)
        # No usage pings from a benchmark machine (and none leave this sandbox anyway).
        os.environ.update(NO_TELEMETRY)
        os.environ["DAFT_RUNNER"] = "native"
        os.environ["DAFT_PROGRESS_BAR"] = "0"

    def start(self) -> None:
        import daft  # daft: imported when the engine starts, after its threads are set

        self.daft = daft
        try:
            daft.set_runner_native(num_threads=int(self.threads))
        except Exception as exc:  # noqa: BLE001 - Daft raises its own internal error type
            # A second engine in one process (tests share one): the pool is fixed
            # already, and reported_threads() says what it really is.
            if "already set" not in str(exc):
                raise
        # The compute pool starts with the first query that needs it: run a tiny
        # one here (start-up time) so reported_threads() sees the real pool.
        daft.from_pydict({"k": [1, 2, 1], "v": [1, 2, 3]}).groupby("k").agg(daft.col("v").sum()).collect()

    def reported_threads(self) -> int:
        # A Rust thread names itself once it runs: on a busy machine the last
        # workers of the pool can still be unnamed when the warm-up returns.
        # Wait (bounded) for the asked count; a smaller pool is reported as is.
        deadline = time.monotonic() + THREAD_NAMING_WAIT_S
        count = compute_threads()
        while count < int(self.threads) and time.monotonic() < deadline:
            time.sleep(0.05)
            count = compute_threads()
        return count

    def read_table(self, t) -> Any:
        """A workload table; posts from the copy POSTS_ENV names when set (a folder: Hive partitions, category=...)."""
        daft = self.daft
        path = os.environ.get(POSTS_ENV) if t.name == "posts" else None
        if path:
            return daft.read_parquet(os.path.join(path, "**", "*.parquet"), hive_partitioning=True) \
                if os.path.isdir(path) else daft.read_parquet(path)
        if t.kind == "csv":
            return daft.read_csv(t.pattern)
        return daft.read_parquet(t.pattern if not t.root.is_dir() else f"{t.pattern}/**/*.parquet",
                                 hive_partitioning=t.hive)

    def plan_sql(self, w, sql: str) -> Any:
        from bench_pipeline.workloads.execute import Tables  # off the worker's import path (SQL planning)

        frames = Tables(self, w)
        return self.daft.sql(sql, **{name: frames[name] for name in frames})

    def collect(self, result: Any) -> Any:
        return result.collect() if hasattr(result, "collect") else result

    def explain(self, planned: Any) -> str | None:
        if not hasattr(planned, "explain"):
            return None
        out = io.StringIO()
        planned.explain(show_all=True, file=out)
        return out.getvalue()

    def to_arrow(self, result: Any) -> pa.Table:
        return result if isinstance(result, pa.Table) else result.to_arrow()


RAY_ADDRESS_ENV = "BENCH_RAY_ADDRESS"


class DaftRayEngine(DaftEngine):
    """Daft's distributed runner on a Ray cluster (the cluster suite's cells; BENCH_RAY_ADDRESS names it).

    Its parallelism is the cluster's: the thread setting is the worker CPUs asked, and the verified count is the
    CPUs the cluster reports alive. The same lazy queries as the native runner, collected on the Ray workers.
    """

    name = "daft-ray"
    role = "distributed"

    @property
    def code_name(self) -> str:
        return "daft"  # the same DataFrame code, collected on the Ray workers
    needs_cluster = True  # test_ray_cluster.py measures it on a real Ray cluster
    extra_distributions = ("pyarrow", "ray")

    @classmethod
    def unavailable_reason(cls) -> str | None:
        return missing_reason("daft") or missing_reason("ray", extra="ray")

    def configure(self, threads: int) -> None:
        Engine.configure(self, threads)
        os.environ.update(NO_TELEMETRY, DAFT_RUNNER="ray", DAFT_PROGRESS_BAR="0", RAY_USAGE_STATS_ENABLED="0")

    def start(self) -> None:
        import daft  # daft: imported when the engine starts, after its threads are set

        address = os.environ.get(RAY_ADDRESS_ENV)
        if not address:
            raise RuntimeError(f"daft-ray needs a Ray cluster: {RAY_ADDRESS_ENV} is not set")
        self.daft = daft
        daft.set_runner_ray(address=address)
        # Ray starts its worker processes with the first task: start-up, not the first query's time.
        daft.from_pydict({"k": [1, 2, 1], "v": [1, 2, 3]}).groupby("k").agg(daft.col("v").sum()).collect()

    def reported_threads(self) -> int:
        import ray  # ray: imported when the engine starts, after its threads are set

        return int(sum(n["Resources"].get("CPU", 0) for n in ray.nodes() if n["Alive"]))
