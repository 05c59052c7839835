"""DuckDB: the catalogue's SQL over views on the Parquet files."""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from bench_pipeline.dataset import Dataset
from bench_pipeline.engines.base import Engine
from bench_pipeline.queries import get_query, sql_string


class DuckDBEngine(Engine):
    name = "duckdb"
    distribution = "duckdb"

    def start(self) -> None:
        import duckdb

        self.con = duckdb.connect()  # in-memory database
        self.con.execute(f"SET threads = {int(self.threads)}")

    def reported_threads(self) -> int:
        return int(self.con.execute("SELECT current_setting('threads')").fetchall()[0][0])

    def _views(self, data: Dataset) -> None:
        self.con.execute(f"CREATE OR REPLACE VIEW posts AS SELECT * FROM read_parquet({sql_string(data.posts)})")
        self.con.execute(f"CREATE OR REPLACE VIEW users AS SELECT * FROM read_parquet({sql_string(data.users)})")

    def _sql(self, data: Dataset, query: str) -> pa.Table:
        self._views(data)
        return self.con.sql(get_query(query).sql).to_arrow_table()

    def query_L(self, data: Dataset) -> Any:
        # Materialise the whole table in DuckDB's memory, then count it.
        self.con.execute(f"CREATE OR REPLACE TABLE posts_mem AS SELECT * FROM read_parquet({sql_string(data.posts)})")
        return self.con.sql("SELECT COUNT(*) AS rows FROM posts_mem").to_arrow_table()

    def query_A(self, data: Dataset) -> Any:
        return self._sql(data, "A")

    def query_B(self, data: Dataset) -> Any:
        return self._sql(data, "B")

    def query_C(self, data: Dataset) -> Any:
        return self._sql(data, "C")

    def after_run(self, result: Any) -> None:
        self.con.execute("DROP TABLE IF EXISTS posts_mem")

    def to_arrow(self, result: pa.Table) -> pa.Table:
        return result
