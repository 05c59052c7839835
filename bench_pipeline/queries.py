"""The query catalogue: names, descriptions, reference SQL and answer schemas (docs/contract.md).

The reference SQL is run by DuckDB over the two Parquet files (as views named
`posts` and `users`) to produce the answer every engine is validated against.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa


@dataclass(frozen=True)
class Query:
    name: str
    title: str
    description: str
    sql: str
    schema: pa.Schema  # the answer's columns, in order, with their contract types


# The filter parameters of query C, shared by every engine's implementation and the reference SQL.
C_DEVICE = "Mobile"
C_MAX_ERROR_RATE = 0.1
C_MIN_FOLLOWERS = 1000
B_TOP_N = 3
# The filter of query F.
F_CATEGORY = "Tech"
F_DEVICE = "Mobile"
F_MIN_LIKES = 9000
F_COLUMNS = ("post_id", "user_id", "likes", "views", "timestamp")


def sql_string(value) -> str:
    """A value (a file path) as a SQL string literal, quotes doubled."""
    return "'" + str(value).replace("'", "''") + "'"


QUERIES: dict[str, Query] = {
    q.name: q
    for q in [
        Query(
            "L",
            "load",
            "Read the whole posts table into the engine's memory and count its rows.",
            "SELECT COUNT(*) AS rows FROM posts",
            pa.schema([("rows", pa.int64())]),
        ),
        Query(
            "A",
            "aggregation",
            "Posts, likes, views, latency and worst error rate per category and location.",
            """
            SELECT category, location, COUNT(*) AS posts, AVG(likes) AS avg_likes,
                   SUM(views) AS total_views, AVG(latency) AS avg_latency,
                   MAX(error_rate) AS max_error_rate
            FROM posts GROUP BY category, location ORDER BY category, location
            """,
            pa.schema(
                [
                    ("category", pa.string()),
                    ("location", pa.string()),
                    ("posts", pa.int64()),
                    ("avg_likes", pa.float64()),
                    ("total_views", pa.int64()),
                    ("avg_latency", pa.float64()),
                    ("max_error_rate", pa.float64()),
                ]
            ),
        ),
        Query(
            "B",
            "window",
            "Each user's three most liked posts, with the user's running total of views at that post.",
            f"""
            WITH ranked AS (
              SELECT user_id, post_id, likes,
                     ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY likes DESC, timestamp ASC) AS like_rank,
                     SUM(views) OVER (PARTITION BY user_id ORDER BY timestamp
                                      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS running_views
              FROM posts)
            SELECT user_id, post_id, likes, like_rank, running_views
            FROM ranked WHERE like_rank <= {B_TOP_N} ORDER BY user_id, like_rank
            """,
            pa.schema(
                [
                    ("user_id", pa.int64()),
                    ("post_id", pa.string()),
                    ("likes", pa.int64()),
                    ("like_rank", pa.int64()),
                    ("running_views", pa.int64()),
                ]
            ),
        ),
        Query(
            "C",
            "join",
            "Mobile posts with few errors by well-followed users, per user tier and category.",
            f"""
            SELECT u.tier, p.category, COUNT(*) AS posts, SUM(p.likes) AS total_likes,
                   AVG(p.latency) AS avg_latency
            FROM posts p JOIN users u ON p.user_id = u.user_id
            WHERE p.device = {sql_string(C_DEVICE)} AND p.error_rate < {C_MAX_ERROR_RATE}
              AND u.followers >= {C_MIN_FOLLOWERS}
            GROUP BY u.tier, p.category ORDER BY u.tier, p.category
            """,
            pa.schema(
                [
                    ("tier", pa.string()),
                    ("category", pa.string()),
                    ("posts", pa.int64()),
                    ("total_likes", pa.int64()),
                    ("avg_latency", pa.float64()),
                ]
            ),
        ),
        Query(
            "F",
            "selective filter",
            "The few popular mobile Tech posts (about 0.5 % of rows), five columns, in time order.",
            f"""
            SELECT {', '.join(F_COLUMNS)}
            FROM posts
            WHERE category = {sql_string(F_CATEGORY)} AND device = {sql_string(F_DEVICE)} AND likes >= {F_MIN_LIKES}
            ORDER BY timestamp
            """,
            pa.schema(
                [
                    ("post_id", pa.string()),
                    ("user_id", pa.int64()),
                    ("likes", pa.int64()),
                    ("views", pa.int64()),
                    ("timestamp", pa.timestamp("us")),
                ]
            ),
        ),
    ]
}

# The query sets the suites measure: every suite reads its set from here.
ALL_QUERY_NAMES: tuple[str, ...] = tuple(QUERIES)
QUERY_NAMES: tuple[str, ...] = ("L", "A", "B", "C")  # the engine x threads grid (and the cluster)
# L only loads the table: the grid's "queries" total sums the others, and the limits suite reads its
# completion as out-of-core evidence (the whole table kept by the engine).
LOAD_QUERY = "L"
SUMMED_QUERIES: tuple[str, ...] = tuple(q for q in QUERY_NAMES if q != LOAD_QUERY)
SWEEP_QUERIES: tuple[str, ...] = QUERY_NAMES  # the limits suite's size sweep under a memory budget
# F (a selective filter) is measured where pushdown is the subject: Polars' execution modes.
MODE_QUERIES: tuple[str, ...] = ("F", "A", "B", "C")

def get_query(name: str) -> Query:
    try:
        return QUERIES[name]
    except KeyError:
        raise ValueError(f"unknown query {name!r}; choose from {', '.join(ALL_QUERY_NAMES)}") from None
