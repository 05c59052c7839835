"""Execution models and limits (`bench-pipeline limits`): Polars' eager, lazy and streaming modes, a size
sweep under a memory budget, the measured capability table and the decision boundary."""

from __future__ import annotations

import functools

from bench_pipeline.analysis import stats
from bench_pipeline.analysis.verdict import questions
from bench_pipeline.config import options as opt
from bench_pipeline.config import state
from bench_pipeline.data.dataset import open_dataset
from bench_pipeline.engines import missing_optional
from bench_pipeline.harness import provenance
from bench_pipeline.harness.rounds import OTHER, RECOMMENDATION, SCALING, Question
from bench_pipeline.results.store import ResultsStore
from bench_pipeline.suites import CellGroup, DataStep, Suite, SuiteConfig, Summary, answers
from bench_pipeline.suites.grid import cells as grid
from bench_pipeline.suites.limits.cells import modes_cell, sweep_cell
from bench_pipeline.suites.limits.metrics import MODES, MODES_ENGINE, SWEEP_ENGINES, sweep_engines
from bench_pipeline.suites.limits.settings import LimitsSettings
from bench_pipeline.workloads.social.catalogue import MODE_QUERIES, SWEEP_QUERIES

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


def _run(args) -> SuiteConfig:
    if missing := missing_optional(args.engines or ()):
        raise opt.UsageError("argument --engines: " + "; ".join(missing.values()))
    if args.engines and not sweep_engines(args.engines):
        raise opt.UsageError(f"argument --engines: the limits suite measures {', '.join(SWEEP_ENGINES)}; "
                             f"{', '.join(args.engines)} gives none of them")
    own = LimitsSettings.from_env(sweep_rows=args.sizes, sweep_budget_mib=args.budget_mib,
                                  sweep_repeats=args.sweep_repeats, modes_rows=args.modes_rows,
                                  time_budget_s=args.time_budget_s)
    return SuiteConfig(opt.main_settings_from(args, budget_mib=None, time_budget_s=None), own)


def _data(run: SuiteConfig) -> list[DataStep]:
    s = run.main
    return [DataStep("sweep_dataset", f"dataset: {n:,} rows for the sweep",
                     lambda n=n: grid.fingerprint_of(s.data_dir_for(n)), partition=str(n))
            for n in run.own.all_rows]


def _cells(run: SuiteConfig) -> list[CellGroup]:
    """The engine x {1, cores} threads cells (the capability table's "parallel" evidence), the Polars modes,
    the engine x size cells under the budget."""
    s, own, store = run.main, run.own, ResultsStore(run.main.store_path)
    data = functools.cache(lambda n: open_dataset(s.data_dir_for(n)))
    groups = [grid.group(s, sorted({1, provenance.logical_cores()}))]
    mode_of = {engine: mode for mode, engine in MODES.items()}
    if MODES_ENGINE in s.engines:
        def modes_rows(keys):
            rows = store.latest("suite = 'modes' AND dataset_fingerprint = ?", [data(own.modes_rows).fingerprint()],
                                "engine, query")
            return [{**r, "key": k} for r in rows if (k := mode_of.get(r["engine"])) in keys]

        def mode(key):
            return modes_cell(run, key, data(own.modes_rows))

        groups.append(CellGroup(MODES_ASSET, list(MODES), lambda key: mode(key)[1], queries=len(MODE_QUERIES),
                                spec=lambda key: mode(key)[0], latest_rows=modes_rows,
                                title=lambda key: f"polars {key}"))
    keys = [f"{e}|{n}" for e in sweep_engines(s.engines) for n in own.sweep_rows]

    def sweep_rows(keys):
        rows = store.latest("suite = 'sweep' AND budget_bytes = ?", [own.sweep_budget_bytes],
                            "engine, dataset_rows, query")
        return [{**r, "key": k} for r in rows if (k := f"{r['engine']}|{r['dataset_rows']}") in keys
                and r["dataset_fingerprint"] == data(r["dataset_rows"]).fingerprint()]

    def sweep_spec(key):
        return sweep_cell(run, key, data(int(key.split("|")[1])))

    groups.append(CellGroup(SWEEP_ASSET, keys, lambda key: sweep_spec(key)[1], queries=len(SWEEP_QUERIES),
                            spec=lambda key: sweep_spec(key)[0], latest_rows=sweep_rows,
                            title=lambda key: f"{key.split('|')[0]} on {int(key.split('|')[1]):,} rows",
                            dynamic_partitions={"sweep_rows": [str(n) for n in own.all_rows]}))
    return groups


