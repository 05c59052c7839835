"""The built-in benchmark's DataFrame code: each engine's own implementation of L, A, B, C and F.

A function `<engine>_<query>(tables)` gets the workload's tables as the engine's native frames (`tables["posts"]`;
what they are is the engine's `read_table`: a lazy scan for Polars, Spark and Daft), the files they come from
(`tables.paths`, for code that reads with its own options) and the running engine (`tables.engine`: its library,
session or connection). It returns its answer, or a lazy query that the engine computes (`collect`, timed with
it). A query without a function for an engine runs its SQL (queries/<Q>.sql): DuckDB and DataFusion answer A, B,
C and F that way. Every answer is checked against DuckDB's answer to the same SQL.

The functions of COMPUTED compute their answer themselves (loading the whole table is what L measures): there
is no lazy query to show, so an engine's plan of them is the plan of their SQL.
"""

import pyarrow as pa

from bench_pipeline.workloads.social.catalogue import (
    B_TOP_N,
    C_DEVICE,
    C_MAX_ERROR_RATE,
    C_MIN_FOLLOWERS,
    F_CATEGORY,
    F_COLUMNS,
    F_DEVICE,
    F_MIN_LIKES,
)
from bench_pipeline.workloads.spec import sql_string

COMPUTED = ("L",)


# -- pandas: read the columns a query needs, then groupby / merge ---------------------------------------------

def pandas_L(tables):
    pd = tables.engine.pd
    df = pd.read_parquet(tables.paths["posts"])
    return pd.DataFrame({"rows": [len(df)]}, dtype="int64")


def pandas_A(tables):
    cols = ["category", "location", "likes", "views", "latency", "error_rate"]
    df = tables.engine.pd.read_parquet(tables.paths["posts"], columns=cols)
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


def pandas_B(tables):
    df = tables.engine.pd.read_parquet(tables.paths["posts"],
                                       columns=["user_id", "post_id", "likes", "views", "timestamp"])
    df = df.sort_values(["user_id", "timestamp"], kind="stable")
    df["running_views"] = df.groupby("user_id", sort=False)["views"].cumsum()
    df = df.sort_values(["user_id", "likes", "timestamp"], ascending=[True, False, True], kind="stable")
    df["like_rank"] = df.groupby("user_id", sort=False).cumcount() + 1
    top = df[df["like_rank"] <= B_TOP_N]
    return top[["user_id", "post_id", "likes", "like_rank", "running_views"]].reset_index(drop=True)


def pandas_C(tables):
    pd = tables.engine.pd
    posts = pd.read_parquet(tables.paths["posts"],
                            columns=["user_id", "category", "likes", "latency", "device", "error_rate"])
    posts = posts[(posts["device"] == C_DEVICE) & (posts["error_rate"] < C_MAX_ERROR_RATE)]
    users = pd.read_parquet(tables.paths["users"], columns=["user_id", "tier", "followers"])
    users = users[users["followers"] >= C_MIN_FOLLOWERS]
    joined = posts.merge(users, on="user_id", how="inner")
    return (
        joined.groupby(["tier", "category"], sort=True)
        .agg(posts=("likes", "size"), total_likes=("likes", "sum"), avg_latency=("latency", "mean"))
        .reset_index()
    )


def pandas_F(tables):
    df = tables.engine.pd.read_parquet(tables.paths["posts"], columns=[*F_COLUMNS, "category", "device"])
    hit = df[(df["category"] == F_CATEGORY) & (df["device"] == F_DEVICE) & (df["likes"] >= F_MIN_LIKES)]
    return hit[list(F_COLUMNS)].sort_values("timestamp", kind="stable").reset_index(drop=True)


# -- Polars: lazy scans with projection and predicate pushdown (eager and streaming: the engine's modes) ------

def polars_L(tables):
    pl = tables.engine.pl
    df = tables.engine.load(tables.paths["posts"])  # the whole table, in the engine's mode
    return pl.DataFrame({"rows": [df.height]}, schema={"rows": pl.Int64})


