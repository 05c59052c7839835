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
from collections.abc import Mapping
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


class Tables(Mapping):
    """What a DataFrame implementation gets: each table name -> the engine's native frame, read when first used
    (a query pays only for the tables it uses).

    `paths` maps each table to what the engine reads (a file, a folder or a glob), for code that reads a table
    itself with its own options (pandas reading only some columns); `engine` is the running engine (its
    library module, session or connection), for code that needs one.
    """

    def __init__(self, engine: WorkloadMixin, w: Workload):
        self.engine, self._w, self._frames = engine, w, {}
        self.paths = {t.name: t.pattern for t in w.tables.values()}

    def __getitem__(self, name: str) -> Any:
        if name not in self._frames:
            if name not in self._w.tables:
                raise KeyError(f"workload {self._w.name} has no table {name!r}; it has {', '.join(self._w.tables)}")
            self._frames[name] = self.engine.read_table(self._w.tables[name])
        return self._frames[name]

    def __iter__(self):
        return iter(self._w.tables)

    def __len__(self) -> int:
        return len(self._w.tables)


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
            self.api = "dataframe"  # the implementation may say otherwise (the built-in workload's SQL engines)
            return self.collect(impl(Tables(self, w)))
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

    def read_table(self, t: Table) -> Any:
        raise Unsupported(f"{self.name} has no DataFrame implementation here")

    def plan_sql(self, w: Workload, sql: str) -> Any:
        raise Unsupported(f"{self.name} has no SQL interface; give {self.name}_<query>(tables) in dataframes.py")

    def collect(self, result: Any) -> Any:
        return result

    def plan(self, query: str, data) -> str | None:
        return None


class DuckDBWorkload(WorkloadMixin, DuckDBEngine):
    def read_table(self, t: Table) -> Any:
        from bench_pipeline.workloads.reference import duckdb_source

        return self.con.sql(f"SELECT * FROM {duckdb_source(t)}")

    def plan_sql(self, w: Workload, sql: str) -> Any:
        from bench_pipeline.workloads.reference import duckdb_views

        duckdb_views(self.con, w)
        return self.con.sql(sql)  # parsed and bound here: a failure is the text's

    def collect(self, result: Any) -> Any:
        return result.to_arrow_table() if hasattr(result, "to_arrow_table") else result


class PolarsWorkload(WorkloadMixin, PolarsEngine):
    dialect = "postgres"

    def read_table(self, t: Table) -> Any:
        pl = self.pl
        return (pl.scan_csv(t.pattern, try_parse_dates=True) if t.kind == "csv" else
                pl.scan_parquet(t.pattern, hive_partitioning=t.hive))

    def plan_sql(self, w: Workload, sql: str) -> Any:
        frames = Tables(self, w)
        frame = self.pl.SQLContext(frames={name: frames[name] for name in frames}).execute(sql, eager=False)
        frame.collect_schema()  # resolves the plan: an unknown function fails here, not in collect()
        return frame

    def collect(self, result: Any) -> Any:
        return result.collect() if hasattr(result, "collect") else result


class DataFusionWorkload(WorkloadMixin, DataFusionEngine):
    dialect = "postgres"

    def read_table(self, t: Table) -> Any:
        if not self.ctx.table_exist(t.name):
            if t.kind == "csv":
                self.ctx.register_csv(t.name, t.pattern, has_header=True)
            else:
                self.ctx.register_parquet(t.name, t.pattern, table_partition_cols=hive_keys(t) if t.hive else [])
        return self.ctx.table(t.name)

    def plan_sql(self, w: Workload, sql: str) -> Any:
        for t in w.tables.values():
            self.read_table(t)  # registered under its name
        return self.ctx.sql(sql)

    def collect(self, result: Any) -> Any:
        return result.to_arrow_table() if hasattr(result, "to_arrow_table") else result


class SparkWorkload(WorkloadMixin, SparkEngine):
    dialect = "spark"

    def read_table(self, t: Table) -> Any:
        read = self.spark.read
        return read.option("header", True).option("inferSchema", True).csv(t.pattern) if t.kind == "csv" \
            else read.parquet(t.pattern)

    def plan_sql(self, w: Workload, sql: str) -> Any:
        frames = Tables(self, w)
        for name in frames:
            frames[name].createOrReplaceTempView(name)
        return self.spark.sql(sql)  # parsed and analysed here

    def collect(self, result: Any) -> Any:
        return result.toArrow() if hasattr(result, "toArrow") else result


class DaftWorkload(WorkloadMixin, DaftEngine):
    def read_table(self, t: Table) -> Any:
        daft = self.daft
        return daft.read_csv(t.pattern) if t.kind == "csv" else \
            daft.read_parquet(t.pattern if not t.root.is_dir() else f"{t.pattern}/**/*.parquet",
                              hive_partitioning=t.hive)

    def plan_sql(self, w: Workload, sql: str) -> Any:
        frames = Tables(self, w)
        return self.daft.sql(sql, **{name: frames[name] for name in frames})

    def collect(self, result: Any) -> Any:
        return result.to_arrow() if hasattr(result, "to_arrow") else result


def _pandas_numbers(table: pa.Table) -> pa.Table:
    """Decimals as float64 and dates as datetime64: pandas has neither a fast decimal nor a date dtype (its
    default turns them into Python objects, one per value)."""
    fields = [pa.field(f.name, pa.float64() if pa.types.is_decimal(f.type) else
                       pa.timestamp("ms") if pa.types.is_date(f.type) else f.type) for f in table.schema]
    return table.cast(pa.schema(fields))


class PandasWorkload(WorkloadMixin, PandasEngine):
    def read_table(self, t: Table) -> Any:
        import pyarrow.parquet as pq

        if t.kind == "csv":
            return self.pd.read_csv(t.pattern)
        source = t.pattern if t.root.is_dir() else [str(f) for f in t.files]
        return _pandas_numbers(pq.read_table(source)).to_pandas()

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