def _questions(run: SuiteConfig, measurements, noise):
    """Lazy against eager and streaming against lazy per query (the execution models' answer), the grid cells'
    scaling from 1 thread to the cores (the capability table's parallel evidence), and at each size of the sweep
    the fastest engine that fits against the others."""
    by = {(m.key, m.query): m for m in measurements if m.group == MODES_ASSET}
    out = [Question(by[(a, q)], by[(b, q)], "mode", RECOMMENDATION, f"query {q}", f"{a} vs {b}")
           for q in MODE_QUERIES for a, b in (("lazy", "eager"), ("streaming", "lazy"))
           if (a, q) in by and (b, q) in by]
    out += [q for q in questions(measurements, grid.ASSET, provenance.logical_cores(), noise, (OTHER, SCALING, SCALING))
            if q.kind == "scaling"]
    sizes: dict[tuple[str, str], list] = {}
    for m in measurements:
        if m.group == SWEEP_ASSET and m.valid:
            sizes.setdefault((m.key.split("|")[1], m.query), []).append(m)
    for (rows, q), ms in sizes.items():
        best = min(ms, key=lambda m: stats.level(m.values, noise).value)
        out += [Question(m, best, "sweep", OTHER, f"{int(rows):,} rows, query {q}", f"{m.engine} vs {best.engine}")
                for m in ms if m is not best]
    return out


def _room(run: SuiteConfig) -> None:
    state.check_datasets(run.main.home, {run.main.data_dir_for(n): n for n in run.own.all_rows}, "argument --sizes")


def _title(run: SuiteConfig) -> str:
    own = run.own
    return (f"limits: sizes {','.join(f'{n:,}' for n in own.sweep_rows)} under {own.sweep_budget_mib:,} MiB, "
            f"Polars modes on {own.modes_rows:,} rows")


def _summary(run: SuiteConfig, result) -> Summary:
    from bench_pipeline.suites.limits.section import analyse  # section imports this module

    a = analyse(run.main, run.own, ResultsStore(run.main.store_path), provenance.logical_cores(), draw=False) \
        if result.report else None
    rows = [{**r, "engine": f"{r['engine']} @{r['dataset_rows']:,}", "threads_asked": r["threads_asked"]}
            for r in (a.metrics["metrics_sweep"] if a else [])]
    notes = tuple(f"- {line}" for line in [*a.modes, *a.disagreements, *a.decision]) if a else ()
    answered = [q for q in answers(SUITE, run) if q.kind != "scaling"] if a else []
    if answered:
        notes += ("", "Answers by the rule:", *(f"- {q.sentence()}" for q in answered))
    return Summary(rows, f"sweep under {run.own.sweep_budget_mib:,} MiB", notes,
                   extra={"answers": [q.as_json() for q in answered]})


SUITE = Suite(
    name="limits", command="limits",
    help="Polars eager/lazy/streaming, a size sweep under a memory budget, the measured capability table and the "
         "decision boundary",
    settings=LimitsSettings, options=_options, config_from_args=_run, data=_data, cells=_cells, room=_room,
    title=_title, summary=_summary, outputs=("limits_analysis", "metrics", "speedup_plots", "benchmark_report"),
    questions=_questions,
    budget="round 1 measures every query of every stale cell once (an oom or a timeout in the sweep is its answer "
           "and gets no second process); then each process goes to the open comparison most likely to be decided "
           "per second: lazy against eager and streaming against lazy first, then the engines' scaling, then the "
           "engines at each size of the sweep",
    stored_as=("modes", "sweep"),
)
