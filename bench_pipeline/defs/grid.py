"""The grid in Dagster (groups `benchmark` and `analysis`): engine versions, the dataset, the engine x threads
cells (keys 'duckdb|4'); the metrics and plots are in defs/report.py beside the report."""


import dagster as dg

from bench_pipeline.datagen import ensure_dataset
from bench_pipeline.dataset import open_dataset
from bench_pipeline.defs.common import cell_asset, cell_checks, open_or_fail
from bench_pipeline.defs.partitions import CELLS, ENGINES
from bench_pipeline.defs.resources import BenchSettings
from bench_pipeline.fmt import MiB
from bench_pipeline.suites.grid import cells
from bench_pipeline.versions import engine_signature, harness_code_hash


@dg.observable_source_asset(partitions_def=ENGINES, group_name="benchmark",
                            description="Engine library version + hash of the engine's code, per engine.")
def engine_versions() -> dg.DataVersionsByPartition:
    return dg.DataVersionsByPartition({e: dg.DataVersion(engine_signature(e)) for e in ENGINES.get_partition_keys()})


@dg.asset(group_name="benchmark", description="posts.parquet + users.parquet generated from settings (rows, seed).")
def dataset(bench: BenchSettings) -> dg.MaterializeResult:
    s = bench.settings()
    ds = ensure_dataset(s.data_dir, s.rows, s.seed)
    # The fingerprint is the data version: the same rows and seed regenerate the
    # same bytes, so a regenerated dataset does not make the cells stale.
    return dg.MaterializeResult(
        data_version=dg.DataVersion(ds.fingerprint()),
        metadata={"path": str(ds.root), "rows": ds.posts_rows(), "seed": s.seed, "fingerprint": ds.fingerprint(),
                  "posts_mib": round(ds.posts.stat().st_size / MiB, 1)},
    )


def open_main_dataset(bench: BenchSettings):
    return open_or_fail(lambda: open_dataset(bench.settings().data_dir), "the dataset", "materialize `dataset` first")


@dg.asset(
    partitions_def=CELLS,
    group_name="benchmark",
    pool="bench_cells",  # one cell at a time per machine, across runs and processes
    code_version=harness_code_hash(),
    deps=[
        dataset,
        dg.AssetDep(engine_versions, partition_mapping=dg.MultiToSingleDimensionPartitionMapping("engine")),
    ],
    check_specs=cell_checks(cells.ASSET),
    description="One engine at one thread count: the grid's queries, each in several fresh processes (cold + "
                "warm runs each), measured in the run's interleaved rounds or, materialized alone, on its own.",
)
def benchmark_cells(context: dg.AssetExecutionContext, bench: BenchSettings) -> dg.MaterializeResult:
    s = bench.settings()
    data = open_main_dataset(bench)
    key = context.partition_key
    return cell_asset(context, bench, cells.cell_measured_with(s, key, data),
                      lambda store: cells.measure_alone(s, key, data, store, context.run.run_id))


defs = dg.Definitions(assets=[engine_versions, dataset, benchmark_cells], jobs=[
    dg.define_asset_job("grid", selection=dg.AssetSelection.groups("benchmark", "analysis"),
                        description="The engine x threads grid: dataset, cells, metrics, plots, report."),
    dg.define_asset_job("benchmark_cells_job", selection=[benchmark_cells]),
    dg.define_asset_job("observe_engine_versions", selection=[engine_versions]),
])
