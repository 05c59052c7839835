"""Your own workload (`bench-pipeline run --workload DIR`): engines x threads cells on its tables and SQL."""

from __future__ import annotations

from pathlib import Path

from bench_pipeline.analysis import calibration
from bench_pipeline.analysis.verdict import build_verdict, questions, verdict_rows
from bench_pipeline.config import options as opt
from bench_pipeline.config import state
from bench_pipeline.data.datagen import ensure_dataset
from bench_pipeline.engines import ENGINE_NAMES, missing_optional
from bench_pipeline.harness import provenance
from bench_pipeline.results.store import ResultsStore
from bench_pipeline.suites import CellGroup, Suite, SuiteConfig, Summary
from bench_pipeline.suites.workload import cells
from bench_pipeline.suites.workload.settings import WorkloadSettings
from bench_pipeline.workloads import social
from bench_pipeline.workloads.spec import WorkloadError, load_workload


def resolve(workload: Path, settings) -> Path:
    """`--workload social` names the built-in workload on the main settings' dataset (generated when missing);
    any other value is a folder."""
    if str(workload) != social.NAME or workload.exists():
        return workload
    state.check_datasets(settings.home, {settings.data_dir: settings.rows})
    state.prepare(settings.home, settings.store_path)
    return social.write(settings.home, ensure_dataset(settings.data_dir, settings.rows, settings.seed))


def _run(args) -> SuiteConfig:
    if missing := missing_optional(args.engines or ()):
        raise opt.UsageError("argument --engines: " + "; ".join(missing.values()))
    if args.engines and (other := [e for e in args.engines if e not in ENGINE_NAMES]):
        raise opt.UsageError(f"argument --engines: a workload runs on {', '.join(ENGINE_NAMES)}, not "
                             f"{', '.join(other)}")
    main = opt.main_settings_from(args, engines=None, threads=None, time_budget_s=None)
    try:
        w = load_workload(resolve(args.workload, main))
    except WorkloadError as exc:
        raise opt.UsageError(f"argument --workload: {exc}") from None
    saved = WorkloadSettings.from_env(main.home)
    own = WorkloadSettings.from_env(main.home, paths={**saved.paths, w.name: str(w.root)}, current=w.name,
                                    engines=args.engines, threads=args.threads, time_budget_s=args.time_budget_s)
    return SuiteConfig(main, own)


def engines_threads(run: SuiteConfig) -> tuple[tuple[str, ...], tuple[int, ...]]:
    engines = run.own.engines or tuple(e for e in run.main.engines if e in ENGINE_NAMES)
    return engines, run.own.threads or run.main.threads


def _workload(path: str):
    # Read again every time: a long-lived process (the daemon) must see an edited query.
    return load_workload(path)


def group(run: SuiteConfig, name: str) -> CellGroup:
    """The cells of one registered workload."""
    w = _workload(run.own.paths[name])
    engines, threads = engines_threads(run)
    keys = [cells.key(w.name, e, t) for e in engines for t in threads]

    def measured(k: str) -> dict:
        _, engine, t = cells.split_key(k)
        return cells.measured_with(w, engine, t, run.main.repeats, run.main.repetition_settings)

    def spec(k: str):
        _, engine, t = cells.split_key(k)
        return cells.cell_spec(w, engine, t, run.main)

    store = ResultsStore(run.main.store_path)
    return CellGroup(cells.ASSET, keys, measured, queries=len(w.queries), spec=spec,
                     latest_rows=lambda ks: cells.latest_rows(store, w, ks),
                     dynamic_partitions={cells.PARTITIONS: keys})


def _questions(run: SuiteConfig, measurements, noise):
    return questions(measurements, cells.ASSET, provenance.logical_cores(), noise,
                     order=list(_workload(run.own.paths[run.own.current]).queries))


def _title(run: SuiteConfig) -> str:
    engines, threads = engines_threads(run)
    return (f"workload {run.own.current} ({run.own.paths[run.own.current]}): engines {','.join(engines)} x threads "
            f"{','.join(map(str, threads))}")


