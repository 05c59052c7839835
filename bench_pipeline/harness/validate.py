"""The rules an answer is checked by (docs/contract.md, "How an answer is validated"): conformed to the expected
column kinds, then compared with the reference, floats within REL_TOL. The reference itself, for every workload
the built-in benchmark included, is workloads/reference.py's.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

REL_TOL = 1e-6


class AnswerMismatch(ValueError):
    pass


def _kind(t: pa.DataType) -> str:
    if pa.types.is_integer(t) or (pa.types.is_decimal(t) and t.scale == 0):
        return "integer"
    if pa.types.is_floating(t) or pa.types.is_decimal(t):
        return "float"
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return "string"
    if pa.types.is_dictionary(t):
        return _kind(t.value_type)
    if pa.types.is_timestamp(t):
        return "timestamp"  # unit and time zone are layout: the instants are compared
    if pa.types.is_date(t):
        return "date"
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_list_view(t):
        return f"list<{_kind(t.value_type)}>"  # list and item layouts differ between engines, not the values
    return str(t)


def _as_dates(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """A timestamp column as dates where every value is a midnight (pandas has no date dtype); else unchanged, and
    the kinds differ."""
    midnight = pc.equal(pc.floor_temporal(column, unit="day"), column)
    return column.cast(pa.date32()) if pc.all(pc.fill_null(midnight, True)).as_py() else column


def conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """Cast an answer to the contract's types, or raise AnswerMismatch naming what differs.

    Width and layout may differ (int32 counts, HUGEINT sums, large strings); the
    kind (integer, float, string) may not.
    """
    if table.column_names != schema.names:
        raise AnswerMismatch(f"columns {table.column_names} differ from the expected {schema.names}")
    columns = []
    for field, column in zip(schema, table.columns, strict=True):
        if pa.types.is_timestamp(column.type) and pa.types.is_date(field.type):
            column = _as_dates(column)
        if _kind(column.type) != _kind(field.type):
            raise AnswerMismatch(f"column {field.name!r} is {column.type}, expected {field.type}")
        if pa.types.is_dictionary(column.type):
            column = column.cast(column.type.value_type)
        columns.append(column.cast(field.type))
    return pa.table(columns, schema=schema)


def compare(answer: pa.Table, reference: pa.Table, abs_tol: dict[str, float] | None = None) -> None:
    """Raise AnswerMismatch unless `answer` equals `reference` (floats within REL_TOL, or within `abs_tol` of a
    column where the answer's own declared precision is coarser: a decimal's last place)."""
    if answer.num_rows != reference.num_rows:
        raise AnswerMismatch(f"{answer.num_rows} rows, expected {reference.num_rows}")
    for name in reference.column_names:
        got, want = answer[name].combine_chunks(), reference[name].combine_chunks()
        if pa.types.is_floating(want.type):
            g = got.to_numpy(zero_copy_only=False)
            w = want.to_numpy(zero_copy_only=False)
            close = np.isclose(g, w, rtol=REL_TOL, atol=(abs_tol or {}).get(name, 0.0), equal_nan=True)
            bad = np.flatnonzero(~close)
        else:
            same = pc.fill_null(pc.equal(got, want), False)
            both_null = pc.and_(pc.is_null(got), pc.is_null(want))
            bad = np.flatnonzero(~pc.or_(same, both_null).to_numpy(zero_copy_only=False))
        if len(bad):
            i = int(bad[0])
            raise AnswerMismatch(
                f"column {name!r} differs in {len(bad)} rows, first at row {i}: "
                f"{got[i].as_py()!r} != expected {want[i].as_py()!r}"
            )


def write_answer(table: pa.Table, path: str | os.PathLike) -> None:
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    os.close(fd)
    try:
        pq.write_table(table, tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
