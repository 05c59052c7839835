"""Runs whose process is gone (kill -9, OOM, power loss): noticed, marked failed, their pool slots freed.

Every run carries its owner's pid, start time and host as tags (`owner_tags`:
set by the CLI when it launches a run, and by the `bench` resource when a run
starts: with the in-process executor, the run's own worker process). `reap_dead_runs` marks an in-progress run whose
owner is no longer alive as failed (so its cell is stale and measured again)
and frees the concurrency slots it held, as Dagster's run monitoring does for
run launchers that can check their workers (the default launcher cannot). It is
called when any pipeline command prepares the instance, by the `reap_dead_runs`
sensor of the UI's daemon, and by the nightly schedule before it looks for
stale cells.
"""

from __future__ import annotations

import os
import socket

import dagster as dg
import psutil

from bench_pipeline.harness import scratch

OWNER_PID = "bench/owner_pid"
OWNER_START = "bench/owner_start"
OWNER_HOST = "bench/owner_host"
# When the launcher decided the cell was stale: a cell measured by another run after that is not measured again.
DECIDED_AT = "bench/decided_at"
# On a cell run launched after the rounds measured the cell (harness/rounds.py): its cell_run_id in the store.
RECORDED = "bench/recorded_cell"
POOL = "bench_cells"
_IN_PROGRESS = [dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED,
                dg.DagsterRunStatus.CANCELING]


def owner_tags(pid: int | None = None) -> dict[str, str]:
    p = psutil.Process(pid or os.getpid())
    return {OWNER_PID: str(p.pid), OWNER_START: f"{p.create_time():.2f}", OWNER_HOST: socket.gethostname()}


def claim_run(instance: dg.DagsterInstance, run: dg.DagsterRun) -> None:
    """Tag the run with this process as its owner (unless it already is)."""
    mine = owner_tags()
    if any(run.tags.get(k) != v for k, v in mine.items()):
        instance.add_run_tags(run.run_id, mine)


def owner_alive(tags) -> bool | None:
    """Is the process that owns a run alive? None when the run has no owner tags or another host owns it."""
    if OWNER_PID not in tags or tags.get(OWNER_HOST) != socket.gethostname():
        return None
    try:
        return f"{psutil.Process(int(tags[OWNER_PID])).create_time():.2f}" == tags.get(OWNER_START)
    except (psutil.NoSuchProcess, ValueError):
        return False


def reap_dead_runs(instance: dg.DagsterInstance, owned_by_me: bool = False) -> list[str]:
    """Mark failed every in-progress run whose owner is gone (or, with owned_by_me, this process's own
    runs: an interrupted command that cannot wait for them), free their slots and those of ended runs.
    Returns the run ids marked failed."""
    mine = owner_tags()
    reaped = []
    for record in instance.get_run_records(dg.RunsFilter(statuses=_IN_PROGRESS)):
        run = record.dagster_run
        if owned_by_me:
            dead = all(run.tags.get(k) == v for k, v in mine.items())
            why = "interrupted"
        else:
            dead = owner_alive(run.tags) is False
            why = f"the process that ran it (pid {run.tags.get(OWNER_PID)}) is gone"
        if dead:
            instance.report_run_failed(run, message=f"{why}; marked failed by bench_pipeline")
            instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
            reaped.append(run.run_id)
    storage = instance.event_log_storage
    if storage.supports_global_concurrency_limits:
        for run_id in storage.get_concurrency_run_ids():
            run = instance.get_run_by_id(run_id)
            if run is None or run.is_finished:
                storage.free_concurrency_slots_for_run(run_id)
    return reaped


def pool_holders(instance: dg.DagsterInstance, pool: str = POOL) -> list[str]:
    """Who holds the pool's slots now, as 'run <id> (pid N)'."""
    storage = instance.event_log_storage
    if not storage.supports_global_concurrency_limits:
        return []
    out = []
    for slot in storage.get_concurrency_info(pool).claimed_slots:
        run = instance.get_run_by_id(slot.run_id)
        pid = run.tags.get(OWNER_PID) if run else None
        out.append(f"run {slot.run_id[:8]}" + (f" (pid {pid})" if pid else ""))
    return out


@dg.sensor(name="reap_dead_runs", minimum_interval_seconds=30, default_status=dg.DefaultSensorStatus.RUNNING,
           description="Marks failed the runs whose process is gone (killed, OOM) and frees their pool slots.")
def reap_dead_runs_sensor(context: dg.SensorEvaluationContext):
    scratch.remove_dead()
    reaped = reap_dead_runs(context.instance)
    return dg.SkipReason(f"marked {len(reaped)} dead runs failed: {', '.join(reaped)}" if reaped
                         else "no dead runs")
