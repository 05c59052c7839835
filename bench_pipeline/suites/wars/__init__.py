"""The Engine Wars suite (`bench-pipeline wars`): the article's tasks (lazy ETL chain, CSV group-by, Arrow
hand-off, image pipeline) on data the project generates, each task a cell per engine."""

from __future__ import annotations

import functools
from pathlib import Path

from bench_pipeline.analysis import stats
from bench_pipeline.config import options as opt
from bench_pipeline.config import state
from bench_pipeline.harness.rounds import RECOMMENDATION, Question
from bench_pipeline.report import fmt
from bench_pipeline.results import versions
from bench_pipeline.results.fields import columns
from bench_pipeline.results.store import ResultsStore
from bench_pipeline.suites import CellGroup, DataStep, Suite, SuiteConfig, Summary, answers
from bench_pipeline.suites.wars.settings import WarsSettings

DATASET = "wars_dataset"


def task_asset(task: str) -> str:
    return f"wars_{task}"


def _options(p) -> None:
    p.add_argument("--rows", type=opt.positive_int, default=None, help="events rows (default: 1,000,000)")
    p.add_argument("--csv-rows", type=opt.positive_int, default=None, help="sales.csv rows (default: 1,000,000)")
    p.add_argument("--images", type=opt.positive_int, default=None, help="generated images (default: 200)")
    p.add_argument("--threads", type=opt.positive_int, default=None,
                   help="threads for every engine (default: the machine's cores)")
    p.add_argument("--seed", type=opt.non_negative_int, default=None, help="data generator seed (default: 42)")


def _run(args) -> SuiteConfig:
    own = WarsSettings.from_env(events_rows=args.rows, sales_rows=args.csv_rows, images=args.images,
                                threads=args.threads, time_budget_s=args.time_budget_s)
    return SuiteConfig(opt.main_settings_from(args, rows=None, threads=None, time_budget_s=None), own)


def open_data(run: SuiteConfig):
    """The suite's data as the settings ask for it; WarsDataError when it is not there."""
    from bench_pipeline.suites.wars.data import open_wars  # data imports this module

    own, seed = run.own, run.main.seed
    return open_wars(own.data_dir(run.main.home, seed), own.events_rows, own.sales_rows, own.images, seed)


def latest(run: SuiteConfig, store) -> tuple[list[dict], object | None]:
    """The latest measurement per task and engine on the data the settings ask for, and that data
    (nothing when it is not there)."""
    from bench_pipeline.suites.wars.data import WarsDataError  # data imports this module
    from bench_pipeline.suites.wars.metrics import read_wars_metrics  # metrics imports this module

    try:
        data = open_data(run)
    except WarsDataError:
        return [], None
    return [r for r in read_wars_metrics(store) if r["dataset_fingerprint"] == data.fingerprint()], data


def data_fingerprint(run: SuiteConfig) -> str | None:
    from bench_pipeline.suites.wars.data import WarsDataError  # data imports this module

    try:
        return open_data(run).fingerprint()
    except WarsDataError:
        return None


def measured_with(run: SuiteConfig, task: str, engine: str, data) -> dict:
    # cells imports this module
    from bench_pipeline.suites.wars.cells import suite_code_hash, wars_engine_path, wars_signature

    path = wars_engine_path(task, engine)
    return versions.measured_with(path, run.own.thread_count, data, run.main.repeats, run.main.repetition_settings,
                                  signature=wars_signature(path), harness_version=suite_code_hash())


def _cells(run: SuiteConfig) -> list[CellGroup]:
    from bench_pipeline.suites.wars.cells import task_spec  # cells imports this module
    from bench_pipeline.suites.wars.tasks import TASKS  # tasks imports this module

    s, store = run.main, ResultsStore(run.main.store_path)
    data = functools.cache(lambda: open_data(run))

    def spec(name: str, engine: str):
        return task_spec(name, engine, data(), run.own.thread_count, repeats=s.repeats, timeout_s=s.timeout_s,
                         budget_bytes=s.budget_bytes, query_budget_s=s.query_budget_s)

    def latest_rows(name: str, keys: list[str]) -> list[dict]:
        rows = store.latest("suite = 'wars' AND query = ? AND dataset_fingerprint = ?", [name, data().fingerprint()],
                            "engine, query")
        return [{**r, "key": r["engine"]} for r in rows if r["engine"] in keys]

    return [CellGroup(task_asset(name), list(w.engines),
                      lambda engine, name=name: measured_with(run, name, engine, data()), queries=1,
                      spec=functools.partial(spec, name), latest_rows=functools.partial(latest_rows, name),
                      label=lambda engine, name=name: f"{name}:{engine}")
            for name, w in TASKS.items()]