def polars_A(tables):
    pl = tables.engine.pl
    return (
        tables["posts"]
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


def polars_B(tables):
    pl = tables.engine.pl
    return (
        tables["posts"]
        .select("user_id", "post_id", "likes", "views", "timestamp")
        .with_columns(running_views=pl.col("views").cum_sum().over("user_id", order_by="timestamp"))
        .sort(["user_id", "likes", "timestamp"], descending=[False, True, False])
        .with_columns(like_rank=pl.int_range(1, pl.len() + 1, dtype=pl.Int64).over("user_id"))
        .filter(pl.col("like_rank") <= B_TOP_N)
        .select("user_id", "post_id", "likes", "like_rank", "running_views")
    )


def polars_C(tables):
    pl = tables.engine.pl
    posts = tables["posts"].filter((pl.col("device") == C_DEVICE) & (pl.col("error_rate") < C_MAX_ERROR_RATE))
    users = tables["users"].filter(pl.col("followers") >= C_MIN_FOLLOWERS)
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


def polars_F(tables):
    pl = tables.engine.pl
    return (
        tables["posts"]
        .filter((pl.col("category") == F_CATEGORY) & (pl.col("device") == F_DEVICE)
                & (pl.col("likes") >= F_MIN_LIKES))
        .select(*F_COLUMNS)
        .sort("timestamp")
    )


# -- PySpark: the DataFrame API, collected to Arrow ----------------------------------------------------------

def pyspark_L(tables):
    df = tables["posts"].cache()
    tables.engine.keep_until_next_run(df)  # the cached table is dropped after the run, untimed
    return df.count()


def pyspark_A(tables):
    F = tables.engine.F
    return (
        tables["posts"]
        .groupBy("category", "location")
        .agg(
            F.count("*").alias("posts"),
            F.avg("likes").alias("avg_likes"),
            F.sum("views").alias("total_views"),
            F.avg("latency").alias("avg_latency"),
            F.max("error_rate").alias("max_error_rate"),
        )
        .orderBy("category", "location")
    )


def pyspark_B(tables):
    F, W = tables.engine.F, tables.engine.Window
    by_likes = W.partitionBy("user_id").orderBy(F.desc("likes"), F.asc("timestamp"))
    running = W.partitionBy("user_id").orderBy("timestamp").rowsBetween(W.unboundedPreceding, W.currentRow)
    return (
        tables["posts"]
        .select(
            "user_id",
            "post_id",
            "likes",
            F.row_number().over(by_likes).cast("long").alias("like_rank"),
            F.sum("views").over(running).alias("running_views"),
        )
        .where(F.col("like_rank") <= B_TOP_N)
        .orderBy("user_id", "like_rank")
    )


def pyspark_C(tables):
    F = tables.engine.F
    posts = tables["posts"].where((F.col("device") == C_DEVICE) & (F.col("error_rate") < C_MAX_ERROR_RATE))
    users = tables["users"].where(F.col("followers") >= C_MIN_FOLLOWERS)
    return (
        posts.join(users, "user_id")
        .groupBy("tier", "category")
        .agg(
            F.count("*").alias("posts"),
            F.sum("likes").alias("total_likes"),
            F.avg("latency").alias("avg_latency"),
        )
        .orderBy("tier", "category")
    )


def pyspark_F(tables):
    F = tables.engine.F
    return (
        tables["posts"]
        .where((F.col("category") == F_CATEGORY) & (F.col("device") == F_DEVICE)
               & (F.col("likes") >= F_MIN_LIKES))
        .select(*F_COLUMNS)
        .orderBy("timestamp")
    )


# -- Daft: lazy DataFrames, collected by its native or Ray runner ---------------------------------------------

def daft_L(tables):
    df = tables["posts"].collect()
    return pa.table({"rows": pa.array([len(df)], pa.int64())})


def daft_A(tables):
    col = tables.engine.daft.col
    return (
        tables["posts"]
        .groupby("category", "location")
        .agg(
            col("likes").count(mode="all").alias("posts"),
            col("likes").mean().alias("avg_likes"),
            col("views").sum().alias("total_views"),
            col("latency").mean().alias("avg_latency"),
            col("error_rate").max().alias("max_error_rate"),
        )
        .sort(["category", "location"])
    )


def daft_B(tables):
    daft = tables.engine.daft
    col = daft.col
    from daft.functions import row_number  # daft: optional (an extra)

    by_likes = daft.Window().partition_by("user_id").order_by("likes", "timestamp", desc=[True, False])
    running = (daft.Window().partition_by("user_id").order_by("timestamp")
               .rows_between(daft.Window.unbounded_preceding, daft.Window.current_row))
    return (
        tables["posts"]
        .select(
            "user_id", "post_id", "likes",
            row_number().over(by_likes).cast(daft.DataType.int64()).alias("like_rank"),
            col("views").sum().over(running).alias("running_views"),
        )
        .where(col("like_rank") <= B_TOP_N)
        .sort(["user_id", "like_rank"])
    )


def daft_C(tables):
    col = tables.engine.daft.col
    posts = tables["posts"].where((col("device") == C_DEVICE) & (col("error_rate") < C_MAX_ERROR_RATE))
    users = tables["users"].where(col("followers") >= C_MIN_FOLLOWERS)
    return (
        posts.join(users, on="user_id")
        .groupby("tier", "category")
        .agg(
            col("likes").count(mode="all").alias("posts"),
            col("likes").sum().alias("total_likes"),
            col("latency").mean().alias("avg_latency"),
        )
        .sort(["tier", "category"])
        .select("tier", "category", "posts", "total_likes", "avg_latency")
    )


def daft_F(tables):
    col = tables.engine.daft.col
    return (
        tables["posts"]
        .where((col("category") == F_CATEGORY) & (col("device") == F_DEVICE) & (col("likes") >= F_MIN_LIKES))
        .select(*F_COLUMNS)
        .sort("timestamp")
    )


# -- the SQL engines' L: the whole table in the engine's memory, then its count ------------------------------

def duckdb_L(tables):
    tables.engine.api = "sql"  # SQL statements of its own, not a DataFrame API
    con = tables.engine.con
    con.execute("CREATE OR REPLACE TABLE posts_mem AS SELECT * FROM "
                f"read_parquet({sql_string(tables.paths['posts'])})")
    return con.sql("SELECT COUNT(*) AS rows FROM posts_mem").to_arrow_table()


def datafusion_L(tables):
    tables.engine.api = "sql"
    ctx = tables.engine.ctx
    ctx.sql(f"CREATE OR REPLACE EXTERNAL TABLE posts_file STORED AS PARQUET LOCATION "
            f"{sql_string(tables.paths['posts'])}")
    ctx.sql("CREATE OR REPLACE TABLE posts_mem AS SELECT * FROM posts_file").collect()
    return ctx.sql("SELECT COUNT(*) AS rows FROM posts_mem").to_arrow_table()
