"""How every engine runs a query: the one query mechanism, for the built-in benchmark and a user's workload alike.

A query belongs to a workload (workload.toml, or the built-in one in workloads/social/ bound to a generated
dataset). Where the workload's `dataframes.py` has `<engine>_<query>(tables)`, the engine runs that, with `tables`
its native frames; otherwise it runs the query's SQL, translated from DuckDB's dialect by sqlglot where the engine
speaks another (a per-engine override in workload.toml is used as written). Planning the SQL (parse, bind) is
timed with the run, but a failure there is `Unsupported`: the engine rejected the text, it did not fail running it.

What differs between engines is only their side of it (engines/*.py): `read_table`, `plan_sql`, `collect` and
`explain`. The worker gets the workload folder (or the dataset folder) as its `--data`; the engine reads
workload.toml from it once per process.
"""

from __future__ import annotations

import functools
import importlib.util
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pyarrow as pa

from bench_pipeline.workloads.spec import MANIFEST, Table, Workload, load_workload


class Unsupported(Exception):
    """The engine rejects the query's text (a parse or planning error, an unsupported function): the status
    `unsupported`, with the engine's message; distinct from an `error` while the query runs."""


@functools.cache
def workload_of(root: str) -> Workload:
    """The workload a worker's `--data` names: a workload folder, or a dataset folder (posts and users), which
    is the built-in benchmark on that dataset."""
    if (Path(root) / MANIFEST).is_file():
        return load_workload(root)
    from bench_pipeline.workloads import social  # keeps numpy off the import path

    return social.bound(Path(root))


@functools.cache
def _dataframes(path: str):
    name = "bench_workload_" + "".join(c if c.isalnum() else "_" for c in path)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def dataframes(w: Workload):
    return _dataframes(str(w.dataframes)) if w.dataframes is not None else None


@functools.cache
def _translated(sql: str, dialect: str) -> str:
    """Translated once per process: only the cold run pays for it (milliseconds), the warm runs do not."""
    import sqlglot  # sqlglot: only where it is used

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

    def __init__(self, engine, w: Workload):
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


def _implementation(engine, w: Workload, query: str):
    module = dataframes(w)
    impl = getattr(module, f"{engine.code_name}_{query}", None) if module is not None else None
    return module, impl


def _sql(engine, w: Workload, query: str) -> str:
    q = w.query(query)
    sql = q.overrides.get(engine.code_name)
    if sql is not None:
        return sql
    return q.sql if engine.dialect == "duckdb" else _translated(q.sql, engine.dialect)


def _planned(engine, w: Workload, query: str, sql: str) -> Any:
    try:
        return engine.plan_sql(w, sql)
    except Unsupported:
        raise
    except Exception as exc:  # noqa: BLE001 - the engine's own parse/planning error types
        text = " ".join(str(exc).split())  # one line: engines print plans and hints over many
        raise Unsupported(f"{engine.code_name} rejected the SQL of {query}: {type(exc).__name__}: {text[:600]}") \
            from None


def run(engine, query: str, data) -> Any:
    """The timed part: the query's DataFrame function for this engine, or its SQL; computed (`collect`)."""
    w = workload_of(str(data.root))
    _, impl = _implementation(engine, w, query)
    # The API measured is recorded with a workload's runs (run_checks); the grid's rows stay as they were.
    recorded = (Path(str(data.root)) / MANIFEST).is_file()  # a workload folder, not a dataset's
    if impl is not None:
        engine.api = "dataframe"  # a function that runs SQL statements itself says "sql" (the built-in L)
        result = engine.collect(impl(Tables(engine, w)))
    else:
        planned = _planned(engine, w, query, _sql(engine, w, query))
        engine.api = "sql"
        result = engine.collect(planned)
    if not recorded:
        engine.api = None
    return result


def plan(engine, query: str, data) -> str | None:
    """Untimed: the engine's plan of the lazy query its DataFrame function returns, or of the query's SQL (also
    for the functions a workload lists in COMPUTED, which compute their answer themselves). None: no planner."""
    w = workload_of(str(data.root))
    module, impl = _implementation(engine, w, query)
    if impl is not None and query not in getattr(module, "COMPUTED", ()):
        return engine.explain(impl(Tables(engine, w)))
    try:
        return engine.explain(_planned(engine, w, query, _sql(engine, w, query)))
    except Unsupported:
        return None
