"""The engines on a user's workload: each registered engine's own SQL interface, or the workload's DataFrame code.

A workload engine is the registered engine (same thread setting, start-up, memory
limits, versions) with `run` replaced: where the workload's `dataframes.py` has
`<engine>_<query>(tables)` it runs that, with `tables` the engine's native frames;
otherwise it runs the query's SQL, translated from DuckDB's dialect by sqlglot
where the engine speaks another (a per-engine override in workload.toml is used as
written). Planning the SQL (parse, bind) is timed with the run, but a failure
there is `Unsupported`: the engine rejected the text, it did not fail running it.

The worker gets the workload folder as its `--data`; the engine reads
workload.toml from it once per process.
"""

from __future__ import annotations

import functools
import importlib.util
from typing import Any

import pyarrow as pa

from bench_pipeline.engines.base import Unsupported
from bench_pipeline.engines.daft_engine import DaftEngine
from bench_pipeline.engines.datafusion_engine import DataFusionEngine
from bench_pipeline.engines.duckdb_engine import DuckDBEngine
from bench_pipeline.engines.pandas_engine import PandasEngine
from bench_pipeline.engines.polars_engine import PolarsEngine
from bench_pipeline.engines.spark_engine import SparkEngine
from bench_pipeline.workloads.spec import Table, Workload, load_workload


@functools.cache
def _load(root: str) -> Workload:
    return load_workload(root)


@functools.cache
def _dataframes(root: str):
    w = _load(root)
    if w.dataframes is None:
        return None
    spec = importlib.util.spec_from_file_location(f"bench_workload_{w.name.replace('-', '_')}", w.dataframes)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@functools.cache
def _translated(sql: str, dialect: str) -> str:
    """Translated once per process: only the cold run pays for it (milliseconds), the warm runs do not."""
    import sqlglot

    try:
        return sqlglot.transpile(sql, read="duckdb", write=dialect)[0]
    except sqlglot.errors.SqlglotError as exc:
        raise Unsupported(f"the SQL cannot be translated to {dialect}: {exc}") from None


def hive_keys(t: Table) -> list[tuple[str, pa.DataType]]:
    """A Hive-partitioned folder's keys, typed as DuckDB reads them: whole numbers as BIGINT, else VARCHAR."""
    values: dict[str, set[str]] = {}
    for f in t.files:
        for part in f.relative_to(t.root).parts[:-1]:
            if "=" in part:
                k, v = part.split("=", 1)
                values.setdefault(k, set()).add(v)
    return [(k, pa.int64() if all(v.lstrip("-").isdigit() for v in vs) else pa.string())
            for k, vs in values.items()]


class WorkloadMixin:
    """`run` for a workload; a subclass says its SQL dialect (sqlglot's name) and how it reads and plans."""

    dialect: str = "duckdb"
    name: str
    api: str | None = None  # "sql" or "dataframe", once a run chose

    def run(self, query: str, data) -> Any:
        w = _load(str(data.root))
        module = _dataframes(str(data.root))
        impl = getattr(module, f"{self.name}_{query}", None) if module is not None else None
        if impl is not None:
            self.api = "dataframe"
            return self.collect(impl(self.tables(w)))
        q = w.query(query)
        sql = q.overrides.get(self.name) or self.translate(q.sql)
        try:
            planned = self.plan_sql(w, sql)
        except Unsupported:
            raise
        except Exception as exc:  # noqa: BLE001 - the engine's own parse/planning error types
            text = " ".join(str(exc).split())  # one line: engines print plans and hints over many
            raise Unsupported(f"{self.name} rejected the SQL of {query}: {type(exc).__name__}: {text[:600]}") \
                from None
        self.api = "sql"
        return self.collect(planned)

    def run_checks(self, result: Any) -> dict:
        """Recorded with every run (the store's `checks`): which API was measured."""
        return {"api": self.api}

    def translate(self, sql: str) -> str:
        return sql if self.dialect == "duckdb" else _translated(sql, self.dialect)

    def tables(self, w: Workload) -> dict[str, Any]:
        raise Unsupported(f"{self.name} has no DataFrame implementation here")

    def plan_sql(self, w: Workload, sql: str) -> Any:
        raise Unsupported(f"{self.name} has no SQL interface; give {self.name}_<query>(tables) in dataframes.py")

    def collect(self, result: Any) -> Any:
        return result

    def plan(self, query: str, data) -> str | None:
        return None


