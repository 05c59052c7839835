"""The one Dagster Definitions object of the bench_pipeline code location: every suite's definitions
(defs/<suite>.py, one per entry of the suites registry, its assets, checks and jobs) merged with the report,
the history, automation and resources."""

import importlib

import dagster as dg

from bench_pipeline import suites
from bench_pipeline.defs.automation import nightly_observe, nightly_stale_cells, nightly_stale_workload_cells
from bench_pipeline.defs.history import canary, canary_job, history, nightly_canary
from bench_pipeline.defs.report import benchmark_report
from bench_pipeline.defs.resources import BenchSettings, resources
from bench_pipeline.defs.runs import reap_dead_runs_sensor


def _shared() -> dg.Definitions:
    """The report, automation, sensors, the resource and the executor: what every suite shares."""
    return dg.Definitions(
        assets=[benchmark_report, history, canary],
        jobs=[canary_job],
        schedules=[nightly_stale_cells, nightly_stale_workload_cells, nightly_observe, nightly_canary],
        sensors=[dg.AutomationConditionSensorDefinition(
                     "refresh_outputs", target=dg.AssetSelection.groups("analysis")
                     | dg.AssetSelection.assets("cluster_analysis", "wars_summary"),
                     default_status=dg.DefaultSensorStatus.RUNNING),
                 reap_dead_runs_sensor],
        resources=resources(BenchSettings()),
        # A run's steps in its own worker process: the process the `bench` resource names as the run's owner
        # (a dead one is found and failed), and the one SIGTERM interrupts. Cells run one at a time anyway.
        executor=dg.in_process_executor,
    )



defs = dg.Definitions.merge(*(importlib.import_module(s.defs_module).defs for s in suites.all_suites()), _shared())
