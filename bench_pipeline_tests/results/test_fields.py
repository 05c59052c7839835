"""The one column vocabulary: every table's columns come from fields.FIELDS; the row type from the store's."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import bench_pipeline
from bench_pipeline.results import fields, store

ROOT = Path(bench_pipeline.__file__).parent
# A (key, header, format) triple written out by hand: what fields.columns replaced.
TRIPLE = re.compile(r'\("[a-z_0-9]+", "[^"]*", "(?:|>|,|d|MiB|\.\d[fg%])"\)')


def test_no_table_writes_its_own_columns():
    found = [f"{p.relative_to(ROOT)}: {m.group(0)}" for p in [*ROOT.rglob("*.py"), *ROOT.rglob("*.j2")]
             if p.name != "fields.py" for m in TRIPLE.finditer(p.read_text())]
    assert found == []


def test_a_column_is_its_field_and_a_renamed_one_keeps_unit_and_format():
    assert fields.columns("median_seconds", "peak_rss_bytes", "engine") == [
        ("median_seconds", "median s", ".4f"), ("peak_rss_bytes", "peak MiB", "MiB"), ("engine", "engine", "")]
    assert fields.columns(("startup_seconds", "session start")) == [("startup_seconds", "session start s", ".2f")]
    with pytest.raises(KeyError):
        fields.columns("no_such_field")


def test_the_measurement_row_type_is_the_stores_columns():
    assert list(store.MeasurementRow.__annotations__) == store.COLUMN_NAMES