class DuckDBWorkload(WorkloadMixin, DuckDBEngine):
    def tables(self, w: Workload) -> dict[str, Any]:
        from bench_pipeline.workloads.reference import duckdb_source

        return {t.name: self.con.sql(f"SELECT * FROM {duckdb_source(t)}") for t in w.tables.values()}

    def plan_sql(self, w: Workload, sql: str) -> Any:
        from bench_pipeline.workloads.reference import duckdb_views

        duckdb_views(self.con, w)
        return self.con.sql(sql)  # parsed and bound here: a failure is the text's

    def collect(self, result: Any) -> Any:
        return result.to_arrow_table() if hasattr(result, "to_arrow_table") else result


class PolarsWorkload(WorkloadMixin, PolarsEngine):
    dialect = "postgres"

    def tables(self, w: Workload) -> dict[str, Any]:
        pl = self.pl
        return {t.name: (pl.scan_csv(t.pattern, try_parse_dates=True) if t.kind == "csv" else
                         pl.scan_parquet(t.pattern, hive_partitioning=t.hive)) for t in w.tables.values()}

    def plan_sql(self, w: Workload, sql: str) -> Any:
        frame = self.pl.SQLContext(frames=self.tables(w)).execute(sql, eager=False)
        frame.collect_schema()  # resolves the plan: an unknown function fails here, not in collect()
        return frame

    def collect(self, result: Any) -> Any:
        return result.collect() if hasattr(result, "collect") else result


class DataFusionWorkload(WorkloadMixin, DataFusionEngine):
    dialect = "postgres"

    def _register(self, w: Workload) -> None:
        for t in w.tables.values():
            if self.ctx.table_exist(t.name):
                continue
            if t.kind == "csv":
                self.ctx.register_csv(t.name, t.pattern, has_header=True)
            else:
                self.ctx.register_parquet(t.name, t.pattern, table_partition_cols=hive_keys(t) if t.hive else [])

    def tables(self, w: Workload) -> dict[str, Any]:
        self._register(w)
        return {t: self.ctx.table(t) for t in w.tables}

    def plan_sql(self, w: Workload, sql: str) -> Any:
        self._register(w)
        return self.ctx.sql(sql)

    def collect(self, result: Any) -> Any:
        return result.to_arrow_table() if hasattr(result, "to_arrow_table") else result


class SparkWorkload(WorkloadMixin, SparkEngine):
    dialect = "spark"

    def tables(self, w: Workload) -> dict[str, Any]:
        read = self.spark.read
        return {t.name: (read.option("header", True).option("inferSchema", True).csv(t.pattern) if t.kind == "csv"
                         else read.parquet(t.pattern)) for t in w.tables.values()}

    def plan_sql(self, w: Workload, sql: str) -> Any:
        for name, frame in self.tables(w).items():
            frame.createOrReplaceTempView(name)
        return self.spark.sql(sql)  # parsed and analysed here

    def collect(self, result: Any) -> Any:
        return result.toArrow() if hasattr(result, "toArrow") else result


class DaftWorkload(WorkloadMixin, DaftEngine):
    def tables(self, w: Workload) -> dict[str, Any]:
        daft = self.daft
        return {t.name: (daft.read_csv(t.pattern) if t.kind == "csv" else
                         daft.read_parquet(t.pattern if not t.root.is_dir() else f"{t.pattern}/**/*.parquet",
                                           hive_partitioning=t.hive)) for t in w.tables.values()}

    def plan_sql(self, w: Workload, sql: str) -> Any:
        return self.daft.sql(sql, **self.tables(w))

    def collect(self, result: Any) -> Any:
        return result.to_arrow() if hasattr(result, "to_arrow") else result


class PandasWorkload(WorkloadMixin, PandasEngine):
    def tables(self, w: Workload) -> dict[str, Any]:
        pd = self.pd
        return {t.name: (pd.read_csv(t.pattern) if t.kind == "csv" else pd.read_parquet(t.pattern))
                for t in w.tables.values()}

    def to_arrow(self, result: Any) -> pa.Table:
        return result if isinstance(result, pa.Table) else super().to_arrow(result)


# Registered engine name -> its workload class.
WORKLOAD_ENGINES: dict[str, str] = {
    "duckdb": f"{__name__}:DuckDBWorkload",
    "polars": f"{__name__}:PolarsWorkload",
    "datafusion": f"{__name__}:DataFusionWorkload",
    "pyspark": f"{__name__}:SparkWorkload",
    "daft": f"{__name__}:DaftWorkload",
    "pandas": f"{__name__}:PandasWorkload",
}