def latest(run: SuiteConfig, store, name: str | None = None) -> tuple[list[dict], object]:
    from bench_pipeline.suites.workload.metrics import build_workload_metrics  # metrics imports this module

    w = _workload(run.own.paths[name or run.own.current])
    return build_workload_metrics(store, w.name, w.fingerprint(), list(w.queries)), w


def workload_verdict(run: SuiteConfig, rows: list[dict], w, cores: int):
    """The workload's verdict on its asked engines and threads, with the machine's noise prior."""
    prior, _ = calibration.prior(run.main.home)
    return build_verdict(rows, cores, None, queries=list(w.queries), prior=prior,
                         most_processes=run.main.max_processes, resolves=calibration.resolves(run.main.home))


def _summary(run: SuiteConfig, result) -> Summary:
    from bench_pipeline.suites.workload.metrics import geometric_ratios  # metrics imports this module

    rows, w = latest(run, ResultsStore(run.main.store_path))
    engines, threads = engines_threads(run)
    rows = verdict_rows(rows, engines, threads)
    cores = provenance.logical_cores()
    verdict = workload_verdict(run, rows, w, cores) if rows else None
    notes = ("", "Verdict:", *(f"- {line}" for line in verdict.recommendation),
             *(f"- caveat: {line}" for line in verdict.caveats)) if verdict else ()
    means = _geometric_means(rows, list(w.queries))
    notes += ("", "Geometric mean of the median times (only where every query is valid):",
              *(f"- {e} at {t} thread{'s' if t != 1 else ''}: "
                + (f"{g['geomean']:.4f} s" if g["geomean"] is not None else
                   f"{g['valid']} of {len(w.queries)} queries valid")
                for (e, t), g in means.items()))
    ratios = geometric_ratios(rows, list(w.queries), cores, verdict.noise) if verdict else []
    if ratios:
        notes += ("", f"Geometric mean of the time ratios over the {len(w.queries)} queries, at {ratios[0]['threads']} "
                      f"threads (95 % interval):",
                  *(f"- {r['engine']} / {r['against']}: {r['ratio']:.3f}x ({r['low']:.3f}-{r['high']:.3f})"
                    for r in ratios))
    return Summary(rows, f"workload {w.name}: latest measurement per cell and query", notes,
                   extra={"workload": w.name, "verdict": verdict.as_json() if verdict else None,
                          "results": [{k: r.get(k) for k in _KEEP} for r in rows],
                          "geometric_means": [{"engine": e, "threads": t, **g} for (e, t), g in means.items()],
                          "geometric_ratios": ratios})


def _geometric_means(rows: list[dict], queries: list[str]) -> dict:
    from bench_pipeline.suites.workload.metrics import by_cell, geometric_mean  # metrics imports this module

    return {k: geometric_mean(v, queries) for k, v in by_cell(rows).items()}


_KEEP = ("engine", "threads_asked", "query", "status", "cold_seconds", "median_seconds", "ci_low", "ci_high",
         "warm_runs", "peak_rss_bytes", "message")


def _cells(run: SuiteConfig) -> list[CellGroup]:
    """The last workload run's cells (none before any: `bench-pipeline ui` asks every suite)."""
    return [group(run, run.own.current)] if run.own.current in run.own.paths else []


SUITE = Suite(
    name="workload", command="run --workload DIR",
    help="your own workload (a folder with workload.toml) on every engine, measuring only stale cells",
    settings=WorkloadSettings, options=lambda p: None, config_from_args=_run, data=lambda run: [],
    cells=_cells, room=lambda run: None, title=_title, summary=_summary,
    outputs=("workload_summary", "benchmark_report"), questions=_questions,
    budget="as run's: round 1 measures every query of every stale cell once; then each process goes to the open "
           "comparison most likely to be decided per second: the fastest engine against each engine that could "
           "still be as fast, then their scaling, then the rest (a re-measured query against its previous "
           "measurement among them)",
    subcommand=False,
)
