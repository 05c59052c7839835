"""DuckDB: a workload's SQL over views on its files (the built-in benchmark's L: its own DataFrame code).

Under a memory budget DuckDB gets its own `memory_limit` (part of the budget,
the rest left for the interpreter and allocations outside its buffer manager)
and a temporary directory, so it can spill instead of being killed.
"""

from __future__ import annotations

import tempfile
from typing import Any

import pyarrow as pa

from bench_pipeline.engines.base import Engine, mib
from bench_pipeline.workloads.spec import sql_string

# Share of the process-tree budget given to DuckDB's buffer manager.
BUDGET_SHARE = 0.6


class DuckDBEngine(Engine):
    name = "duckdb"
    distribution = "duckdb"
    out_of_core = "spilled to disk"
    lab_claims = {"optimizer": True, "distributed": False, "arrow": True, "out_of_core": True, "parallel": False,
                  "apis": "SQL, Relational API", "gpu": False}

    def start(self) -> None:
        import duckdb  # duckdb: imported when the engine starts, after its threads are set

        self.con = duckdb.connect()  # in-memory database
        self.con.execute(f"SET threads = {int(self.threads)}")
        self._spill = None
        if self.memory_budget:
            self._spill = tempfile.TemporaryDirectory(prefix="bench-duckdb-spill-")
            self.con.execute(f"SET memory_limit = '{mib(self.memory_budget * BUDGET_SHARE)}MiB'")
            self.con.execute(f"SET temp_directory = {sql_string(self._spill.name)}")

    def memory_limits(self) -> str | None:
        if not self.memory_budget:
            return None
        limit, temp = self.con.execute("SELECT current_setting('memory_limit'), current_setting('temp_directory')"
                                       ).fetchall()[0]
        return f"memory_limit={limit}, temp_directory={temp}"

    def reported_threads(self) -> int:
        return int(self.con.execute("SELECT current_setting('threads')").fetchall()[0][0])

    def close(self) -> None:
        self.con.close()
        if self._spill is not None:
            self._spill.cleanup()

    def after_run(self, result: Any) -> None:
        self.con.execute("DROP TABLE IF EXISTS posts_mem")

    def read_table(self, t) -> Any:
        from bench_pipeline.workloads.reference import duckdb_source  # off the worker's import path (numpy)

        return self.con.sql(f"SELECT * FROM {duckdb_source(t)}")

    def plan_sql(self, w, sql: str) -> Any:
        from bench_pipeline.workloads.reference import duckdb_views  # off the worker's import path (numpy)

        duckdb_views(self.con, w)  # inside the timed part: reading the Parquet footers is part of the work
        return self.con.sql(sql)  # parsed and bound here: a failure is the text's

    def collect(self, result: Any) -> Any:
        return result.to_arrow_table() if hasattr(result, "to_arrow_table") else result

    def explain(self, planned: Any) -> str | None:
        return "\n".join(row[1] for row in self.con.execute(f"EXPLAIN {planned.sql_query()}").fetchall())

    def to_arrow(self, result: pa.Table) -> pa.Table:
        return result
