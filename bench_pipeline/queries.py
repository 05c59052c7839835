"""The query catalogue: names, descriptions, reference SQL and answer schemas (docs/contract.md).

The queries are the built-in workload's (workloads/social/): each one's SQL is its file there, `queries/<Q>.sql`,
and each DataFrame engine's code is a function in its `dataframes.py`. The reference SQL is run by DuckDB over the
two Parquet files (as views named `posts` and `users`) to produce the answer every engine is validated against.
The constants below are the queries' parameters, for the DataFrame code; test_engines checks the SQL states them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

SQL_DIR = Path(__file__).resolve().parent / "workloads" / "social" / "queries"


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


def _sql(name: str) -> str:
    return (SQL_DIR / f"{name}.sql").read_text()


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
            _sql("L"),
            pa.schema([("rows", pa.int64())]),
        ),
        Query(
            "A",
            "aggregation",
            "Posts, likes, views, latency and worst error rate per category and location.",
            _sql("A"),
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
            _sql("B"),
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
            _sql("C"),
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
            _sql("F"),
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
