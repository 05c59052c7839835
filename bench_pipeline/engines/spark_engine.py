"""PySpark: the DataFrame API on a local[n] session started in this process, or on a cluster.

`getOrCreate()` would reuse a live session, so the thread count (local[n]) can
only be chosen in a fresh process: the harness gives each query one.

Cluster mode is chosen by the environment the harness gives the worker:
BENCH_SPARK_MASTER (spark://..., yarn, k8s://...), BENCH_SPARK_EXECUTORS,
BENCH_SPARK_EXECUTOR_CORES, BENCH_SPARK_EXECUTOR_MEMORY, and BENCH_SPARK_POSTS /
BENCH_SPARK_USERS, the URIs the executors read (file://, hdfs://, gs://).

Under a memory budget (local mode) the driver JVM's heap is set from it, so
Spark spills its cache and shuffles to disk instead of growing past the budget.
"""

from __future__ import annotations

import os
import time
from typing import Any

import pyarrow as pa

from bench_pipeline.engines.base import Engine, java_missing_reason, mib

DEFAULT_DRIVER_MEMORY = "4g"
# Under a budget: the driver's heap is what is left after the JVM's own memory
# outside the heap and the Python driver (about 0.75 GiB measured here), but
# never below the smallest heap Spark accepts.
BUDGET_OUTSIDE_HEAP_MIB = 768
MIN_HEAP_MIB = 512
# ...and the JVM's memory outside the heap held small: serial GC (no G1 region
# tables), capped code cache, metaspace and direct buffers (Arrow, Netty).
BUDGET_JVM_OPTIONS = ("-XX:+UseSerialGC -XX:ReservedCodeCacheSize=48m -XX:MaxMetaspaceSize=160m "
                      "-XX:MaxDirectMemorySize=128m -Xss512k")


def budget_heap(budget_bytes: int) -> str:
    """The driver heap (spark.driver.memory) for a process-tree budget in local mode."""
    return f"{max(MIN_HEAP_MIB, mib(budget_bytes) - BUDGET_OUTSIDE_HEAP_MIB)}m"


class SparkEngine(Engine):
    name = "pyspark"
    dialect = "spark"
    distribution = "pyspark"
    role = "distributed"
    out_of_core = "spilled to disk"
    lab_claims = {"optimizer": True, "distributed": True, "arrow": "Pandas UDF/IO", "out_of_core": True,
                  "parallel": True, "apis": "SQL, DataFrame", "gpu": False}

    @classmethod
    def unavailable_reason(cls) -> str | None:
        return java_missing_reason()

    def configure(self, threads: int) -> None:
        super().configure(threads)
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        os.environ.setdefault("PYSPARK_PYTHON", os.sys.executable)

    def start(self) -> None:
        # pyspark: imported when the engine starts, after its threads are set
        from pyspark.sql import SparkSession, Window, functions

        self.F = functions
        self.Window = Window
        env = os.environ
        master = env.get("BENCH_SPARK_MASTER")
        budgeted = bool(self.memory_budget and not master)
        self.driver_memory = (budget_heap(self.memory_budget) if budgeted
                              else env.get("BENCH_SPARK_DRIVER_MEMORY", DEFAULT_DRIVER_MEMORY))
        builder = (
            SparkSession.builder.appName("bench_pipeline")
            .config("spark.driver.memory", self.driver_memory)
            .config("spark.ui.enabled", "false")
            .config("spark.sql.session.timeZone", "UTC")
        )
        if budgeted:
            # glibc gives each JVM thread its own malloc arena; two keep the RSS near what is used.
            os.environ["MALLOC_ARENA_MAX"] = "2"
            builder = builder.config("spark.driver.extraJavaOptions", BUDGET_JVM_OPTIONS)
        if master:
            executors = int(env.get("BENCH_SPARK_EXECUTORS", "2"))
            cores = int(env.get("BENCH_SPARK_EXECUTOR_CORES", "1"))
            self.executors = executors
            builder = (
                builder.master(master)
                .config("spark.executor.instances", str(executors))  # YARN, Kubernetes
                .config("spark.executor.cores", str(cores))
                .config("spark.cores.max", str(executors * cores))  # standalone
                .config("spark.executor.memory", env.get("BENCH_SPARK_EXECUTOR_MEMORY", "1g"))
                # N executors means N: YARN (Dataproc) would otherwise scale them with the load.
                .config("spark.dynamicAllocation.enabled", "false")
            )
            if master.startswith("spark://127.0.0.1"):
                builder = builder.config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress",
                                                                                   "127.0.0.1")
        else:
            self.executors = 0
            builder = (builder.master(f"local[{int(self.threads)}]").config("spark.driver.host", "127.0.0.1")
                       .config("spark.driver.bindAddress", "127.0.0.1"))
        self.spark = builder.getOrCreate()
        self.spark.sparkContext.setLogLevel("ERROR")
        self._cached = None
        if self.executors:
            self._wait_for_executors()

    def _wait_for_executors(self, timeout_s: float = 180) -> None:
        """Start-up ends when every executor asked for has registered (part of start-up time)."""
        status = self.spark.sparkContext._jsc.sc().getExecutorMemoryStatus
        deadline = time.monotonic() + timeout_s
        while status().size() - 1 < self.executors:  # the driver is listed too
            if time.monotonic() > deadline:
                raise TimeoutError(f"only {status().size() - 1} of {self.executors} executors registered "
                                   f"within {timeout_s:.0f} s")
            time.sleep(0.2)

    def memory_limits(self) -> str | None:
        if not self.memory_budget or self.executors:
            return None
        return f"spark.driver.memory={self.driver_memory}, {BUDGET_JVM_OPTIONS}"

    def reported_threads(self) -> int:
        return int(self.spark.sparkContext.defaultParallelism)

    def close(self) -> None:
        self.spark.stop()

    def after_run(self, result: Any) -> None:
        if self._cached is not None:
            self._cached.unpersist(blocking=True)
            self._cached = None

    def read_table(self, t) -> Any:
        # A cluster reads its own copy of posts and users (BENCH_SPARK_POSTS, BENCH_SPARK_USERS: a URI it reaches).
        path = os.environ.get(f"BENCH_SPARK_{t.name.upper()}") or t.pattern
        read = self.spark.read
        return read.option("header", True).option("inferSchema", True).csv(path) if t.kind == "csv" \
            else read.parquet(path)

    def plan_sql(self, w, sql: str) -> Any:
        from bench_pipeline.workloads.execute import Tables  # off the worker's import path (SQL planning)

        frames = Tables(self, w)
        for name in frames:
            frames[name].createOrReplaceTempView(name)
        return self.spark.sql(sql)  # parsed and analysed here

    def keep_until_next_run(self, df) -> None:
        """A cached DataFrame (query L) that after_run unpersists, untimed."""
        self._cached = df

    def collect(self, result: Any) -> Any:
        return result.toArrow() if hasattr(result, "toArrow") else result

    def explain(self, planned: Any) -> str | None:
        return self.spark._jvm.PythonSQLUtils.explainString(planned._jdf.queryExecution(), "formatted")

    def to_arrow(self, result: Any) -> pa.Table:
        if isinstance(result, int):  # query L: the cached table's count
            return pa.table({"rows": pa.array([result], pa.int64())})
        return result
