"""Apache DataFusion: the catalogue's SQL over Parquet files registered as tables (optional extra).

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

from bench_pipeline.dataset import Dataset
from bench_pipeline.engines.base import Engine, mib
from bench_pipeline.engines.optional import missing_reason
from bench_pipeline.queries import get_query, sql_string

# Share of the process-tree budget given to DataFusion's memory pool (as for DuckDB).
BUDGET_SHARE = 0.6


class DataFusionEngine(Engine):
    name = "datafusion"
    distribution = "datafusion"
    extra_distributions = ("pyarrow",)  # its answers arrive as pyarrow tables

    @classmethod
    def unavailable_reason(cls) -> str | None:
        return missing_reason("datafusion")

    def configure(self, threads: int) -> None:
        super().configure(threads)
        os.environ["TOKIO_WORKER_THREADS"] = str(threads)

    def start(self) -> None:
        from datafusion import RuntimeEnvBuilder, SessionConfig, SessionContext

        config = SessionConfig().with_target_partitions(int(self.threads)).with_information_schema(True)
        runtime = RuntimeEnvBuilder()
        if self.memory_budget:
            runtime = runtime.with_disk_manager_os().with_fair_spill_pool(int(self.memory_budget * BUDGET_SHARE))
        self.ctx = SessionContext(config, runtime)

    def memory_limits(self) -> str | None:
        if not self.memory_budget:
            return None
        return f"fair spill pool {mib(self.memory_budget * BUDGET_SHARE)}MiB, spilling to the OS temp directory"

    def reported_threads(self) -> int:
        rows = self.ctx.sql("SHOW datafusion.execution.target_partitions").to_pylist()
        return int(rows[0]["value"])

    def _tables(self, data: Dataset) -> None:
        # Registered inside the timed part, like DuckDB's views: reading the
        # Parquet footers is part of going from files to an answer.
        for name, path in (("posts", data.posts), ("users", data.users)):
            self.ctx.sql(f"CREATE OR REPLACE EXTERNAL TABLE {name} STORED AS PARQUET LOCATION {sql_string(path)}")

    def catalogue_sql(self, data: Dataset, query: str) -> pa.Table:
        self._tables(data)
        return self.ctx.sql(get_query(query).sql).to_arrow_table()

    def query_L(self, data: Dataset) -> Any:
        # An in-memory table (a MemTable holding every batch), then its count.
        self.ctx.sql(f"CREATE OR REPLACE EXTERNAL TABLE posts_file STORED AS PARQUET LOCATION {sql_string(data.posts)}")
        self.ctx.sql("CREATE OR REPLACE TABLE posts_mem AS SELECT * FROM posts_file").collect()
        return self.ctx.sql("SELECT COUNT(*) AS rows FROM posts_mem").to_arrow_table()

    def plan(self, query: str, data: Dataset) -> str | None:
        self._tables(data)
        sql = "SELECT COUNT(*) AS rows FROM posts" if query == "L" else get_query(query).sql
        rows = self.ctx.sql(f"EXPLAIN {sql}").to_pylist()
        return "\n".join(f"{r['plan_type']}:\n{r['plan']}" for r in rows)

    def after_run(self, result: Any) -> None:
        self.ctx.sql("DROP TABLE IF EXISTS posts_mem").collect()

    def to_arrow(self, result: pa.Table) -> pa.Table:
        return result
