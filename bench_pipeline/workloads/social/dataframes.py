"""The built-in benchmark's DataFrame implementations: each engine's own code for L, A, B, C and F.

Every function hands the query to the engine's implementation in bench_pipeline/engines/ (the code the grid
suite measures), so `run --workload social` and the grid measure the same thing. A workload of your own
writes its DataFrame code here instead (see examples/workloads/shop/dataframes.py).
"""

from bench_pipeline.workloads.social import engine_code


def pandas_L(tables):
    return engine_code(tables, "L")


def pandas_A(tables):
    return engine_code(tables, "A")


def pandas_B(tables):
    return engine_code(tables, "B")


def pandas_C(tables):
    return engine_code(tables, "C")


def pandas_F(tables):
    return engine_code(tables, "F")


def polars_L(tables):
    return engine_code(tables, "L")


def polars_A(tables):
    return engine_code(tables, "A")


def polars_B(tables):
    return engine_code(tables, "B")


def polars_C(tables):
    return engine_code(tables, "C")


def polars_F(tables):
    return engine_code(tables, "F")


def pyspark_L(tables):
    return engine_code(tables, "L")


def pyspark_A(tables):
    return engine_code(tables, "A")


def pyspark_B(tables):
    return engine_code(tables, "B")


def pyspark_C(tables):
    return engine_code(tables, "C")


def pyspark_F(tables):
    return engine_code(tables, "F")


def daft_L(tables):
    return engine_code(tables, "L")


def daft_A(tables):
    return engine_code(tables, "A")


def daft_B(tables):
    return engine_code(tables, "B")


def daft_C(tables):
    return engine_code(tables, "C")


def daft_F(tables):
    return engine_code(tables, "F")


# DuckDB and DataFusion load L into memory with their own statements (a plain COUNT(*) would read only the
# Parquet footer); A, B, C and F they answer from the workload's SQL, as in the grid.
def duckdb_L(tables):
    return engine_code(tables, "L", api="sql")


def datafusion_L(tables):
    return engine_code(tables, "L", api="sql")
