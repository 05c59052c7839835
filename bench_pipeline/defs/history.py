"""History: the `history` asset (the store's `history` table, the flagged changes, figures over time) and the
`canary`, a small fixed cell measured every night even when fresh (history/__init__.py says what it is for)."""

import dagster as dg

from bench_pipeline.analysis.history import (
    CANARY_ENGINE,
    CANARY_QUERIES,
    CANARY_ROWS,
    CANARY_SUITE,
    build_history,
    changes,
    find_changes,
    history_rows,
)
from bench_pipeline.analysis.history.figures import draw_all
from bench_pipeline.data.datagen import ensure_dataset
from bench_pipeline.defs.automation import CANARY_CRON, local_timezone, tick_key
from bench_pipeline.defs.common import pictures
from bench_pipeline.defs.resources import BenchSettings
from bench_pipeline.defs.runs import POOL
from bench_pipeline.harness.instrument import CellSpec, run_cell


@dg.asset(group_name="analysis",
          description="Every measurement of every query over time (table `history`), the regressions and "
                      "improvements the verdict's rule flags between re-measures, and time-against-date figures.")
def history(bench: BenchSettings) -> dg.MaterializeResult:
    s = bench.settings()
    store = bench.store()
    measurements = build_history(store)
    rows = history_rows(store)
    changes = sorted(find_changes(rows, s.regression_threshold), key=lambda c: c.after_at, reverse=True)
    plots = draw_all(rows, s.plots_dir, changes)
    return dg.MaterializeResult(metadata={
        "measurements": measurements,
        "series": len({r["series"] for r in rows}),
        "regressions": sum(c.kind == "regression" for c in changes),
        "improvements": sum(c.kind == "improvement" for c in changes),
        "changes": dg.MetadataValue.md("\n".join(f"- {c.after_at:%Y-%m-%d %H:%M}: {c.line()}" for c in changes[:50])
                                       or "none flagged"),
        "figures": pictures(plots) if plots else "no query measured twice yet",
    })


@dg.asset(group_name="canary", pool=POOL,
          description=f"{CANARY_ENGINE} at 1 thread on {CANARY_ROWS:,} rows, measured every night even when fresh: "
                      "when it moves, the machine did, and the night's regressions say so.")
def canary(context: dg.AssetExecutionContext, bench: BenchSettings) -> dg.MaterializeResult:
    s = bench.settings()
    data = ensure_dataset(s.data_dir_for(CANARY_ROWS), CANARY_ROWS, s.seed)
    store = bench.store()
    # Held to the settings' timeout like every cell: a hanging engine must not hold the night's queue longer.
    result = run_cell(CellSpec(CANARY_ENGINE, 1, data, queries=CANARY_QUERIES, repeats=max(s.repeats, 5),
                               timeout_s=s.timeout_s, suite=CANARY_SUITE, dagster_run_id=context.run.run_id,
                               **s.repetition_settings),
                     store)
    if failed := {q: st for q, st in result.statuses().items() if st != "ok"}:
        raise dg.Failure(f"the canary failed: {failed}")
    moved = changes(store, s.regression_threshold, {result.cell_run_id})
    return dg.MaterializeResult(metadata={"cell_run_id": result.cell_run_id,
                                          "moved": "; ".join(c.line() for c in moved) or "no"})


canary_job = dg.define_asset_job("canary_job", selection=[canary])


@dg.schedule(cron_schedule=CANARY_CRON, job=canary_job,
             execution_timezone=local_timezone(), default_status=dg.DefaultScheduleStatus.RUNNING,
             description="Every night, before the stale cells: the canary, measured even when fresh.")
def nightly_canary(context: dg.ScheduleEvaluationContext):
    return dg.RunRequest(run_key=f"canary:{tick_key(context.scheduled_execution_time)}")
