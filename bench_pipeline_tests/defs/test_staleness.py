"""Which cells are stale, from recorded materializations on an in-memory Dagster instance: no run, no process."""

from __future__ import annotations

import dagster as dg
import pytest

from bench_pipeline.defs.staleness import changed, stale_cells
from bench_pipeline.suites import CellGroup

NOW = {"engine_signature": "duckdb 1.4.0+abc", "dataset_version": "f00d", "harness_version": "h1", "threads": 1,
       "repeats": 3}


def _group(keys) -> CellGroup:
    return CellGroup("benchmark_cells", list(keys), measured_with=lambda key: dict(NOW), queries=4,
                     spec=lambda key: None, latest_rows=lambda keys: [])


def _record(instance, key: str, cell_run_id: str, all_ok: bool = True, code_version: str | None = None,
            **measured) -> None:
    instance.report_runless_asset_event(dg.AssetMaterialization(
        asset_key="benchmark_cells", partition=key,
        metadata={**NOW, **measured, "cell_run_id": cell_run_id, "all_ok": all_ok},
        tags={"dagster/code_version": code_version} if code_version else None))


@pytest.fixture
def instance():
    with dg.DagsterInstance.ephemeral() as inst:
        yield inst


def test_each_reason_a_cell_is_stale_and_a_fresh_one(instance):
    _record(instance, "fresh", "c1")
    _record(instance, "lost", "c2")  # its rows are not in the store
    _record(instance, "failed", "c3", all_ok=False, statuses="A: timeout")
    _record(instance, "engine", "c4", engine_signature="duckdb 1.3.2+abc")
    _record(instance, "harness", "c5", harness_version="h0")
    _record(instance, "fewer", "c6", repeats=2)
    _record(instance, "budget", "c7", budget_mib=1024)
    in_store = {"c1", "c3", "c4", "c5", "c6", "c7"}
    out = stale_cells(instance, _group(["fresh", "missing", "lost", "failed", "engine", "harness", "fewer",
                                         "budget"]), in_store)
    assert out == {
        "fresh": None,
        "missing": "missing",
        "lost": "not in the results store",
        "failed": "failed: A: timeout",
        "engine": "engine changed: duckdb 1.3.2+abc -> duckdb 1.4.0+abc",
        "harness": "harness code changed",
        "fewer": "measured with 2 warm runs, 3 asked",
        "budget": None,  # a setting recorded then but not asked now does not make the cell stale
    }


def test_the_latest_record_decides(instance):
    _record(instance, "k", "old", harness_version="h0")
    _record(instance, "k", "new")
    assert stale_cells(instance, _group(["k"]), {"old", "new"}) == {"k": None}


def test_more_warm_runs_recorded_than_asked_is_fresh_and_another_setting_is_not():
    assert changed({**NOW, "repeats": 5}, NOW) is None
    assert changed({**NOW, "dataset_version": "beef"}, NOW) == "dataset changed"
    assert changed(NOW, {**NOW, "budget_mib": 1024}) == "measured with other settings: budget_mib None -> 1024"


def test_the_code_version_dagster_recorded_decides_over_the_metadata_copy(instance):
    _record(instance, "edited", "c1", code_version="h0")  # metadata says h1, Dagster recorded h0
    _record(instance, "same", "c2", code_version="h1", harness_version="h0")
    assert stale_cells(instance, _group(["edited", "same"]), {"c1", "c2"}) == {
        "edited": "harness code changed", "same": None}
