"""DuckDB: the catalogue's SQL over views on the Parquet files.

Under a memory budget DuckDB gets its own `memory_limit` (part of the budget,
the rest left for the interpreter and allocations outside its buffer manager)
and a temporary directory, so it can spill instead of being killed.
"""

from __future__ import annotations

import tempfile
from typing import Any

import pyarrow as pa

from bench_pipeline.dataset import Dataset
from bench_pipeline.engines.base import Engine, mib
from bench_pipeline.queries import get_query, sql_string

# Share of the process-tree budget given to DuckDB's buffer manager.
BUDGET_SHARE = 0.6


class DuckDBEngine(Engine):
    name = "duckdb"
    distribution = "duckdb"
    out_of_core = "spilled to disk"
    lab_claims = {"optimizer": True, "distributed": False, "arrow": True, "out_of_core": True, "parallel": False,
                  "apis": "SQL, Relational API", "gpu": False}

    def start(self) -> None:
        import duckdb

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

    def _views(self, data: Dataset) -> None:
        self.con.execute(f"CREATE OR REPLACE VIEW posts AS SELECT * FROM read_parquet({sql_string(data.posts)})")
        self.con.execute(f"CREATE OR REPLACE VIEW users AS SELECT * FROM read_parquet({sql_string(data.users)})")

    def catalogue_sql(self, data: Dataset, query: str) -> pa.Table:
        self._views(data)
        return self.con.sql(get_query(query).sql).to_arrow_table()

    def plan(self, query: str, data: Dataset) -> str | None:
        self._views(data)
        sql = (f"SELECT COUNT(*) AS rows FROM read_parquet({sql_string(data.posts)})" if query == "L"
               else get_query(query).sql)
        return "\n".join(row[1] for row in self.con.execute(f"EXPLAIN {sql}").fetchall())

    def query_L(self, data: Dataset) -> Any:
        # Materialise the whole table in DuckDB's memory, then count it.
        self.con.execute(f"CREATE OR REPLACE TABLE posts_mem AS SELECT * FROM read_parquet({sql_string(data.posts)})")
        return self.con.sql("SELECT COUNT(*) AS rows FROM posts_mem").to_arrow_table()

    def after_run(self, result: Any) -> None:
        self.con.execute("DROP TABLE IF EXISTS posts_mem")

    def to_arrow(self, result: pa.Table) -> pa.Table:
        return result
