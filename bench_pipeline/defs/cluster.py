"""Spark on a cluster (the lab's Task 2): partitioned storage, executor-scaling cells, analysis.

`spark_cluster_cells` is partitioned by executor count x data layout (keys like
'3|partitioned'). Each cell starts a real standalone cluster for its step
(master + one-core workers on 127.0.0.1) and stops it when the step ends, or
connects to an existing cluster when `master_url` is configured. Cells share the
`bench_cells` pool with the engine x threads cells: one at a time per machine.
"""

import os

import dagster as dg

from bench_pipeline.defs.common import cell_checks, cell_outcome, dataset, measure_cell, measured_with
from bench_pipeline.defs.resources import BenchSettings
from bench_pipeline.suites.cluster.cells import LAYOUTS, ClusterConfig, run_cluster_cell
from bench_pipeline.suites.cluster.metrics import build_cluster_metrics, draw_cluster
from bench_pipeline.datagen import partition_by_category
from bench_pipeline.dataset import DatasetError, open_dataset
from bench_pipeline.harness import provenance
from bench_pipeline.harness.machine_lock import measurement_lock
from bench_pipeline.versions import harness_code_hash

EXECUTOR_COUNTS = [n.strip() for n in os.environ.get("BENCH_CLUSTER_EXECUTORS", "2,3,4").split(",") if n.strip()]
CLUSTER_CELLS = dg.MultiPartitionsDefinition({
    "executors": dg.StaticPartitionsDefinition(EXECUTOR_COUNTS),
    "layout": dg.StaticPartitionsDefinition(list(LAYOUTS)),
})
CLUSTER_KEY = dg.AssetKey("spark_cluster_cells")


class SparkCluster(dg.ConfigurableResource):
    """Where the cluster cells run. Unset master_url: a standalone cluster started per cell on this machine."""

    master_url: str | None = None  # spark://host:7077, yarn (Dataproc), k8s://https://...
    data_uri: str | None = None  # the data folder as the executors see it: hdfs://..., gs://...
    cores_per_worker: int = 1
    worker_memory: str = "2g"
    executor_memory: str = "1536m"
    driver_memory: str = "2g"

    def config(self) -> ClusterConfig:
        env = os.environ
        return ClusterConfig(
            master_url=self.master_url or env.get("BENCH_CLUSTER_MASTER") or None,
            data_uri=self.data_uri or env.get("BENCH_CLUSTER_DATA_URI") or None,
            cores_per_worker=self.cores_per_worker, worker_memory=self.worker_memory,
            executor_memory=self.executor_memory, driver_memory=self.driver_memory,
        )


def _data(bench: BenchSettings):
    try:
        return open_dataset(bench.settings().data_dir)
    except DatasetError as exc:
        raise dg.Failure(f"the dataset is not there ({exc}); materialize `dataset` first") from None


@dg.asset(group_name="cluster", deps=[dataset],
          description="posts again, Hive-style partitioned by category, for the cluster to read.")
def posts_partitioned(bench: BenchSettings) -> dg.MaterializeResult:
    data = _data(bench)
    with measurement_lock("writing the partitioned posts"):
        out = partition_by_category(data)
    files = list(out.rglob("*.parquet"))
    return dg.MaterializeResult(data_version=dg.DataVersion(data.fingerprint()),
                                metadata={"path": str(out), "files": len(files),
                                          "partitions": len([p for p in out.iterdir() if p.is_dir()])})


@dg.asset(
    partitions_def=CLUSTER_CELLS, group_name="cluster", pool="bench_cells", code_version=harness_code_hash(),
    deps=[dataset, posts_partitioned], check_specs=cell_checks("spark_cluster_cells"),
    description="L, A, B, C on a Spark cluster with N one-core executors, reading one posts layout.",
)
def spark_cluster_cells(context: dg.AssetExecutionContext, bench: BenchSettings,
                        spark_cluster: SparkCluster) -> dg.MaterializeResult:
    s = bench.settings()
    keys = context.partition_key.keys_by_dimension
    executors, layout = int(keys["executors"]), keys["layout"]
    data = _data(bench)
    config = spark_cluster.config()
    store = bench.store()
    measured = measured_with("pyspark", executors * config.cores_per_worker, data, s.repeats)

    def measure() -> dg.MaterializeResult:
        result = run_cluster_cell(data, executors, layout, config, store, repeats=s.repeats,
                                  timeout_s=s.timeout_s, dagster_run_id=context.run.run_id)
        start = next((r.get("cluster_start_seconds") for r in result.rows if r.get("cluster_start_seconds")), None)
        if start:
            context.log.info(f"cluster of {executors} workers started in {start:.1f} s")
        return cell_outcome(context.partition_key, result, store, measured)

    return measure_cell(context, store, measured, measure)


@dg.asset(group_name="cluster", deps=[spark_cluster_cells],
          automation_condition=dg.AutomationCondition.eager().without(~dg.AutomationCondition.any_deps_missing()),
          description="Time vs executors, cluster vs local vs single-node: tables in the store and PNGs.")
def cluster_analysis(bench: BenchSettings) -> dg.MaterializeResult:
    s = bench.settings()
    data = _data(bench)
    m = build_cluster_metrics(bench.store(), data.fingerprint(), provenance.logical_cores())
    if not m["metrics_cluster"]:
        raise dg.Failure("no cluster cells measured yet for this dataset; materialize spark_cluster_cells first")
    paths = draw_cluster(m, s.plots_dir, provenance.logical_cores())
    return dg.MaterializeResult(metadata={"plots": dg.MetadataValue.json([str(p) for p in paths]),
                                          "cells": len({(r["executors"], r["data_layout"])
                                                        for r in m["metrics_cluster"]})})
