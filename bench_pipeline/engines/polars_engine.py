"""Polars: lazy scans with projection and predicate pushdown, collected at the end.

Each query is built by `frame_<Q>` from `_scan` sources and finished by
`finish`, so the execution modes in `polars_modes.py` differ from this one in
those two places only, and `plan()` shows the optimized plan that is executed.
"""

from __future__ import annotations

import os
from typing import Any

import pyarrow as pa

from bench_pipeline.dataset import Dataset
from bench_pipeline.engines.base import Engine
from bench_pipeline.queries import (
    B_TOP_N,
    C_DEVICE,
    C_MAX_ERROR_RATE,
    C_MIN_FOLLOWERS,
    F_CATEGORY,
    F_COLUMNS,
    F_DEVICE,
    F_MIN_LIKES,
)


class PolarsEngine(Engine):
    name = "polars"
    distribution = "polars"
    modes = {"eager": "polars-eager", "lazy": "polars", "streaming": "polars-streaming"}
    lab_claims = {"optimizer": True, "distributed": False, "arrow": True, "out_of_core": True, "parallel": True,
                  "apis": "DataFrame", "gpu": "optional"}
    collect_engine = "auto"  # the default in-memory engine

    def configure(self, threads: int) -> None:
        super().configure(threads)
        # Read once, at import: it must be set before `import polars`.
        os.environ["POLARS_MAX_THREADS"] = str(threads)

    def start(self) -> None:
        import polars

        self.pl = polars

    def reported_threads(self) -> int:
        return self.pl.thread_pool_size()

    def _scan(self, path):
        return self.pl.scan_parquet(path)

    def finish(self, lf) -> Any:
        return lf.collect(engine=self.collect_engine)

    def plan(self, query: str, data: Dataset) -> str | None:
        frame = getattr(self, f"frame_{query}", None)
        return frame(data).explain(engine=self.collect_engine) if frame else None

    def query_L(self, data: Dataset) -> Any:
        df = self.pl.read_parquet(data.posts)
        return self.pl.DataFrame({"rows": [df.height]}, schema={"rows": self.pl.Int64})

    def frame_A(self, data: Dataset):
        pl = self.pl
        return (
            self._scan(data.posts)
            .group_by("category", "location")
            .agg(
                pl.len().cast(pl.Int64).alias("posts"),
                pl.col("likes").mean().alias("avg_likes"),
                pl.col("views").sum().alias("total_views"),
                pl.col("latency").mean().alias("avg_latency"),
                pl.col("error_rate").max().alias("max_error_rate"),
            )
            .sort("category", "location")
        )

    def frame_B(self, data: Dataset):
        pl = self.pl
        return (
            self._scan(data.posts)
            .select("user_id", "post_id", "likes", "views", "timestamp")
            .with_columns(running_views=pl.col("views").cum_sum().over("user_id", order_by="timestamp"))
            .sort(["user_id", "likes", "timestamp"], descending=[False, True, False])
            .with_columns(like_rank=pl.int_range(1, pl.len() + 1, dtype=pl.Int64).over("user_id"))
            .filter(pl.col("like_rank") <= B_TOP_N)
            .select("user_id", "post_id", "likes", "like_rank", "running_views")
        )

    def frame_C(self, data: Dataset):
        pl = self.pl
        posts = self._scan(data.posts).filter(
            (pl.col("device") == C_DEVICE) & (pl.col("error_rate") < C_MAX_ERROR_RATE)
        )
        users = self._scan(data.users).filter(pl.col("followers") >= C_MIN_FOLLOWERS)
        return (
            posts.join(users, on="user_id", how="inner")
            .group_by("tier", "category")
            .agg(
                pl.len().cast(pl.Int64).alias("posts"),
                pl.col("likes").sum().alias("total_likes"),
                pl.col("latency").mean().alias("avg_latency"),
            )
            .sort("tier", "category")
        )

    def frame_F(self, data: Dataset):
        pl = self.pl
        return (
            self._scan(data.posts)
            .filter((pl.col("category") == F_CATEGORY) & (pl.col("device") == F_DEVICE)
                    & (pl.col("likes") >= F_MIN_LIKES))
            .select(*F_COLUMNS)
            .sort("timestamp")
        )

    def to_arrow(self, result: Any) -> pa.Table:
        return result.to_arrow()
