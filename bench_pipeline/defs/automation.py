"""Nightly reruns of exactly the stale cells (02:00 local time, on whenever the daemon runs).

The schedule asks `orchestrate.stale` (which reads the instance and the store) for the cells of
the configured grid and requests one run per stale cell. The cells' pool keeps
them one at a time; metrics, plots and report follow by their automation
conditions once cells land, and engine versions are observed at the same hour.
"""


import datetime as dt
import os
import sys
import time
from pathlib import Path

import dagster as dg

from bench_pipeline.config.settings import Settings, SettingsError
from bench_pipeline.config.state import StateError, check_home
from bench_pipeline.defs.runs import DECIDED_AT, reap_dead_runs
from bench_pipeline.defs.staleness import stale
from bench_pipeline.results.store import ResultsStore
from bench_pipeline.suites import SuiteConfig, workload
from bench_pipeline.suites.grid import cells as grid_cells
from bench_pipeline.suites.workload.settings import WorkloadSettings
from bench_pipeline.workloads.spec import WorkloadError


def nightly_cron() -> str:
    """When the nightly schedules fire: 02:00 local time. BENCH_NIGHTLY_CRON is for the soak alone
    (bench_pipeline_tests/soak.py), which compresses a month of nights into minutes."""
    cron = os.environ.get("BENCH_NIGHTLY_CRON", "0 2 * * *")
    if len(cron.split()) != 5:  # Dagster checks the fields themselves when the schedules are made
        raise SettingsError(f"BENCH_NIGHTLY_CRON={cron!r} is not a cron expression (five fields, e.g. '0 2 * * *')")
    return cron


NIGHTLY_CRON = nightly_cron()
# The canary ten minutes before the stale cells (the soak's every-minute cron: with them).
CANARY_CRON = "50 1 * * *" if NIGHTLY_CRON == "0 2 * * *" else NIGHTLY_CRON


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


def tick_key(scheduled: dt.datetime) -> str:
    """The part of a run key that names the tick: one run per cell per tick (a date alone would let only the
    first of two ticks on one day launch anything)."""
    return scheduled.strftime("%Y-%m-%dT%H:%M")


def stale_run_requests(instance: dg.DagsterInstance, settings: Settings, tick: str, groups=None,
                       run=None) -> list[dg.RunRequest] | dg.SkipReason:
    """One run request per stale cell of `groups` (default: the grid of the saved settings), but none for a cell
    a run is already queued or running for: a night that outlasts its interval (an engine hanging until its
    timeout) would otherwise queue the cell again at every tick. On a full disk: a SkipReason saying so."""
    if full := full_disk(settings):
        return dg.SkipReason(full)
    reap_dead_runs(instance)  # a cell whose run died is stale, and its pool slot is free again
    ResultsStore(settings.store_path).recover()  # a store that cannot be opened is moved aside
    decided = f"{time.time():.6f}"
    run = run or SuiteConfig(settings)
    pending = pending_partitions(instance)
    return [
        dg.RunRequest(run_key=f"{tick}:{key}", partition_key=key,
                      tags={"bench/stale_reason": reason[:200], DECIDED_AT: decided, CELL_ASSET: g.asset})
        for g in (groups or [grid_cells.group(settings)])
        for key, reason in stale(instance, g, run).items()
        if reason is not None and (g.asset, key) not in pending
    ]


def full_disk(settings: Settings) -> str | None:
    """One line when the state folder's disk has no room for a night (said on the daemon's log, since the
    instance on that disk may not take it), else None: the night launches nothing, its cells stay stale and the
    first night with room measures them."""
    try:
        check_home(settings.home)
    except StateError as exc:
        line = f"bench-pipeline: no cell launched tonight: {exc}; the cells stay stale until there is room"
        print(line, file=sys.stderr, flush=True)
        return line
    return None


CELL_ASSET = "bench/cell_asset"  # the cell asset a nightly run measures
_PENDING = [dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTING,
            dg.DagsterRunStatus.STARTED]


def pending_partitions(instance: dg.DagsterInstance) -> set[tuple[str, str]]:
    """(asset, partition) of every cell a run is queued or running for."""
    out = set()
    for record in instance.get_run_records(dg.RunsFilter(statuses=_PENDING)):
        tags = record.dagster_run.tags
        if CELL_ASSET in tags and "dagster/partition" in tags:
            out.add((tags[CELL_ASSET], tags["dagster/partition"]))
    return out


def workload_groups(settings: Settings):
    """The cells of every registered workload that can be read now (a broken one is skipped, not fatal)."""
    run = SuiteConfig(settings, WorkloadSettings.from_env(settings.home))
    groups = []
    for name in sorted(run.own.paths):
        try:
            groups.append(workload.group(run, name))
        except WorkloadError:
            continue
    return run, groups


@dg.schedule(cron_schedule=NIGHTLY_CRON, job_name="benchmark_cells_job", execution_timezone=local_timezone(),
             default_status=dg.DefaultScheduleStatus.RUNNING,
             description="Every night: measure again exactly the cells that are missing, failed or stale.")
def nightly_stale_cells(context: dg.ScheduleEvaluationContext):
    tick = tick_key(context.scheduled_execution_time)
    requests = stale_run_requests(context.instance, Settings.from_env(), tick)
    return requests or dg.SkipReason("every cell is fresh")


@dg.schedule(cron_schedule=NIGHTLY_CRON, job_name="workload_cells_job", execution_timezone=local_timezone(),
             default_status=dg.DefaultScheduleStatus.RUNNING,
             description="Every night: measure again the stale cells of every registered workload.")
def nightly_stale_workload_cells(context: dg.ScheduleEvaluationContext):
    tick = tick_key(context.scheduled_execution_time)
    settings = Settings.from_env()
    run, groups = workload_groups(settings)
    requests = stale_run_requests(context.instance, settings, tick, groups, run) if groups else []
    return requests or dg.SkipReason("every workload cell is fresh (or no workload is registered)")


nightly_observe = dg.ScheduleDefinition(
    name="nightly_engine_versions", cron_schedule=NIGHTLY_CRON, job_name="observe_engine_versions",
    execution_timezone=local_timezone(), default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Observe engine versions and code hashes every night, so the UI shows what changed.",
)
