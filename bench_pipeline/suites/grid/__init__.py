"""The grid: every engine at every thread count on the main dataset (`bench-pipeline run`), and the verdict."""

from __future__ import annotations

import sys
from pathlib import Path

from bench_pipeline import options as opt
from bench_pipeline import state
from bench_pipeline.suites import Suite, SuiteRun, Summary
from bench_pipeline.suites.grid import cells


def _options(p) -> None:
    p.add_argument("--workload", type=Path, default=None,
                   help="a folder with a workload.toml: measure your own tables and SQL instead (its cells are "
                        "engine x threads, every query in each); `social`: the built-in benchmark as a workload")
    p.add_argument("--engines", type=opt.engine_list, default=None,
                   help="comma-separated engines (default: the core four and the installed optional ones)")
    p.add_argument("--threads", type=opt.int_list, default=None,
                   help="comma-separated thread counts, any positive whole numbers (default: 1, 2, 4, ... up to "
                        "the machine's cores, and twice the cores)")
    p.add_argument("--max-repeats", type=opt.positive_int, default=None,
                   help="the most warm runs per query while the median is not yet precise (default: 30)")
    p.add_argument("--precision", type=opt.positive_float, default=None,
                   help="stop adding warm runs once the 95 %% interval is within this share of the typical time "
                        "(default: 0.05)")
    p.add_argument("--query-budget", dest="query_budget_s", type=opt.positive_float, default=None,
                   help="seconds of warm runs per query, after which no more are added (default: 30)")


def _run(args) -> SuiteRun:
    from bench_pipeline.engines import missing_optional, optional_note

    if missing := missing_optional(args.engines or ()):  # names --engines and the install command
        raise opt.UsageError("argument --engines: " + "; ".join(missing.values()))
    s = opt.main_settings_from(args)
    try:
        cells.grid_keys(s.engines, s.threads)
    except ValueError as exc:
        raise opt.UsageError(str(exc)) from None
    if not args.engines and (note := optional_note()):
        print(note, file=sys.stderr)
    return SuiteRun(s)


def _title(run: SuiteRun) -> str:
    s = run.main
    return f"engines {','.join(s.engines)} x threads {','.join(map(str, s.threads))}, {s.rows:,} rows"


def _summary(run: SuiteRun, result) -> Summary:
    from bench_pipeline.harness import provenance
    from bench_pipeline.store import ResultsStore
    from bench_pipeline.suites.grid.metrics import read_metrics
    from bench_pipeline.verdict import build_verdict, verdict_rows

    s = run.main
    latest = read_metrics(ResultsStore(s.store_path))["metrics_latest"] if result.report else []
    latest = verdict_rows(latest, s.engines, s.threads)
    verdict = build_verdict(latest, provenance.logical_cores(), s.rows) if latest else None
    notes = ("", "Verdict:", *(f"- {line}" for line in verdict.recommendation),
             *(f"- caveat: {line}" for line in verdict.caveats)) if verdict else ()
    return Summary(latest, "latest measurement per cell and query", notes,
                   extra={"verdict": verdict.as_json() if verdict else None})


def _room(run: SuiteRun) -> None:
    state.check_datasets(run.main.home, {run.main.data_dir: run.main.rows})


SUITE = Suite(
    name="grid", command="run",
    help="the whole benchmark through Dagster, measuring only stale or missing cells; ends with the verdict",
    settings=None, options=_options, run_from_args=_run, data=lambda run: [cells.dataset_step(run.main)],
    cells=lambda run: [cells.group(run.main)], room=_room, title=_title, summary=_summary,
    outputs=("metrics", "speedup_plots", "benchmark_report"), parents=("measure", "data", "json"),
)
