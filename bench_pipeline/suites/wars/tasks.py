"""The suite's catalogue: each task's answer, reference, engines and how an answer is checked.

References are computed independently of the engines under test where it is
cheap to do so: DuckDB SQL for the tabular tasks (as the main suite does)
and, for the image pipeline, the manifest written when the images were made.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from bench_pipeline.harness.validate import AnswerMismatch, compare, conform
from bench_pipeline.suites.wars.data import WarsData
from bench_pipeline.workloads.spec import sql_string

ETL_SINCE = dt.datetime(2025, 1, 1)
ETL_MIN_SPEND = 100
HANDOFF_MIN_PURCHASES = 5
IMAGE_SIZE = 224
IMAGE_MEAN_TOLERANCE = 4.0  # pixel levels: resampling filters differ, the picture does not
_ORDER_RTOL = 1e-9  # engines sum floats in different orders: near-ties may swap



def _engines(*triples: tuple[str, str, str]) -> dict[str, str]:
    """(engine name, module in wars/engines, class) -> {name: 'module:Class'}."""
    return {name: f"bench_pipeline.suites.wars.engines.{module}:{cls}" for name, module, cls in triples}


@dataclass(frozen=True)
class Task:
    name: str
    title: str
    description: str
    engines: dict[str, str]  # engine name -> "module:Class"
    schema: pa.Schema
    key: tuple[str, ...]  # the columns that identify a row
    order: tuple[str, bool] | None = None  # (column, descending) the answer must be sorted by
    sql: str | None = None  # the reference, over `events` / `sales`


ETL_SQL = f"""
SELECT user_id, SUM(purchase_amount) AS total_spend, COUNT(event_id) AS event_count,
       AVG(session_duration) AS avg_session
FROM events WHERE event_date >= TIMESTAMP '{ETL_SINCE:%Y-%m-%d %H:%M:%S}'
GROUP BY user_id HAVING SUM(purchase_amount) > {ETL_MIN_SPEND}
ORDER BY total_spend DESC, user_id
"""
CSV_SQL = "SELECT region, AVG(revenue) AS avg_revenue FROM sales GROUP BY region ORDER BY region"
HANDOFF_SQL = f"""
SELECT user_id, purchases, RANK() OVER (ORDER BY purchases DESC) AS rank FROM (
  SELECT user_id, COUNT(*) AS purchases FROM events WHERE event_type = 'purchase'
  GROUP BY user_id HAVING COUNT(*) > {HANDOFF_MIN_PURCHASES})
ORDER BY rank, user_id
"""

TASKS: dict[str, Task] = {w.name: w for w in [
    Task(
        "etl", "lazy ETL chain",
        "Events since 2025-01-01, per user: spend, events, mean session; users over 100 spent; by spend.",
        _engines(("polars", "polars_wars", "PolarsWars"), ("datafusion", "datafusion_wars", "DataFusionWars"),
                 ("duckdb", "duckdb_wars", "DuckDBWars"), ("pandas", "pandas_wars", "PandasWars"),
                 ("pyspark", "spark_wars", "SparkWars")),
        pa.schema([("user_id", pa.string()), ("total_spend", pa.float64()), ("event_count", pa.int64()),
                   ("avg_session", pa.float64())]),
        key=("user_id",), order=("total_spend", True), sql=ETL_SQL),
    Task(
        "csv_groupby", "group-by on a CSV",
        "Mean revenue per region, read from sales.csv (CSV ingest, not Parquet).",
        _engines(("pandas", "pandas_wars", "PandasWars"), ("polars", "polars_wars", "PolarsWars"),
                 ("duckdb", "duckdb_wars", "DuckDBWars")),
        pa.schema([("region", pa.string()), ("avg_revenue", pa.float64())]),
        key=("region",), order=("region", False), sql=CSV_SQL),
    Task(
        "handoff", "Arrow hand-off",
        "Purchases per user (over 5), ranked: DataFusion computes, Polars ranks (to_arrow_table -> from_arrow), "
        "against the same work in one engine.",
        _engines(("datafusion_polars", "handoff", "HandoffEngine"), ("polars", "polars_wars", "PolarsWars"),
                 ("datafusion", "datafusion_wars", "DataFusionWars")),
        pa.schema([("user_id", pa.string()), ("purchases", pa.int64()), ("rank", pa.int64())]),
        key=("user_id",), order=("rank", False), sql=HANDOFF_SQL),
    Task(
        "images", "multimodal image pipeline",
        f"Download each generated image over HTTP from 127.0.0.1, decode, resize to {IMAGE_SIZE}x{IMAGE_SIZE}.",
        _engines(("pandas", "pandas_wars", "PandasWars"), ("pyspark", "spark_wars", "SparkWars"),
                 ("daft", "daft_wars", "DaftWars")),
        pa.schema([("image", pa.string()), ("width", pa.int64()), ("height", pa.int64()),
                   ("channels", pa.int64()), ("mean", pa.float64())]),
        key=("image",)),
]}
TASK_NAMES = tuple(TASKS)


def get_task(name: str) -> Task:
    try:
        return TASKS[name]
    except KeyError:
        raise ValueError(f"unknown task {name!r}; choose from {', '.join(TASK_NAMES)}") from None


def image_answer(names: list[str], arrays: list) -> pa.Table:
    """The answer of the image pipeline from each image's pixels (height x width x channels)."""
    shapes = [np.shape(a) for a in arrays]
    return pa.table({
        "image": pa.array(names, pa.string()),
        "width": pa.array([s[1] for s in shapes], pa.int64()),
        "height": pa.array([s[0] for s in shapes], pa.int64()),
        "channels": pa.array([s[2] if len(s) > 2 else 1 for s in shapes], pa.int64()),
        "mean": pa.array([float(np.asarray(a, dtype=np.float64).mean()) for a in arrays], pa.float64()),
    })


