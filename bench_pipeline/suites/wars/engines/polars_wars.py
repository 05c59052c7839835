"""Polars: lazy scans of Parquet and CSV, collected at the end; the one-engine side of the hand-off."""

from __future__ import annotations

from typing import Any

from bench_pipeline.engines.polars_engine import PolarsEngine
from bench_pipeline.suites.wars.engines import TaskEngine, rank_purchases, wars_data
from bench_pipeline.suites.wars.tasks import ETL_MIN_SPEND, ETL_SINCE, HANDOFF_MIN_PURCHASES


class PolarsWars(TaskEngine, PolarsEngine):
    def task_etl(self, data) -> Any:
        pl = self.pl
        return (
            pl.scan_parquet(wars_data(data).events)
            .filter(pl.col("event_date") >= ETL_SINCE)
            .group_by("user_id")
            .agg(pl.col("purchase_amount").sum().alias("total_spend"),
                 pl.col("event_id").count().cast(pl.Int64).alias("event_count"),
                 pl.col("session_duration").mean().alias("avg_session"))
            .filter(pl.col("total_spend") > ETL_MIN_SPEND)
            .sort(["total_spend", "user_id"], descending=[True, False])
            .collect()
        )

    def task_csv_groupby(self, data) -> Any:
        pl = self.pl
        return (pl.scan_csv(wars_data(data).sales).group_by("region")
                .agg(pl.col("revenue").mean().alias("avg_revenue")).sort("region").collect())

    def task_handoff(self, data) -> Any:
        pl = self.pl
        purchases = (
            pl.scan_parquet(wars_data(data).events)
            .filter(pl.col("event_type") == "purchase")
            .group_by("user_id").agg(pl.len().cast(pl.Int64).alias("purchases"))
            .filter(pl.col("purchases") > HANDOFF_MIN_PURCHASES)
        )
        return rank_purchases(pl, purchases).collect()
