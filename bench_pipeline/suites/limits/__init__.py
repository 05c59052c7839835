"""Execution models and limits (`bench-pipeline limits`): Polars' eager, lazy and streaming modes, a size
sweep under a memory budget, the measured capability table and the decision boundary."""

from __future__ import annotations

import functools

from bench_pipeline import options as opt
from bench_pipeline.queries import MODE_QUERIES, SWEEP_QUERIES
from bench_pipeline.suites import CellGroup, DataStep, Suite, SuiteRun, Summary
from bench_pipeline.suites.grid import cells as grid
from bench_pipeline.suites.limits.cells import modes_cell, sweep_cell
from bench_pipeline.suites.limits.metrics import MODES, MODES_ENGINE, SWEEP_ENGINES, sweep_engines
from bench_pipeline.suites.limits.settings import LimitsSettings

SWEEP_ASSET = "sweep_cells"
MODES_ASSET = "polars_modes"


def _options(p) -> None:
    p.add_argument("--sizes", type=opt.int_list, default=None,
                   help="posts rows of the sweep (default: 1000000,2500000,7500000)")
    p.add_argument("--modes-rows", type=opt.positive_int, default=None,
                   help="posts rows for the Polars modes (default: 2,500,000)")
    p.add_argument("--sweep-repeats", type=opt.positive_int, default=None,
                   help="warm runs per sweep query (default: 1)")
    p.add_argument("--engines", type=opt.engine_list, default=None, help="engines of the sweep (default: as `run`)")
    for action in p._actions:  # here the budget is the sweep's, with its own default
        if action.dest == "budget_mib":
            action.help = "the sweep's memory budget in MiB (default: 1152)"


def _run(args) -> SuiteRun:
    from bench_pipeline.engines import missing_optional

    if missing := missing_optional(args.engines or ()):
        raise opt.UsageError("argument --engines: " + "; ".join(missing.values()))
    if args.engines and not sweep_engines(args.engines):
        raise opt.UsageError(f"argument --engines: the limits suite measures {', '.join(SWEEP_ENGINES)}; "
                             f"{', '.join(args.engines)} gives none of them")
    own = LimitsSettings.from_env(sweep_rows=args.sizes, sweep_budget_mib=args.budget_mib,
                                  sweep_repeats=args.sweep_repeats, modes_rows=args.modes_rows)
    return SuiteRun(opt.main_settings_from(args, budget_mib=None), own)


def _data(run: SuiteRun) -> list[DataStep]:
    s = run.main
    return [DataStep("sweep_dataset", f"dataset: {n:,} rows for the sweep",
                     lambda n=n: grid.fingerprint_of(s.data_dir_for(n)), partition=str(n))
            for n in run.own.all_rows]


def _cells(run: SuiteRun) -> list[CellGroup]:
    """The engine x {1, cores} threads cells (the capability table's "parallel" evidence), the Polars modes,
    the engine x size cells under the budget."""
    from bench_pipeline.dataset import open_dataset
    from bench_pipeline.harness import provenance

    s, own = run.main, run.own
    data = functools.cache(lambda n: open_dataset(s.data_dir_for(n)))
    groups = [grid.group(s, sorted({1, provenance.logical_cores()}))]
    if MODES_ENGINE in s.engines:
        groups.append(CellGroup(MODES_ASSET, list(MODES), lambda key: modes_cell(run, key, data(own.modes_rows))[1],
                                queries=len(MODE_QUERIES)))
    keys = [f"{e}|{n}" for e in sweep_engines(s.engines) for n in own.sweep_rows]
    groups.append(CellGroup(SWEEP_ASSET, keys, lambda key: sweep_cell(run, key, data(int(key.split("|")[1])))[1],
                            queries=len(SWEEP_QUERIES),
                            dynamic_partitions={"sweep_rows": [str(n) for n in own.all_rows]}))
    return groups


def _room(run: SuiteRun) -> None:
    from bench_pipeline import state

    state.check_datasets(run.main.home, {run.main.data_dir_for(n): n for n in run.own.all_rows}, "argument --sizes")


def _title(run: SuiteRun) -> str:
    own = run.own
    return (f"limits: sizes {','.join(f'{n:,}' for n in own.sweep_rows)} under {own.sweep_budget_mib:,} MiB, "
            f"Polars modes on {own.modes_rows:,} rows")


def _summary(run: SuiteRun, result) -> Summary:
    from bench_pipeline.harness import provenance
    from bench_pipeline.store import ResultsStore
    from bench_pipeline.suites.limits.report import analyse

    a = analyse(run.main, run.own, ResultsStore(run.main.store_path), provenance.logical_cores(), draw=False) \
        if result.report else None
    rows = [{**r, "engine": f"{r['engine']} @{r['dataset_rows']:,}", "threads_asked": r["threads_asked"]}
            for r in (a.metrics["metrics_sweep"] if a else [])]
    notes = tuple(f"- {line}" for line in [*a.modes, *a.disagreements, *a.decision]) if a else ()
    return Summary(rows, f"sweep under {run.own.sweep_budget_mib:,} MiB", notes)


SUITE = Suite(
    name="limits", command="limits",
    help="Polars eager/lazy/streaming, a size sweep under a memory budget, the measured capability table and the "
         "decision boundary",
    settings=LimitsSettings, options=_options, run_from_args=_run, data=_data, cells=_cells, room=_room,
    title=_title, summary=_summary, outputs=("limits_analysis", "metrics", "speedup_plots", "benchmark_report"),
    stored_as=("modes", "sweep"),
)
