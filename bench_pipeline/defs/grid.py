"""The grid in Dagster (groups `benchmark` and `analysis`): engine versions, the dataset, the engine x threads
cells (keys 'duckdb|4'), their metrics and plots.

The metrics and plots depend on `benchmark_cells` through `deps`, not IO-manager inputs, and read the results
store: so they draw from whatever cells exist, and a missing partition is marked, not fatal."""


import dagster as dg

from bench_pipeline.data.datagen import ensure_dataset
from bench_pipeline.data.dataset import DatasetError, open_dataset
from bench_pipeline.defs.common import AFTER_UPSTREAM, cell_asset, cell_checks, open_or_fail, pictures
from bench_pipeline.defs.partitions import CELLS, ENGINES
from bench_pipeline.defs.resources import BenchSettings
from bench_pipeline.harness import provenance
from bench_pipeline.report import fmt
from bench_pipeline.report.fmt import MiB
from bench_pipeline.results.fields import columns
from bench_pipeline.results.versions import engine_signature, harness_code_hash
from bench_pipeline.suites import draw_verdict
from bench_pipeline.suites.grid import SUITE, cells, grid_verdict
from bench_pipeline.suites.grid.figures import caption_for, draw_all
from bench_pipeline.suites.grid.metrics import build_metrics, read_metrics


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
    return cell_asset(context, bench, "grid", cells.cell_measured_with(s, key, data))


def _metrics_for(bench: BenchSettings, build: bool = True) -> tuple[dict, dict]:
    """The grid's metrics of the main dataset: rebuilt from the measurements (the `metrics` asset), or, with
    build=False, read as `metrics` last built them, through a read-only connection (its downstream assets)."""
    import duckdb  # duckdb: only where it is used

    s = bench.settings()
    try:
        ds = open_dataset(s.data_dir)
    except DatasetError as exc:
        raise dg.Failure(f"no dataset to report on ({exc}); run `bench-pipeline run` first") from None
    try:
        metrics = (build_metrics(bench.store(), ds.fingerprint()) if build else
                   read_metrics(bench.store(read_only=True), provenance.logical_cores()))
    except duckdb.CatalogException:
        raise dg.Failure("the metrics tables are not built yet; materialize `metrics` first") from None
    if any(r["dataset_fingerprint"] != ds.fingerprint() for r in metrics["metrics_latest"]):
        raise dg.Failure(f"the metrics tables were built for other data than {ds.root}; materialize `metrics`")
    if not metrics["metrics_latest"]:
        raise dg.Failure(f"no benchmark cells measured yet for {ds.root}; materialize benchmark_cells first")
    return metrics, {"path": str(ds.root), "rows": ds.posts_rows(), "fingerprint": ds.fingerprint()}


_SPEEDUP_MD = columns("engine", "query", "threads", "status", "median_seconds", "speedup", "speedup_low",
                      "speedup_high", "efficiency", "suspect", "noisy")
_LOAD_MD = columns("engine", "threads", "load_seconds", "queries_seconds")


@dg.asset(group_name="analysis", deps=[benchmark_cells, dataset], automation_condition=AFTER_UPSTREAM,
          description="Latest measurement per cell, speedup and efficiency, load vs query time (results store).")
def metrics(bench: BenchSettings) -> dg.MaterializeResult:
    m, ds = _metrics_for(bench)
    s = bench.settings()
    verdict = grid_verdict(s, m["metrics_latest"], provenance.logical_cores(), ds["rows"])
    picture = draw_verdict(SUITE, bench.config("grid"), title=f"Which engine here: every comparison of the verdict, "
                                                           f"{ds['rows']:,} rows, {provenance.logical_cores()} cores")
    return dg.MaterializeResult(metadata={
        "verdict": dg.MetadataValue.md("\n".join(f"- {line}" for line in verdict.recommendation + verdict.caveats)),
        "verdict_picture": pictures([picture]),
        "speedup": dg.MetadataValue.md(fmt.markdown(m["metrics_speedup"], _SPEEDUP_MD)),
        "noisy_cells": len({(r["engine"], r["threads_asked"]) for r in m["metrics_latest"] if r.get("noisy")}),
        "load_vs_query": dg.MetadataValue.md(fmt.markdown(m["metrics_load_vs_query"], _LOAD_MD)),
        "cells": len({(r["engine"], r["threads_asked"]) for r in m["metrics_latest"]}),
        "dataset": ds["path"],
    })


@dg.asset(group_name="analysis", deps=[metrics], automation_condition=AFTER_UPSTREAM,
          description="Speedup vs threads per query (ideal line, oversubscribed region), time and memory bars.")
def speedup_plots(bench: BenchSettings) -> dg.MaterializeResult:
    s = bench.settings()
    m, ds = _metrics_for(bench, build=False)
    drawn = [r.get("measured_at") for r in m["metrics_latest"]
             if r["engine"] in s.engines and r["threads_asked"] in s.threads]
    caption = caption_for(ds["rows"], provenance.machine(), drawn)
    paths = draw_all(m, s.plots_dir, s.engines, s.threads, provenance.logical_cores(), caption=caption)
    return dg.MaterializeResult(metadata={
        "plots": pictures([p for p in paths if p.name.startswith("speedup_")]),
        "files": dg.MetadataValue.json([str(p) for p in paths]),
        "folder": dg.MetadataValue.path(str(s.plots_dir)),
    })


defs = dg.Definitions(assets=[engine_versions, dataset, benchmark_cells, metrics, speedup_plots], jobs=[
    dg.define_asset_job("grid", selection=dg.AssetSelection.groups("benchmark", "analysis"),
                        description="The engine x threads grid: dataset, cells, metrics, plots, report."),
    dg.define_asset_job("benchmark_cells_job", selection=[benchmark_cells]),
    dg.define_asset_job("observe_engine_versions", selection=[engine_versions]),
])
