"""Nightly reruns of exactly the stale cells (02:00 local time, on whenever the daemon runs).

The schedule asks `orchestrate.stale` (which reads the instance and the store) for the cells of
the configured grid and requests one run per stale cell. The cells' pool keeps
them one at a time; metrics, plots and report follow by their automation
conditions once cells land, and engine versions are observed at the same hour.
"""


import os
from pathlib import Path

import dagster as dg

from bench_pipeline.defs.runs import DECIDED_AT, reap_dead_runs
from bench_pipeline.settings import Settings

NIGHTLY_CRON = "0 2 * * *"

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


def stale_run_requests(instance: dg.DagsterInstance, settings: Settings, tick: str, groups=None,
                       run=None) -> list[dg.RunRequest]:
    """One run request per stale cell of `groups` (default: the grid of the saved settings)."""
    import time

    from bench_pipeline.defs.staleness import stale
    from bench_pipeline.store import ResultsStore
    from bench_pipeline.suites import SuiteRun
    from bench_pipeline.suites.grid.cells import group

    reap_dead_runs(instance)  # a cell whose run died is stale, and its pool slot is free again
    ResultsStore(settings.store_path).recover()  # a store that cannot be opened is moved aside
    decided = f"{time.time():.6f}"
    run = run or SuiteRun(settings)
    return [
        dg.RunRequest(run_key=f"{tick}:{key}", partition_key=key,
                      tags={"bench/stale_reason": reason[:200], DECIDED_AT: decided})
        for g in (groups or [group(settings)])
        for key, reason in stale(instance, g, run).items()
        if reason is not None
    ]


def workload_groups(settings: Settings):
    """The cells of every registered workload that can be read now (a broken one is skipped, not fatal)."""
    from bench_pipeline.suites import SuiteRun
    from bench_pipeline.suites.workload import group
    from bench_pipeline.suites.workload.settings import WorkloadSettings
    from bench_pipeline.workloads.spec import WorkloadError

    run = SuiteRun(settings, WorkloadSettings.from_env(settings.home))
    groups = []
    for name in sorted(run.own.paths):
        try:
            groups.append(group(run, name))
        except WorkloadError:
            continue
    return run, groups


@dg.schedule(cron_schedule=NIGHTLY_CRON, job_name="benchmark_cells_job", execution_timezone=local_timezone(),
             default_status=dg.DefaultScheduleStatus.RUNNING,
             description="Every night: measure again exactly the cells that are missing, failed or stale.")
def nightly_stale_cells(context: dg.ScheduleEvaluationContext):
    tick = context.scheduled_execution_time.strftime("%Y-%m-%d")
    requests = stale_run_requests(context.instance, Settings.from_env(), tick)
    return requests or dg.SkipReason("every cell is fresh")


@dg.schedule(cron_schedule=NIGHTLY_CRON, job_name="workload_cells_job", execution_timezone=local_timezone(),
             default_status=dg.DefaultScheduleStatus.RUNNING,
             description="Every night: measure again the stale cells of every registered workload.")
def nightly_stale_workload_cells(context: dg.ScheduleEvaluationContext):
    tick = context.scheduled_execution_time.strftime("%Y-%m-%d")
    settings = Settings.from_env()
    run, groups = workload_groups(settings)
    requests = stale_run_requests(context.instance, settings, tick, groups, run) if groups else []
    return requests or dg.SkipReason("every workload cell is fresh (or no workload is registered)")


nightly_observe = dg.ScheduleDefinition(
    name="nightly_engine_versions", cron_schedule=NIGHTLY_CRON, job_name="observe_engine_versions",
    execution_timezone=local_timezone(), default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Observe engine versions and code hashes every night, so the UI shows what changed.",
)
