"""Apache DataFusion: a workload's SQL over its files registered as tables (optional extra).

Threads: `datafusion.execution.target_partitions` sets how many partitions a
plan runs in; the tokio runtime underneath starts one worker per core unless
TOKIO_WORKER_THREADS is set before the library first runs, so both are fixed.

Under a memory budget DataFusion gets a fair spill pool (part of the budget)
and the OS temporary directory to spill to, as the article suggests for
larger-than-memory work.
"""

from __future__ import annotations

import os
from typing import Any

import pyarrow as pa

from bench_pipeline.engines.base import Engine, mib
from bench_pipeline.engines.optional import missing_reason

# Share of the process-tree budget given to DataFusion's memory pool (as for DuckDB).
BUDGET_SHARE = 0.6


class DataFusionEngine(Engine):
    name = "datafusion"
    dialect = "postgres"
    distribution = "datafusion"
    extra_distributions = ("pyarrow",)  # its answers arrive as pyarrow tables

    @classmethod
    def unavailable_reason(cls) -> str | None:
        return missing_reason("datafusion")

    def configure(self, threads: int) -> None:
        super().configure(threads)
        os.environ["TOKIO_WORKER_THREADS"] = str(threads)

    def start(self) -> None:
        # datafusion: imported when the engine starts, after its threads are set
        from datafusion import RuntimeEnvBuilder, SessionConfig, SessionContext

        config = SessionConfig().with_target_partitions(int(self.threads)).with_information_schema(True)
        runtime = RuntimeEnvBuilder()
        if self.memory_budget:
            runtime = runtime.with_disk_manager_os().with_fair_spill_pool(int(self.memory_budget * BUDGET_SHARE))
        self.ctx = SessionContext(config, runtime)
        self._registered: dict[str, str] = {}  # table name -> what it reads

    def memory_limits(self) -> str | None:
        if not self.memory_budget:
            return None
        return f"fair spill pool {mib(self.memory_budget * BUDGET_SHARE)}MiB, spilling to the OS temp directory"

    def reported_threads(self) -> int:
        rows = self.ctx.sql("SHOW datafusion.execution.target_partitions").to_pylist()
        return int(rows[0]["value"])

    def after_run(self, result: Any) -> None:
        self.ctx.sql("DROP TABLE IF EXISTS posts_mem").collect()

    def read_table(self, t) -> Any:
        # Registered inside the timed part, like DuckDB's views: reading the Parquet footers is part of the work.
        from bench_pipeline.workloads.execute import hive_keys

        if self._registered.get(t.name) != t.pattern:  # another workload's table (an engine shared in one process)
            if self.ctx.table_exist(t.name):
                self.ctx.deregister_table(t.name)
            self._registered[t.name] = t.pattern
            if t.kind == "csv":
                self.ctx.register_csv(t.name, t.pattern, has_header=True)
            else:
                self.ctx.register_parquet(t.name, t.pattern, table_partition_cols=hive_keys(t) if t.hive else [])
        return self.ctx.table(t.name)

    def plan_sql(self, w, sql: str) -> Any:
        for t in w.tables.values():
            self.read_table(t)  # registered under its name
        return self.ctx.sql(sql)

    def collect(self, result: Any) -> Any:
        return result.to_arrow_table() if hasattr(result, "to_arrow_table") else result

    def explain(self, planned: Any) -> str | None:
        return (f"logical_plan:\n{planned.optimized_logical_plan().display_indent()}\n"
                f"physical_plan:\n{planned.execution_plan().display_indent()}")

    def to_arrow(self, result: pa.Table) -> pa.Table:
        return result
