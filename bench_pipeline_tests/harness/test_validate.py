from __future__ import annotations

import pyarrow as pa
import pytest

from bench_pipeline.harness.validate import AnswerMismatch, compare, conform
from bench_pipeline.workloads.social import reference as reference_answer
from bench_pipeline.workloads.social import validate
from bench_pipeline.workloads.social.catalogue import get_query


def test_reference_is_cached_and_typed(small_data):
    first = reference_answer("A", small_data)
    assert first.schema == get_query("A").schema
    assert first.num_rows == 49
    assert len(list((small_data.root / ".reference" / small_data.fingerprint()).glob("A-*.parquet"))) == 1
    assert reference_answer("A", small_data).equals(first)


def test_float_tolerance_is_relative_one_in_a_million(small_data):
    ref = reference_answer("A", small_data)
    i = ref.column_names.index("avg_latency")
    nudged = ref.set_column(i, "avg_latency", pa.compute.multiply(ref["avg_latency"], 1 + 1e-8))
    validate("A", nudged, small_data)
    off = ref.set_column(i, "avg_latency", pa.compute.multiply(ref["avg_latency"], 1 + 1e-5))
    with pytest.raises(AnswerMismatch, match="avg_latency"):
        validate("A", off, small_data)


def test_integers_must_be_equal(small_data):
    ref = reference_answer("C", small_data)
    i = ref.column_names.index("total_likes")
    off = ref.set_column(i, "total_likes", pa.compute.add(ref["total_likes"], 1))
    with pytest.raises(AnswerMismatch, match="total_likes"):
        validate("C", off, small_data)


def test_row_order_counts(small_data):
    ref = reference_answer("A", small_data)
    with pytest.raises(AnswerMismatch):
        validate("A", ref.take(list(range(ref.num_rows))[::-1]), small_data)


def test_row_count_and_columns(small_data):
    ref = reference_answer("A", small_data)
    with pytest.raises(AnswerMismatch, match="rows"):
        validate("A", ref.slice(1), small_data)
    with pytest.raises(AnswerMismatch, match="columns"):
        validate("A", ref.drop_columns(["posts"]), small_data)


def test_conform_accepts_widths_but_not_kinds():
    schema = pa.schema([("n", pa.int64()), ("s", pa.string())])
    t = pa.table({"n": pa.array([1], pa.int32()), "s": pa.array(["x"], pa.large_string())})
    assert conform(t, schema).schema == schema
    with pytest.raises(AnswerMismatch, match="'n' is double"):
        conform(pa.table({"n": [1.0], "s": ["x"]}), schema)


def test_nulls_compare_equal_only_to_nulls():
    a = pa.table({"x": pa.array([1, None], pa.int64())})
    compare(a, a)
    with pytest.raises(AnswerMismatch):
        compare(a, pa.table({"x": pa.array([1, 2], pa.int64())}))
