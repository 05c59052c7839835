"""Distributed engines on clusters in Dagster (group `cluster`): partitioned storage, worker-scaling cells of Spark
on a standalone cluster and of Daft on a Ray cluster, the image pipeline on each engine's cluster, analysis.

`spark_cluster_cells` is partitioned by executor count (a dynamic dimension: the
counts are settings) x data layout (keys like '3|partitioned'). Each cell starts
a real standalone cluster for its step (master + one-core workers on 127.0.0.1)
and stops it when the step ends, or connects to an existing cluster when the
settings name a master. Cells share the `bench_cells` pool with every other cell.
"""


import dagster as dg
from dagster_pyspark import PySparkResource

from bench_pipeline.data.datagen import PARTITIONED_DIR, partition_by_category
from bench_pipeline.defs.common import AFTER_UPSTREAM, cell_asset, cell_checks, pictures
from bench_pipeline.defs.grid import dataset, open_main_dataset
from bench_pipeline.defs.resources import BenchSettings
from bench_pipeline.defs.wars import open_wars_data, wars_dataset
from bench_pipeline.engines.daft_engine import DaftRayEngine
from bench_pipeline.harness import provenance
from bench_pipeline.harness.machine_lock import measurement_lock
from bench_pipeline.results.versions import harness_code_hash
from bench_pipeline.suites import draw_verdict
from bench_pipeline.suites.cluster import (
    ASSET,
    IMAGE_ASSET,
    RAY_ASSET,
    cell_measured_with,
    image_cell_measured_with,
    images_fingerprint,
)
from bench_pipeline.suites.cluster import SUITE as CLUSTER
from bench_pipeline.suites.cluster.cells import LAYOUTS, end_driver_jvm
from bench_pipeline.suites.cluster.figures import draw_cluster
from bench_pipeline.suites.cluster.image_cells import IMAGE_ENGINES
from bench_pipeline.suites.cluster.metrics import build_cluster_metrics
from bench_pipeline.suites.cluster.settings import ClusterSettings
from bench_pipeline.suites.wars.cells import suite_code_hash as wars_code_hash

# Dagster orders dimensions by name: keys read 'executors|layout'.
CLUSTER_CELLS = dg.MultiPartitionsDefinition({
    "executors": dg.DynamicPartitionsDefinition(name="executors"),
    "layout": dg.StaticPartitionsDefinition(list(LAYOUTS)),
})


@dg.asset(group_name="cluster", deps=[dataset],
          description="posts again, Hive-style partitioned by category, for the cluster to read.")
def posts_partitioned(bench: BenchSettings, pyspark: PySparkResource) -> dg.MaterializeResult:
    """Written by Spark (`partitionBy`) through PySparkResource: locally beside the posts, or, when the cluster
    settings name a data URI, at <data_uri>/posts_partitioned where the cluster's executors read it."""
    data = open_main_dataset(bench)
    uri = bench.settings(ClusterSettings).data_uri
    target = f"{uri.rstrip('/')}/{PARTITIONED_DIR}" if uri else None
    with measurement_lock("writing the partitioned posts"):
        try:
            out = partition_by_category(pyspark.spark_session, data, target)
        finally:
            end_driver_jvm()  # no idle JVM beside the measurements that follow in this process
    local = [p for p in (data.root / PARTITIONED_DIR).iterdir() if p.is_dir()] if target is None else []
    return dg.MaterializeResult(data_version=dg.DataVersion(data.fingerprint()),
                                metadata={"path": out, "written_by": "Spark partitionBy (PySparkResource)",
                                          **({"partitions": len(local)} if target is None else {})})


@dg.asset(
    partitions_def=CLUSTER_CELLS, group_name="cluster", pool="bench_cells", code_version=harness_code_hash(),
    deps=[dataset, posts_partitioned], check_specs=cell_checks(ASSET),
    description="L, A, B, C on a Spark cluster with N one-core executors, reading one posts layout.",
)
def spark_cluster_cells(context: dg.AssetExecutionContext, bench: BenchSettings) -> dg.MaterializeResult:
    run, data = bench.config("cluster"), open_main_dataset(bench)
    return cell_asset(context, bench, "cluster", cell_measured_with(run, context.partition_key, data))


