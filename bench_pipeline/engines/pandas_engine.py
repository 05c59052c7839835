"""pandas: read the needed columns into DataFrames and use groupby / merge."""

from __future__ import annotations

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


class PandasEngine(Engine):
    name = "pandas"
    distribution = "pandas"
    role = "baseline"
    lab_claims = {"optimizer": False, "distributed": False, "arrow": "optional >= 2.0", "out_of_core": False,
                  "parallel": False, "apis": "DataFrame", "gpu": False}
    # Its Parquet reader and thread pool are pyarrow's: a new pyarrow is a new engine too.
    extra_distributions = ("pyarrow",)

    def start(self) -> None:
        import pandas
        import pyarrow

        # pandas computes on one thread; its Parquet reader is pyarrow's, whose
        # pool is the only thread setting that applies.
        pyarrow.set_cpu_count(self.threads)
        pyarrow.set_io_thread_count(max(self.threads, 1))
        self.pd = pandas
        self.pa = pyarrow

    def reported_threads(self) -> int:
        return self.pa.cpu_count()

    def query_L(self, data: Dataset) -> Any:
        df = self.pd.read_parquet(data.posts)
        return self.pd.DataFrame({"rows": [len(df)]}, dtype="int64")

    def query_A(self, data: Dataset) -> Any:
        cols = ["category", "location", "likes", "views", "latency", "error_rate"]
        df = self.pd.read_parquet(data.posts, columns=cols)
        return (
            df.groupby(["category", "location"], sort=True)
            .agg(
                posts=("likes", "size"),
                avg_likes=("likes", "mean"),
                total_views=("views", "sum"),
                avg_latency=("latency", "mean"),
                max_error_rate=("error_rate", "max"),
            )
            .reset_index()
        )

    def query_B(self, data: Dataset) -> Any:
        df = self.pd.read_parquet(data.posts, columns=["user_id", "post_id", "likes", "views", "timestamp"])
        df = df.sort_values(["user_id", "timestamp"], kind="stable")
        df["running_views"] = df.groupby("user_id", sort=False)["views"].cumsum()
        df = df.sort_values(["user_id", "likes", "timestamp"], ascending=[True, False, True], kind="stable")
        df["like_rank"] = df.groupby("user_id", sort=False).cumcount() + 1
        top = df[df["like_rank"] <= B_TOP_N]
        return top[["user_id", "post_id", "likes", "like_rank", "running_views"]].reset_index(drop=True)

    def query_C(self, data: Dataset) -> Any:
        pd = self.pd
        posts = pd.read_parquet(data.posts, columns=["user_id", "category", "likes", "latency", "device", "error_rate"])
        posts = posts[(posts["device"] == C_DEVICE) & (posts["error_rate"] < C_MAX_ERROR_RATE)]
        users = pd.read_parquet(data.users, columns=["user_id", "tier", "followers"])
        users = users[users["followers"] >= C_MIN_FOLLOWERS]
        joined = posts.merge(users, on="user_id", how="inner")
        return (
            joined.groupby(["tier", "category"], sort=True)
            .agg(posts=("likes", "size"), total_likes=("likes", "sum"), avg_latency=("latency", "mean"))
            .reset_index()
        )

    def query_F(self, data: Dataset) -> Any:
        df = self.pd.read_parquet(data.posts, columns=[*F_COLUMNS, "category", "device"])
        hit = df[(df["category"] == F_CATEGORY) & (df["device"] == F_DEVICE) & (df["likes"] >= F_MIN_LIKES)]
        return hit[list(F_COLUMNS)].sort_values("timestamp", kind="stable").reset_index(drop=True)

    def to_arrow(self, result: Any) -> pa.Table:
        return pa.Table.from_pandas(result, preserve_index=False)
