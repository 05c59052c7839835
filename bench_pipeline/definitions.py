"""The one Dagster Definitions object of the bench_pipeline code location."""

import dagster as dg

from bench_pipeline.defs.automation import cells_job, nightly_observe, nightly_stale_cells, observe_job, suite_jobs
from bench_pipeline.defs.common import benchmark_cells, dataset, engine_versions
from bench_pipeline.defs.cluster import (
    SparkCluster,
    cluster_analysis,
    posts_partitioned,
    spark_cluster_cells,
)
from bench_pipeline.defs.limits import limits_analysis, polars_modes, sweep_cells, sweep_dataset
from bench_pipeline.defs.report import benchmark_report, metrics, speedup_plots
from bench_pipeline.defs.resources import BenchSettings
from bench_pipeline.defs.runs import reap_dead_runs_sensor
from bench_pipeline.defs.wars import WORKLOAD_ASSETS, WarsConfig, wars_dataset, wars_summary

defs = dg.Definitions(
    assets=[engine_versions, dataset, benchmark_cells, metrics, speedup_plots, benchmark_report,
            posts_partitioned, spark_cluster_cells, cluster_analysis,
            sweep_dataset, sweep_cells, polars_modes, limits_analysis,
            wars_dataset, *WORKLOAD_ASSETS, wars_summary],
    jobs=[cells_job, observe_job, *suite_jobs()],
    schedules=[nightly_stale_cells, nightly_observe],
    sensors=[dg.AutomationConditionSensorDefinition("refresh_outputs", target=dg.AssetSelection.groups("analysis")
                                                     | dg.AssetSelection.assets(cluster_analysis, wars_summary),
                                                     default_status=dg.DefaultSensorStatus.RUNNING),
             reap_dead_runs_sensor],
    resources={"bench": BenchSettings(), "spark_cluster": SparkCluster(), "wars": WarsConfig()},
    # A run's steps in its own worker process: the process the `bench` resource names as the run's owner
    # (a dead one is found and failed), and the one SIGTERM interrupts. Cells run one at a time anyway.
    executor=dg.in_process_executor,
)