@dg.asset(
    partitions_def=CLUSTER_CELLS, group_name="cluster", pool="bench_cells", code_version=harness_code_hash(),
    deps=[dataset, posts_partitioned], check_specs=cell_checks(RAY_ASSET),
    description="L, A, B, C through Daft on a Ray cluster of N one-CPU worker nodes (started per cell unless the "
                "settings name one), reading one posts layout.",
)
def ray_cluster_cells(context: dg.AssetExecutionContext, bench: BenchSettings) -> dg.MaterializeResult:
    run, data = bench.config("cluster"), open_main_dataset(bench)
    return cell_asset(context, bench, "cluster",
                      cell_measured_with(run, context.partition_key, data, DaftRayEngine.name))


# Keys read 'engine|executors'.
IMAGE_CELLS = dg.MultiPartitionsDefinition({
    "engine": dg.StaticPartitionsDefinition(list(IMAGE_ENGINES)),
    "executors": dg.DynamicPartitionsDefinition(name="executors"),
})


@dg.asset(
    partitions_def=IMAGE_CELLS, group_name="cluster", pool="bench_cells", code_version=wars_code_hash(),
    deps=[wars_dataset], check_specs=cell_checks(IMAGE_ASSET),
    description="The Engine Wars image pipeline (download, decode, resize) on a cluster of N one-core workers: "
                "Spark's UDF on a standalone cluster, Daft on Ray, Ray Data's map_batches on a Ray cluster.",
)
def cluster_image_cells(context: dg.AssetExecutionContext, bench: BenchSettings) -> dg.MaterializeResult:
    run, data = bench.config("cluster"), open_wars_data(bench)
    return cell_asset(context, bench, "cluster", image_cell_measured_with(run, context.partition_key, data))


@dg.asset(group_name="cluster", deps=[spark_cluster_cells, ray_cluster_cells, cluster_image_cells],
          automation_condition=AFTER_UPSTREAM,
          description="Time vs executors, cluster vs local vs single-node: tables in the store and PNGs.")
def cluster_analysis(bench: BenchSettings) -> dg.MaterializeResult:
    s = bench.settings()
    data = open_main_dataset(bench)
    m = build_cluster_metrics(bench.store(), data.fingerprint(), provenance.logical_cores(),
                              images_fingerprint(bench.config("cluster")))
    if not m["metrics_cluster"]:
        raise dg.Failure("no cluster cells measured yet for this dataset; materialize spark_cluster_cells first")
    paths = draw_cluster(m, s.plots_dir, provenance.logical_cores())
    picture = draw_verdict(CLUSTER, bench.config("cluster"),
                           title="Did more workers help? Each worker count against the next, and the cluster against "
                                 "one machine")
    return dg.MaterializeResult(metadata={"plots": dg.MetadataValue.json([str(p) for p in paths]),
                                          "verdict_picture": pictures([picture]),
                                          "cells": len({(r["executors"], r["data_layout"])
                                                        for r in m["metrics_cluster"]})})


defs = dg.Definitions(
    assets=[posts_partitioned, spark_cluster_cells, ray_cluster_cells, cluster_image_cells, cluster_analysis],
    # A job's partitioned assets must share one partitions definition: the image cells (engine x workers) get
    # their own job beside the one of the executors x layout cells.
    jobs=[dg.define_asset_job("cluster",
                              selection=dg.AssetSelection.groups("cluster") - dg.AssetSelection.assets(IMAGE_ASSET),
                              description="Distributed engines on clusters: partitioned posts, cells, analysis."),
          dg.define_asset_job("cluster_images", selection=dg.AssetSelection.assets(IMAGE_ASSET, "cluster_analysis"),
                              description="The image pipeline on each engine's cluster, then the analysis.")],
)
