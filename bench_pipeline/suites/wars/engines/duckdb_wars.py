"""DuckDB: the tasks' SQL straight over the Parquet and CSV files."""

from __future__ import annotations

from typing import Any

from bench_pipeline.engines.duckdb_engine import DuckDBEngine
from bench_pipeline.suites.wars.engines import TaskEngine, wars_data
from bench_pipeline.suites.wars.tasks import CSV_SQL, ETL_SQL
from bench_pipeline.workloads.spec import sql_string


class DuckDBWars(TaskEngine, DuckDBEngine):
    def task_etl(self, data) -> Any:
        path = sql_string(wars_data(data).events)
        self.con.execute(f"CREATE OR REPLACE VIEW events AS SELECT * FROM read_parquet({path})")
        return self.con.sql(ETL_SQL).to_arrow_table()

    def task_csv_groupby(self, data) -> Any:
        path = sql_string(wars_data(data).sales)
        self.con.execute(f"CREATE OR REPLACE VIEW sales AS SELECT * FROM read_csv({path})")
        return self.con.sql(CSV_SQL).to_arrow_table()
