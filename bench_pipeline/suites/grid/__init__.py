"""The grid: every engine at every thread count on the main dataset (`bench-pipeline run`), and the verdict."""

from __future__ import annotations

import sys
from pathlib import Path

from bench_pipeline.analysis import calibration
from bench_pipeline.analysis.verdict import TABLE_COLUMNS, build_verdict, questions, verdict_rows
from bench_pipeline.config import options as opt
from bench_pipeline.config import state
from bench_pipeline.engines import missing_optional, optional_note
from bench_pipeline.harness import provenance
from bench_pipeline.report import fmt
from bench_pipeline.results.store import ResultsStore
from bench_pipeline.suites import Suite, SuiteConfig, Summary, print_summary
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
    p.add_argument("--query-budget", dest="query_budget_s", type=opt.positive_float, default=None,
                   help="seconds of warm runs per process, after which no more are added (default: 30)")


def _run(args) -> SuiteConfig:
    if missing := missing_optional(args.engines or ()):  # names --engines and the install command
        raise opt.UsageError("argument --engines: " + "; ".join(missing.values()))
    s = opt.main_settings_from(args)
    try:
        cells.grid_keys(s.engines, s.threads)
    except ValueError as exc:
        raise opt.UsageError(str(exc)) from None
    if not args.engines and (note := optional_note()):
        print(note, file=sys.stderr)
    return SuiteConfig(s)


def _title(run: SuiteConfig) -> str:
    s = run.main
    return f"engines {','.join(s.engines)} x threads {','.join(map(str, s.threads))}, {s.rows:,} rows"


def grid_verdict(s, latest: list[dict], cores: int, rows: int | None):
    """The verdict on the asked engines and threads, with the machine's noise prior and calibrated resolution."""
    prior, _ = calibration.prior(s.home)
    return build_verdict(verdict_rows(latest, s.engines, s.threads), cores, rows, prior=prior,
                         most_processes=s.max_processes, resolves=calibration.resolves(s.home))


def _questions(run: SuiteConfig, measurements, noise):
    return questions(measurements, cells.ASSET, provenance.logical_cores(), noise)


def _summary(run: SuiteConfig, result) -> Summary:
    from bench_pipeline.suites.grid.metrics import read_metrics  # metrics imports this module

    s = run.main
    latest = read_metrics(ResultsStore(s.store_path))["metrics_latest"] if result.report else []
    verdict = grid_verdict(s, latest, provenance.logical_cores(), s.rows) if latest else None
    notes: tuple[str, ...] = ()
    if verdict:
        notes += ("", "Verdict:", *(f"- {line}" for line in verdict.recommendation),
                  *(f"- caveat: {line}" for line in verdict.caveats))

    def show():
        print_summary(latest, "latest measurement per cell and query")
        if verdict:
            fmt.print_rich(verdict.table(), TABLE_COLUMNS, "every comparison of the verdict")

    return Summary(latest, "latest measurement per cell and query", notes, show=show,
                   extra={"verdict": verdict.as_json() if verdict else None})


def _room(run: SuiteConfig) -> None:
    state.check_datasets(run.main.home, {run.main.data_dir: run.main.rows})


SUITE = Suite(
    name="grid", command="run",
    help="the whole benchmark through Dagster, measuring only stale or missing cells; ends with the verdict",
    settings=None, options=_options, config_from_args=_run, data=lambda run: [cells.dataset_step(run.main)],
    cells=lambda run: [cells.group(run.main)], room=_room, title=_title, summary=_summary,
    outputs=("metrics", "speedup_plots", "benchmark_report"), questions=_questions,
    budget="round 1 measures every query of every stale cell once; then each process goes to the open comparison "
           "most likely to be decided per second: the fastest engine against each engine that could still be as "
           "fast first, then those engines' scaling, then the rest",
    parents=("measure", "budget", "data", "json"),
)
