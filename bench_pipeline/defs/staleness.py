"""Which cells need measuring again, read from the Dagster instance.

Each materialization of `benchmark_cells` records, as metadata, what it was
measured with: the engine signature (library version + engine code hash), the
dataset's data version (its fingerprint) and the harness code hash, and whether
every query came back ok. A cell is stale when it was never materialized, when
its latest run failed or any answer was not ok, or when any of those inputs now
differ, or when it had fewer warm runs than now asked. The results store is the
truth about what was measured: a cell whose rows are not in the store (a store
lost, or moved aside because it could not be opened) is stale, whatever
Dagster's records say. The CLI and the nightly schedule both ask this one function.
"""


from collections.abc import Callable, Iterable

import dagster as dg

from bench_pipeline.defs.partitions import split_key
from bench_pipeline.settings import Settings
from bench_pipeline.store import ResultsStore
from bench_pipeline.versions import engine_signature, harness_code_hash

CELLS_KEY = dg.AssetKey("benchmark_cells")
DATASET_KEY = dg.AssetKey("dataset")
_FAILED = (dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED)


def current_dataset_version(instance: dg.DagsterInstance, asset_key: dg.AssetKey = DATASET_KEY,
                            partition: str | None = None) -> str | None:
    if partition is None:
        event = instance.get_latest_materialization_event(asset_key)
    else:
        records = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=asset_key, asset_partitions=[partition]), limit=1).records
        event = records[0].event_log_entry if records else None
    if event is None or event.asset_materialization is None:
        return None
    return event.asset_materialization.tags.get("dagster/data_version")


def _latest_run_failed(instance: dg.DagsterInstance, asset_key: dg.AssetKey, key: str, after: float) -> bool:
    """Did a run for this cell fail after its latest materialization (by when the run ended)?"""
    records = instance.get_run_records(dg.RunsFilter(tags={"dagster/partition": key}, statuses=list(_FAILED)),
                                       limit=20)
    records = [r for r in records if asset_key in (r.dagster_run.asset_selection or {asset_key})]
    return bool(records) and (records[0].end_time or 0) >= after


def cell_staleness(instance: dg.DagsterInstance, keys: Iterable[str], repeats: int,
                   asset_key: dg.AssetKey = CELLS_KEY,
                   engine_of: Callable[[str], str] = lambda key: split_key(key)[0],
                   dataset_version_of: Callable[[str], str | None] | None = None,
                   signature_of: Callable[[str], str] = engine_signature,
                   dataset_key: dg.AssetKey = DATASET_KEY,
                   harness_version: Callable[[], str] = harness_code_hash,
                   expected: dict | None = None, measured: set[str] | None = None) -> dict[str, str | None]:
    """partition key -> why it is stale, or None when it is fresh.

    `repeats` is the number of warm runs asked for now: a cell measured with
    fewer is measured again. `asset_key` and `engine_of` let the cluster cells
    (keys like '2|flat', all PySpark) use the same rules; `dataset_version_of`
    gives each key its own dataset (the size sweep), and `expected` lists other
    metadata a fresh cell must carry (e.g. the memory budget). `signature_of`,
    `dataset_key` and `harness_version` let the Engine Wars cells (their own
    engines, data and code) use them too. `measured`: the cell run ids in the
    results store (default: read from the store of the settings in force).
    """
    if measured is None:
        measured = ResultsStore(Settings.from_env().store_path).cell_run_ids()
    main_version = current_dataset_version(instance, dataset_key)
    dataset_version_of = dataset_version_of or (lambda key: main_version)
    harness = harness_version()
    signatures: dict[str, str] = {}
    out: dict[str, str | None] = {}
    for key in keys:
        engine = engine_of(key)
        records = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=asset_key, asset_partitions=[key]), limit=1
        ).records
        if not records:
            # A run may have failed before any materialization: still just missing.
            out[key] = "missing"
            continue
        rec = records[0]
        md = {k: getattr(v, "value", v) for k, v in rec.asset_materialization.metadata.items()}
        if engine not in signatures:
            signatures[engine] = signature_of(engine)
        if _latest_run_failed(instance, asset_key, key, after=rec.timestamp):
            out[key] = "failed"
        elif md.get("cell_run_id") not in measured:
            out[key] = "not in the results store"
        elif not md.get("all_ok", False):
            out[key] = f"failed: {md.get('statuses', 'a query was not ok')}"
        elif md.get("engine_signature") != signatures[engine]:
            out[key] = f"engine changed: {md.get('engine_signature')} -> {signatures[engine]}"
        elif md.get("dataset_version") != dataset_version_of(key):
            out[key] = "dataset changed"
        elif md.get("harness_version") != harness:
            out[key] = "harness code changed"
        elif md.get("repeats", 0) < repeats:
            out[key] = f"measured with {md.get('repeats', 0)} warm runs, {repeats} asked"
        elif any(md.get(k) != v for k, v in (expected or {}).items()):
            out[key] = "measured with other settings: " + ", ".join(
                f"{k} {md.get(k)} -> {v}" for k, v in (expected or {}).items() if md.get(k) != v)
        else:
            out[key] = None
    return out


def grid_staleness(instance: dg.DagsterInstance, keys: Iterable[str], settings) -> dict[str, str | None]:
    """`cell_staleness` for engine x threads cells: also stale when measured under another memory budget
    (the budget sets engines' own limits: DuckDB memory_limit, Spark heap) or another repetitions rule."""
    return cell_staleness(instance, keys, settings.repeats, expected=settings.grid_cell_settings,
                          measured=ResultsStore(settings.store_path).cell_run_ids())
