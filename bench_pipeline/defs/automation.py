"""Nightly reruns of exactly the stale cells (02:00 local time, on whenever the daemon runs).

The schedule asks `cell_staleness` (which reads the instance) for the cells of
the configured grid and requests one run per stale cell. The cells' pool keeps
them one at a time; metrics, plots and report follow by their automation
conditions once cells land, and engine versions are observed at the same hour.
"""


import os
from pathlib import Path

import dagster as dg

from bench_pipeline.defs.common import benchmark_cells, engine_versions
from bench_pipeline.defs.partitions import add_thread_partitions, grid_keys
from bench_pipeline.defs.runs import DECIDED_AT, reap_dead_runs
from bench_pipeline.defs.staleness import grid_staleness
from bench_pipeline.settings import Settings

NIGHTLY_CRON = "0 2 * * *"

cells_job = dg.define_asset_job("benchmark_cells_job", selection=[benchmark_cells])
observe_job = dg.define_asset_job("observe_engine_versions", selection=[engine_versions])


def suite_jobs() -> list:
    """One job per suite (a job holds assets of one partitioning), so that a user starts the suite they mean
    from the UI's Jobs page, not the hour-long suites together with "Materialize all"."""
    from bench_pipeline.suites.wars.workloads import WORKLOAD_NAMES

    groups = dg.AssetSelection.groups
    jobs = [
        dg.define_asset_job("grid", selection=groups("benchmark", "analysis"),
                            description="The engine x threads grid: dataset, cells, metrics, plots, report."),
        dg.define_asset_job("cluster", selection=groups("cluster"),
                            description="Spark on a standalone cluster: partitioned posts, cells, analysis."),
        dg.define_asset_job("limits_sweep", selection=dg.AssetSelection.assets("sweep_cells"),
                            description="The engines on a size sweep under a memory budget."),
        dg.define_asset_job("limits_modes", selection=dg.AssetSelection.assets("polars_modes", "limits_analysis"),
                            description="Polars eager, lazy and streaming; then the limits analysis."),
    ]
    jobs += [dg.define_asset_job(f"wars_{w}_job", selection=dg.AssetSelection.assets(f"wars_{w}"),
                                 description=f"The Engine Wars workload {w}, one cell per engine.")
             for w in WORKLOAD_NAMES]
    return jobs


def local_timezone() -> str:
    """The machine's IANA zone name (TZ, then /etc/localtime), else UTC."""
    if os.environ.get("TZ"):
        return os.environ["TZ"].lstrip(":")
    try:
        target = str(Path("/etc/localtime").resolve())
        if "zoneinfo/" in target:
            return target.split("zoneinfo/", 1)[1]
    except OSError:
        pass
    return "UTC"


def stale_run_requests(instance: dg.DagsterInstance, settings: Settings, tick: str) -> list[dg.RunRequest]:
    import time

    from bench_pipeline.store import ResultsStore

    reap_dead_runs(instance)  # a cell whose run died is stale, and its pool slot is free again
    ResultsStore(settings.store_path).recover()  # a store that cannot be opened is moved aside
    decided = f"{time.time():.6f}"
    add_thread_partitions(instance, settings.threads)
    stale = grid_staleness(instance, grid_keys(settings.engines, settings.threads), settings)
    return [
        dg.RunRequest(run_key=f"{tick}:{key}", partition_key=key,
                      tags={"bench/stale_reason": reason[:200], DECIDED_AT: decided})
        for key, reason in stale.items()
        if reason is not None
    ]


@dg.schedule(cron_schedule=NIGHTLY_CRON, job=cells_job, execution_timezone=local_timezone(),
             default_status=dg.DefaultScheduleStatus.RUNNING,
             description="Every night: measure again exactly the cells that are missing, failed or stale.")
def nightly_stale_cells(context: dg.ScheduleEvaluationContext):
    tick = context.scheduled_execution_time.strftime("%Y-%m-%d")
    requests = stale_run_requests(context.instance, Settings.from_env(), tick)
    return requests or dg.SkipReason("every cell is fresh")


nightly_observe = dg.ScheduleDefinition(
    name="nightly_engine_versions", cron_schedule=NIGHTLY_CRON, job=observe_job,
    execution_timezone=local_timezone(), default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Observe engine versions and code hashes every night, so the UI shows what changed.",
)
