"""A workload's reference answers and the check of an engine's answer against them.

The reference answer of a query is DuckDB's result of the workload's SQL over the
same files, unless the workload gives `expected/<query>.parquet`: one mechanism
for every workload, the built-in benchmark's included (workloads/social/, which
caches its answers beside the data). An answer is conformed to the reference's
column kinds (integer and float widths may differ), then compared with the rules
of harness/validate.py: rows in order where the SQL has a top-level ORDER BY, as
a multiset otherwise.
"""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from bench_pipeline.harness.validate import AnswerMismatch, compare, conform, write_answer
from bench_pipeline.workloads.spec import Table, Workload, WorkloadError, has_top_level_order, sql_string


def duckdb_source(t: Table) -> str:
    """The DuckDB table function that reads a workload table."""
    if t.kind == "csv":
        return f"read_csv({sql_string(t.pattern)}, header = true)"
    pattern = f"{t.pattern}/**/*.parquet" if t.root.is_dir() and t.pattern == str(t.root) else t.pattern
    return f"read_parquet({sql_string(pattern)}, hive_partitioning = {str(t.hive).lower()})"


def duckdb_views(con, workload: Workload) -> None:
    for t in workload.tables.values():
        con.execute(f'CREATE OR REPLACE VIEW "{t.name}" AS SELECT * FROM {duckdb_source(t)}')


class ReferenceFailure(WorkloadError):
    """DuckDB cannot compute the reference answer: the workload's (or the harness's) problem, not the engine's."""


def compute_reference(workload: Workload, query: str) -> pa.Table:
    """DuckDB's answer to the query; ReferenceFailure (with DuckDB's message) when it cannot run it."""
    import duckdb  # duckdb: only where it is used

    con = duckdb.connect()
    try:
        duckdb_views(con, workload)
        return con.sql(workload.query(query).sql).to_arrow_table()
    except duckdb.Error as exc:
        first = str(exc).strip().splitlines()[0]
        raise ReferenceFailure(f"{workload.root}: query {query!r}: the reference (DuckDB) cannot run it: {first}") \
            from None
    finally:
        con.close()


_MEMO: OrderedDict[tuple, pa.Table] = OrderedDict()  # the latest answers of this process
_MEMO_SIZE = 64


def reference_answer(workload: Workload, query: str, cache: Path | None = None) -> pa.Table:
    """The reference answer: the workload's expected file, else DuckDB's. Computed once per process for the
    same files and SQL and, with `cache` (a folder for this data's answers), once for every process: kept there
    as `<query>-<hash of its SQL and code>.parquet`, so an edited query is never checked against its former self."""
    key = (str(workload.root), query, workload.fingerprint(), workload.query_fingerprint(query))
    if key in _MEMO:
        _MEMO.move_to_end(key)
        return _MEMO[key]
    stored = cache / f"{query}-{key[3][:8]}.parquet" if cache is not None else None
    if (expected := workload.expected(query)) is not None:
        table = pq.read_table(expected)
    elif stored is not None and stored.is_file():
        table = pq.read_table(stored)
    else:
        table = compute_reference(workload, query)
        if stored is not None:
            _keep(table, stored)
    _MEMO[key] = table
    if len(_MEMO) > _MEMO_SIZE:
        _MEMO.popitem(last=False)
    return table


def _keep(table: pa.Table, path: Path) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_answer(table, path)  # under a temporary name, then renamed: a reader never sees half a file
    except OSError:
        pass  # a read-only data folder: the answer is still right, only not kept


def _sort_all(table: pa.Table) -> pa.Table:
    # Non-float columns first: floats that differ in their last bits must not change the row order.
    floats = [n for n in table.column_names if pa.types.is_floating(table.schema.field(n).type)]
    keys = [n for n in table.column_names if n not in floats] + floats
    return table.sort_by([(k, "ascending") for k in keys])


def _decimals_as_numbers(table: pa.Table) -> pa.Table:
    """Decimal columns as float64 (integers when the scale is 0): engines differ in decimal support, and floats
    are compared within REL_TOL."""
    columns = []
    for column in table.columns:
        t = column.type
        if pa.types.is_decimal(t):
            try:  # a whole-number decimal (DuckDB's HUGEINT sums) as int64 where its values fit
                column = column.cast(pa.int64()) if t.scale == 0 else column.cast(pa.float64())
            except pa.ArrowInvalid:
                column = column.cast(pa.float64())
        columns.append(column)
    return pa.table(columns, names=table.column_names)


def validate_answer(query: str, answer: pa.Table, workload: Workload) -> pa.Table:
    """The answer in the reference's types; AnswerMismatch unless it is the reference answer."""
    want = _decimals_as_numbers(reference_answer(workload, query))
    if [n.lower() for n in answer.column_names] == [n.lower() for n in want.column_names]:
        answer = answer.rename_columns(want.column_names)  # engines that fold unquoted names to lower case
    # A decimal answer is exact only to its own scale (DataFusion's AVG of DECIMAL(15,2) is DECIMAL(19,6)):
    # one unit of its last place (engines round or truncate there) is allowed besides the relative tolerance.
    last_place = {f.name: 10.0 ** -f.type.scale for f in answer.schema
                  if pa.types.is_decimal(f.type) and f.type.scale > 0}
    answer = _decimals_as_numbers(answer)
    if (schema := workload.query(query).schema) is not None:  # the workload states the answer's types
        try:
            want = conform(want, schema)
        except AnswerMismatch as exc:
            raise ReferenceFailure(f"{workload.root}: query {query!r}: the reference answer does not have the "
                                   f"schema workload.toml gives: {exc}") from None
    conformed = got = conform(answer, want.schema)
    if not has_top_level_order(workload.query(query).sql):
        got, want = _sort_all(got), _sort_all(want)
    compare(got, want, last_place)
    return conformed


__all__ = ["AnswerMismatch", "ReferenceFailure", "compute_reference", "duckdb_source", "reference_answer",
           "validate_answer"]