@functools.lru_cache(maxsize=16)
def _reference(name: str, root: str, fingerprint: str) -> pa.Table:
    data = WarsData(Path(root))
    w = get_task(name)
    if name == "images":
        import pyarrow.csv as pacsv  # pyarrow: only where it is used

        manifest = pacsv.read_csv(data.manifest)
        n = manifest.num_rows
        return pa.table({"image": manifest["image"].cast(pa.string()),
                         "width": pa.array([IMAGE_SIZE] * n, pa.int64()),
                         "height": pa.array([IMAGE_SIZE] * n, pa.int64()),
                         "channels": pa.array([3] * n, pa.int64()),
                         "mean": manifest["mean"].cast(pa.float64())})
    import duckdb  # duckdb: only where it is used

    con = duckdb.connect()
    try:
        con.execute(f"CREATE VIEW events AS SELECT * FROM read_parquet({sql_string(data.events)})")
        con.execute(f"CREATE VIEW sales AS SELECT * FROM read_csv({sql_string(data.sales)})")
        return conform(con.sql(w.sql).to_arrow_table(), w.schema)
    finally:
        con.close()


def reference(name: str, data: WarsData) -> pa.Table:
    return _reference(name, str(data.root), data.fingerprint())


def _check_order(answer: pa.Table, column: str, descending: bool) -> None:
    kind = answer.schema.field(column).type
    if pa.types.is_floating(kind) or pa.types.is_integer(kind):
        values = answer[column].to_numpy(zero_copy_only=False)
        step = np.diff(values.astype(np.float64))
        slack = _ORDER_RTOL * np.abs(values[1:]).astype(np.float64)
        bad = np.flatnonzero(step > slack) if descending else np.flatnonzero(step < -slack)
    else:
        v = answer[column].to_pylist()
        bad = [i for i in range(len(v) - 1) if (v[i] < v[i + 1] if descending else v[i] > v[i + 1])]
    if len(bad):
        i = int(bad[0])
        raise AnswerMismatch(f"not sorted by {column}{' descending' if descending else ''}: row {i + 1} "
                             f"({answer[column][i + 1].as_py()!r}) after {answer[column][i].as_py()!r}")


def validate_task(name: str, answer: pa.Table, data: WarsData) -> pa.Table:
    """Return the answer in the contract's types; raise AnswerMismatch unless it is the reference answer.

    Rows are matched by the task's key, and the answer's own order is
    checked separately: near-equal float sums may legitimately swap places.
    """
    w = get_task(name)
    answer = conform(answer, w.schema)
    want = reference(name, data)
    if w.order:
        _check_order(answer, *w.order)
    keys = [(k, "ascending") for k in w.key]
    got, want = answer.sort_by(keys), want.sort_by(keys)
    if name != "images":
        compare(got, want)
        return answer
    missing = sorted(set(want["image"].to_pylist()) - set(got["image"].to_pylist()))
    if missing or got.num_rows != want.num_rows:
        raise AnswerMismatch(f"{got.num_rows} images, expected {want.num_rows}; missing: {missing[:5]}")
    compare(got.select(["image", "width", "height", "channels"]), want.select(["image", "width", "height", "channels"]))
    off = pc.abs(pc.subtract(got["mean"], want["mean"])).to_numpy(zero_copy_only=False)
    bad = np.flatnonzero(off > IMAGE_MEAN_TOLERANCE)
    if len(bad):
        i = int(bad[0])
        raise AnswerMismatch(f"{len(bad)} images differ from their originals, first {got['image'][i].as_py()}: "
                             f"mean {got['mean'][i].as_py():.1f}, expected {want['mean'][i].as_py():.1f}")
    return answer
