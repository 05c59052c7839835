"""Polars: lazy scans with projection and predicate pushdown, collected at the end."""

from __future__ import annotations

import os
from typing import Any

import pyarrow as pa

from bench_pipeline.dataset import Dataset
from bench_pipeline.engines.base import Engine
from bench_pipeline.queries import B_TOP_N, C_DEVICE, C_MAX_ERROR_RATE, C_MIN_FOLLOWERS


class PolarsEngine(Engine):
    name = "polars"
    distribution = "polars"

    def configure(self, threads: int) -> None:
        super().configure(threads)
        # Read once, at import: it must be set before `import polars`.
        os.environ["POLARS_MAX_THREADS"] = str(threads)

    def start(self) -> None:
        import polars

        self.pl = polars

    def reported_threads(self) -> int:
        return self.pl.thread_pool_size()

    def query_L(self, data: Dataset) -> Any:
        df = self.pl.read_parquet(data.posts)
        return self.pl.DataFrame({"rows": [df.height]}, schema={"rows": self.pl.Int64})

    def query_A(self, data: Dataset) -> Any:
        pl = self.pl
        return (
            pl.scan_parquet(data.posts)
            .group_by("category", "location")
            .agg(
                pl.len().cast(pl.Int64).alias("posts"),
                pl.col("likes").mean().alias("avg_likes"),
                pl.col("views").sum().alias("total_views"),
                pl.col("latency").mean().alias("avg_latency"),
                pl.col("error_rate").max().alias("max_error_rate"),
            )
            .sort("category", "location")
            .collect()
        )

    def query_B(self, data: Dataset) -> Any:
        pl = self.pl
        return (
            pl.scan_parquet(data.posts)
            .select("user_id", "post_id", "likes", "views", "timestamp")
            .with_columns(running_views=pl.col("views").cum_sum().over("user_id", order_by="timestamp"))
            .sort(["user_id", "likes", "timestamp"], descending=[False, True, False])
            .with_columns(like_rank=pl.int_range(1, pl.len() + 1, dtype=pl.Int64).over("user_id"))
            .filter(pl.col("like_rank") <= B_TOP_N)
            .select("user_id", "post_id", "likes", "like_rank", "running_views")
            .collect()
        )

    def query_C(self, data: Dataset) -> Any:
        pl = self.pl
        posts = pl.scan_parquet(data.posts).filter(
            (pl.col("device") == C_DEVICE) & (pl.col("error_rate") < C_MAX_ERROR_RATE)
        )
        users = pl.scan_parquet(data.users).filter(pl.col("followers") >= C_MIN_FOLLOWERS)
        return (
            posts.join(users, on="user_id", how="inner")
            .group_by("tier", "category")
            .agg(
                pl.len().cast(pl.Int64).alias("posts"),
                pl.col("likes").sum().alias("total_likes"),
                pl.col("latency").mean().alias("avg_latency"),
            )
            .sort("tier", "category")
            .collect()
        )

    def to_arrow(self, result: Any) -> pa.Table:
        return result.to_arrow()
