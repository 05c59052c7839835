"""DataFusion: the tasks' SQL over the events file registered as a table."""

from __future__ import annotations

from typing import Any

from bench_pipeline.engines.datafusion_engine import DataFusionEngine
from bench_pipeline.suites.wars.engines import TaskEngine, wars_data
from bench_pipeline.suites.wars.tasks import ETL_SQL, HANDOFF_SQL
from bench_pipeline.workloads.spec import sql_string


class DataFusionWars(TaskEngine, DataFusionEngine):
    def _events(self, data) -> None:
        path = sql_string(wars_data(data).events)
        self.ctx.sql(f"CREATE OR REPLACE EXTERNAL TABLE events STORED AS PARQUET LOCATION {path}")

    def task_etl(self, data) -> Any:
        self._events(data)
        return self.ctx.sql(ETL_SQL).to_arrow_table()

    def task_handoff(self, data) -> Any:
        self._events(data)
        return self.ctx.sql(HANDOFF_SQL).to_arrow_table()