def _questions(run: SuiteConfig, measurements, noise):
    """Per task, the fastest engine against every other: which engine to use for it."""
    from bench_pipeline.suites.wars.tasks import TASKS  # tasks imports this module

    out = []
    for name, task in TASKS.items():
        valid = [m for m in measurements if m.group == task_asset(name) and m.valid]
        if not valid:
            continue
        best = min(valid, key=lambda m: stats.level(m.values, noise).value)
        out += [Question(m, best, "task", RECOMMENDATION, f"{name} ({task.title})", f"{m.engine} vs {best.engine}")
                for m in valid if m is not best]
    return out


def _room(run: SuiteConfig) -> None:
    own = run.own
    if not own.data_dir(run.main.home, run.main.seed).exists():
        need = own.events_rows * 40 + own.sales_rows * 50 + own.images * 60_000  # parquet, CSV, JPEG
        state.check_room(run.main.home, need, f"arguments --rows/--csv-rows/--images: {own.events_rows:,} events, "
                                              f"{own.sales_rows:,} CSV rows, {own.images} images")


def _title(run: SuiteConfig) -> str:
    own = run.own
    return (f"Engine Wars, {own.events_rows:,} events, {own.sales_rows:,} CSV rows, {own.images} images, "
            f"{own.thread_count} threads")


_KEEP = ("query", "engine", "status", "threads_asked", "threads_verified", "cold_seconds", "median_seconds",
         "min_seconds", "max_seconds", "cv", "peak_rss_bytes", "baseline_rss_bytes", "startup_seconds",
         "answer_rows", "zero_copy", "message")


def _summary(run: SuiteConfig, result) -> Summary:
    from bench_pipeline.suites.wars.cells import missing_engines  # cells imports this module

    missing = missing_engines()
    rows = latest(run, ResultsStore(run.main.store_path))[0] if result.report else []
    questions = answers(SUITE, run) if rows else []
    extra = {"missing_engines": missing, "data": str(run.own.data_dir(run.main.home, run.main.seed).resolve()),
             "results": [{("task" if k == "query" else k): r.get(k) for k in _KEEP} for r in rows],
             "answers": [q.as_json() for q in questions]}
    notes = tuple(f"missing engine {e}: {reason}" for e, reason in sorted(missing.items()))
    if questions:
        notes += ("", "Answers by the rule:", *(f"- {q.sentence()}" for q in questions))
    plots = [p for p in result.plots if Path(p).name.startswith("wars_")]
    return Summary(rows, _title(run), notes, extra, show=lambda: _print(rows), plots=plots)


_COLUMNS = columns(("query", "task"), "engine", "threads_asked", "status_text", "cold_seconds", "median_seconds",
                   "cv", "peak_rss_bytes", "startup_seconds", "zero_copy")


def _print(rows: list[dict]) -> None:
    fmt.print_rich([{**r, "status_text": r["status"] if r["status"] == "ok" else
                     f"{r['status']}: {(r.get('message') or '')[:60]}"} for r in rows],
                   _COLUMNS, "Engine Wars: latest measurement per task and engine", width=200)


SUITE = Suite(
    name="wars", command="wars",
    help="the Engine Wars tasks (ETL chain, CSV group-by, Arrow hand-off, images) through Dagster, measuring "
         "only stale or missing cells",
    settings=WarsSettings, options=_options, config_from_args=_run,
    data=lambda run: [DataStep(DATASET, "Engine Wars data: events, sales.csv, images", lambda: data_fingerprint(run))],
    cells=_cells, room=_room, title=_title, summary=_summary, outputs=("wars_summary", "benchmark_report"),
    questions=_questions,
    budget="round 1 measures every task on every engine once; then each process goes to the open comparison most "
           "likely to be decided per second: per task, the fastest engine against each other engine",
)
