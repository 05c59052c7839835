"""The built-in queries' catalogue, read from the workload.toml beside it (docs/contract.md): names, titles,
descriptions, reference SQL (`queries/<Q>.sql`) and answer schemas; the query sets each suite measures; and the
queries' parameters as constants for the DataFrame code (`dataframes.py`), which test_engines checks the SQL states.
DuckDB runs the reference SQL over the two Parquet files (as views named `posts` and `users`) for the answer every
engine is validated against.
"""

from __future__ import annotations

from pathlib import Path

from bench_pipeline.workloads.spec import WorkloadQuery, read_queries

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


# Every built-in query as the shipped workload.toml states it: SQL, title, description, answer schema.
QUERIES: dict[str, WorkloadQuery] = read_queries(Path(__file__).resolve().parent)

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

def get_query(name: str) -> WorkloadQuery:
    try:
        return QUERIES[name]
    except KeyError:
        raise ValueError(f"unknown query {name!r}; choose from {', '.join(ALL_QUERY_NAMES)}") from None
