"""Which cells need measuring again, read from the Dagster instance and the results store.

Every cell asset records, as metadata, what it was measured with (a suite's
`CellGroup.measured_with(key)`: engine signature, dataset version, threads, warm
runs, the cell's own settings) and whether every query came back ok. The code
it was measured by is Dagster's own record: the `dagster/code_version` tag of
the materialization (each cell asset's code version is its suite's harness
hash), read before our metadata's copy. A cell is stale when it was never
materialized, when its latest run failed or any answer was not ok, when any of
those inputs now differ, or when it had fewer warm runs than now asked. The results store is the truth about what was
measured: a cell whose rows are not in the store (a store lost, or moved aside
because it could not be opened) is stale, whatever Dagster's records say. The
CLI, the nightly schedule and every suite ask this one function.
"""


import dagster as dg

from bench_pipeline.defs.partitions import add_partitions
from bench_pipeline.results.store import ResultsStore
from bench_pipeline.suites import CellGroup, SuiteConfig

_FAILED = (dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED)
CODE_VERSION_TAG = "dagster/code_version"


def recorded_with(record) -> dict:
    """What a cell's materialization says it was measured with: its metadata, with the harness version Dagster
    recorded as the asset's code version (a runless record has none: its metadata's copy stands)."""
    m = record.asset_materialization
    md = {k: getattr(v, "value", v) for k, v in m.metadata.items()}
    code = (m.tags or {}).get(CODE_VERSION_TAG)
    return {**md, "harness_version": code} if code else md


def current_data_version(instance: dg.DagsterInstance, asset: str, partition: str | None = None) -> str | None:
    """The data version of the latest materialization of a data asset (its fingerprint)."""
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=dg.AssetKey(asset), asset_partitions=[partition] if partition else None),
        limit=1).records
    if not records:
        return None
    return records[0].asset_materialization.tags.get("dagster/data_version")


def _latest_run_failed(instance: dg.DagsterInstance, asset_key: dg.AssetKey, key: str, after: float) -> bool:
    """Did a run for this cell fail after its latest materialization (by when the run ended)?"""
    records = instance.get_run_records(dg.RunsFilter(tags={"dagster/partition": key}, statuses=list(_FAILED)),
                                       limit=20)
    records = [r for r in records if asset_key in (r.dagster_run.asset_selection or {asset_key})]
    return bool(records) and (records[0].end_time or 0) >= after


def changed(recorded: dict, measured: dict) -> str | None:
    """Why a cell recorded with `recorded` is not a measurement of what `measured` asks, or None."""
    if recorded.get("engine_signature") != measured["engine_signature"]:
        return f"engine changed: {recorded.get('engine_signature')} -> {measured['engine_signature']}"
    if recorded.get("dataset_version") != measured["dataset_version"]:
        return "dataset changed"
    if recorded.get("harness_version") != measured["harness_version"]:
        return "harness code changed"
    if recorded.get("repeats", 0) < measured["repeats"]:
        return f"measured with {recorded.get('repeats', 0)} warm runs, {measured['repeats']} asked"
    other = {k: v for k, v in measured.items() if k != "repeats" and recorded.get(k) != v}
    if other:
        return "measured with other settings: " + ", ".join(f"{k} {recorded.get(k)} -> {v}" for k, v in other.items())
    return None


def stale_cells(instance: dg.DagsterInstance, group: CellGroup, in_store: set[str]) -> dict[str, str | None]:
    """partition key -> why the cell is stale, or None when it is fresh. `in_store`: the cell run ids of the
    results store (`ResultsStore.cell_run_ids()`)."""
    asset_key = dg.AssetKey(group.asset)
    out: dict[str, str | None] = {}
    for key in group.keys:
        records = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=asset_key, asset_partitions=[key]), limit=1).records
        if not records:
            out[key] = "missing"  # a run may have failed before any materialization: still just missing
            continue
        rec = records[0]
        md = recorded_with(rec)
        if _latest_run_failed(instance, asset_key, key, after=rec.timestamp):
            out[key] = "failed"
        elif md.get("cell_run_id") not in in_store:
            out[key] = "not in the results store"
        elif not md.get("all_ok", False):
            out[key] = f"failed: {md.get('statuses', 'a query was not ok')}"
        else:
            out[key] = changed(md, group.measured_with(key))
    return out


def stale(instance: dg.DagsterInstance, group: CellGroup, run: SuiteConfig,
          in_store: set[str] | None = None) -> dict[str, str | None]:
    """The group's cells -> why each is stale, or None; `in_store`: the store's cell run ids, when read already."""
    add_partitions(instance, group.dynamic_partitions)
    if in_store is None:
        in_store = ResultsStore(run.main.store_path).cell_run_ids()
    return stale_cells(instance, group, in_store)
