"""The `bench-pipeline` command (SPEC §4).

Bad arguments end with one line naming the argument and exit code 2, before
anything is written. Engine libraries are never imported here: each query runs
in a worker process that fixes its threads first.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from pathlib import Path

from bench_pipeline import state
from bench_pipeline.dataset import DatasetError, open_dataset
from bench_pipeline.engines import ENGINE_NAMES, VARIANTS
from bench_pipeline.harness import interrupt
from bench_pipeline.queries import ALL_QUERY_NAMES, QUERY_NAMES
from bench_pipeline.settings import Settings, SettingsError
from bench_pipeline.state import StateError

PROG = "bench-pipeline"
MiB = 2**20


class UsageError(Exception):
    """A bad argument: printed as one line, exit code 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, not argparse's usage block
        raise UsageError(message)


def _number(kind: type, minimum: float, inclusive: bool):
    """An argparse type: a number of `kind` above (or at, if inclusive) `minimum`."""
    what = "a whole number" if kind is int else "a number"
    bound = f"{minimum:g} or more" if inclusive else f"greater than {minimum:g}"

    def conv(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be {what}, got {text!r}") from None
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"must be a finite number, got {text!r}")
        if value < minimum or (value == minimum and not inclusive):
            raise argparse.ArgumentTypeError(f"must be {bound}, got {value:g}")
        return value

    return conv


_positive_int = _number(int, 0, inclusive=False)
# SPEC §3: a headline median needs at least 3 warm runs (`query` alone may ask for fewer).
_warm_runs = _number(int, 3, inclusive=True)
_non_negative_int = _number(int, 0, inclusive=True)
_positive_float = _number(float, 0, inclusive=False)


def _choice_list(choices: tuple[str, ...], what: str):
    def conv(text: str) -> tuple[str, ...]:
        items = tuple(t.strip() for t in text.split(",") if t.strip())
        bad = [i for i in items if i not in choices]
        if bad or not items:
            raise argparse.ArgumentTypeError(
                f"unknown {what} {', '.join(map(repr, bad)) or repr(text)}; choose from {', '.join(choices)}"
            )
        return items

    return conv


def _int_list(text: str) -> tuple[int, ...]:
    items = tuple(_positive_int(t.strip()) for t in text.split(",") if t.strip())
    if not items:
        raise argparse.ArgumentTypeError("needs at least one value")
    return items


def _engine(text: str) -> str:
    # One engine, or one execution mode of an engine (polars-eager, polars-streaming).
    return _choice_list((*ENGINE_NAMES, *VARIANTS), "engine")(text)[0] if "," not in text else _fail_one("engine", text)


def _query(text: str) -> str:
    return _choice_list(ALL_QUERY_NAMES, "query")(text)[0] if "," not in text else _fail_one("query", text)


def _fail_one(what: str, text: str):
    raise argparse.ArgumentTypeError(f"takes one {what}, got {text!r}")


def _measure_options(repeats_default: str, timeout_default: str = "600") -> argparse.ArgumentParser:
    """Options every measuring command shares (a parent parser): warm runs, timeout, memory budget."""
    m = argparse.ArgumentParser(add_help=False)
    m.add_argument("--repeats", type=_warm_runs, default=None,
                   help=f"the least number of warm runs per query, when they fit in the query budget (default: "
                        f"{repeats_default})")
    m.add_argument("--timeout", type=_positive_float, default=None,
                   help=f"seconds a run may take before it ends as `timeout` (default: {timeout_default})")
    m.add_argument("--budget-mib", type=_positive_int, default=None,
                   help="memory budget of a query's whole process tree in MiB; over it the run ends as `oom` "
                        "(default: none)")
    return m


def _json_option() -> argparse.ArgumentParser:
    j = argparse.ArgumentParser(add_help=False)
    j.add_argument("--json", action="store_true", help="print the summary as JSON instead of tables")
    return j


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog=PROG, description="Which data engine should I use here? Measures pandas, Polars, DuckDB and "
                                        "PySpark (DataFusion and Daft with the engines extra) on the same validated "
                                        "queries. Settings not given keep $BENCH_HOME/settings.json's, then the "
                                        "defaults.")
    sub = p.add_subparsers(dest="command", parser_class=_Parser, metavar="COMMAND")

    r = sub.add_parser("run", parents=[_measure_options("3, 30 at most"), _json_option()],
                       help="the whole benchmark through Dagster, measuring only stale or missing cells; "
                            "ends with the verdict")
    r.add_argument("--rows", type=_positive_int, default=None, help="posts rows (default: 5,000,000, the lab's)")
    r.add_argument("--seed", type=_non_negative_int, default=None, help="data generator seed (default: 42)")
    r.add_argument("--engines", type=_choice_list(ENGINE_NAMES, "engine"), default=None,
                   help="comma-separated engines (default: the core four and the installed optional ones)")
    r.add_argument("--threads", type=_int_list, default=None,
                   help="comma-separated thread counts, any positive whole numbers (default: 1, 2, 4, ... up to "
                        "the machine's cores, and twice the cores)")
    r.add_argument("--max-repeats", type=_positive_int, default=None,
                   help="the most warm runs per query while the median is not yet precise (default: 30)")
    r.add_argument("--precision", type=_positive_float, default=None,
                   help="stop adding warm runs once the 95 %% interval is within this share of the typical time "
                        "(default: 0.05)")
    r.add_argument("--query-budget", type=_positive_float, default=None,
                   help="seconds of warm runs per query, after which no more are added (default: 30)")

    k = sub.add_parser("cluster", parents=[_measure_options("3"), _json_option()],
                       help="Spark on a real standalone cluster: executor scaling, layouts, analysis")
    k.add_argument("--rows", type=_positive_int, default=None, help="posts rows (default: as `run`)")
    k.add_argument("--seed", type=_non_negative_int, default=None, help="data generator seed (default: 42)")
    k.add_argument("--executors", type=_int_list, default=None, help="executor counts (default: 2,3,4)")
    k.add_argument("--layouts", type=_choice_list(("flat", "partitioned"), "layout"), default=None,
                   help="posts layouts: flat, partitioned (default: both)")
    k.add_argument("--master", default=None,
                   help="an existing cluster: spark://host:7077, yarn, k8s://... (default: one started per cell)")
    k.add_argument("--data-uri", default=None,
                   help="the data folder as the executors see it: hdfs://, gs:// (needed with a remote --master)")
    k.set_defaults(engines=None, threads=None)

    lim = sub.add_parser("limits", parents=[_measure_options("3"), _json_option()],
                         help="Polars eager/lazy/streaming, a size sweep under a memory budget, the measured "
                              "capability table and the decision boundary")
    lim.add_argument("--sizes", type=_int_list, default=None,
                     help="posts rows of the sweep (default: 1000000,2500000,7500000)")
    lim.add_argument("--modes-rows", type=_positive_int, default=None,
                     help="posts rows for the Polars modes (default: 2,500,000)")
    lim.add_argument("--sweep-repeats", type=_positive_int, default=None,
                     help="warm runs per sweep query (default: 1)")
    lim.add_argument("--engines", type=_choice_list(ENGINE_NAMES, "engine"), default=None,
                     help="engines of the sweep (default: as `run`)")
    lim.set_defaults(rows=None, seed=None, threads=None)
    for action in lim._actions:  # here the budget is the sweep's, with its own default
        if action.dest == "budget_mib":
            action.help = "the sweep's memory budget in MiB (default: 1152)"

    w = sub.add_parser("wars", parents=[_measure_options("3"), _json_option()],
                       help="the Engine Wars workloads (ETL chain, CSV group-by, Arrow hand-off, images) through "
                            "Dagster, measuring only stale or missing cells")
    w.add_argument("--rows", type=_positive_int, default=None, help="events rows (default: 1,000,000)")
    w.add_argument("--csv-rows", type=_positive_int, default=None, help="sales.csv rows (default: 1,000,000)")
    w.add_argument("--images", type=_positive_int, default=None, help="generated images (default: 200)")
    w.add_argument("--threads", type=_positive_int, default=None,
                   help="threads for every engine (default: the machine's cores)")
    w.add_argument("--seed", type=_non_negative_int, default=None, help="data generator seed (default: 42)")

    one = argparse.ArgumentParser(add_help=False)  # what `query` and `cell` share: one engine on one dataset
    one.add_argument("--engine", type=_engine, required=True, help=f"one of {', '.join((*ENGINE_NAMES, *VARIANTS))}")
    one.add_argument("--data", type=Path, required=True, help="folder with posts.parquet and users.parquet")
    one.add_argument("--threads", type=_positive_int, default=1, help="threads for the engine (default: 1)")
    one.add_argument("--timeout", type=_positive_float, default=600.0, help="seconds per run (default: 600)")
    one.add_argument("--budget-mib", type=_positive_int, default=None,
                     help="memory budget of the process tree in MiB (default: none)")

    q = sub.add_parser("query", parents=[one], help="run one query on one engine in a fresh process and print its "
                                                     "time")
    q.add_argument("--query", type=_query, required=True, help=f"one of {', '.join(ALL_QUERY_NAMES)}")
    q.add_argument("--repeats", type=_non_negative_int, default=0,
                   help="warm runs after the cold one (default: 0)")
    q.add_argument("--out", type=Path, default=None,
                   help="write the validated answer as Parquet to this file (default: not written)")

    c = sub.add_parser("cell", parents=[one], help="run one cell (an engine at a thread count) into the results "
                                                   "store")
    c.add_argument("--queries", type=_choice_list(ALL_QUERY_NAMES, "query"), default=QUERY_NAMES,
                   help=f"comma-separated queries (default: {','.join(QUERY_NAMES)})")
    c.add_argument("--repeats", type=_warm_runs, default=3, help="warm runs per query (default: 3)")
    c.add_argument("--store", type=Path, default=None, help="results store (default: $BENCH_HOME/results.duckdb)")

    g = sub.add_parser("generate", help="write DIR/posts.parquet and DIR/users.parquet")
    g.add_argument("--rows", type=_positive_int, required=True, help="posts rows")
    g.add_argument("--seed", type=_non_negative_int, default=42, help="generator seed (default: 42)")
    g.add_argument("--out", type=Path, required=True, help="the folder to write")

    aa = sub.add_parser("aa-test", help="measure one engine as several cells and count how often the verdict's "
                                        "rule calls a difference between them (it should not)")
    aa.add_argument("--engine", type=_engine, default="duckdb", help="the engine (default: duckdb)")
    aa.add_argument("--cells", type=_positive_int, default=10, help="cells to measure (default: 10)")
    aa.add_argument("--rows", type=_positive_int, default=1_000_000, help="posts rows (default: 1,000,000)")
    aa.add_argument("--threads", type=_positive_int, default=None, help="threads (default: the machine's cores)")
    aa.add_argument("--repeats", type=_warm_runs, default=3, help="the least warm runs per query (default: 3)")

    lk = sub.add_parser("lock", help="who holds the machine's measurement lock; --release stops the holder")
    lk.add_argument("--release", action="store_true",
                    help="interrupt the holder (SIGTERM: it stops cleanly, exit 130) and wait for the lock")

    u = sub.add_parser("ui", help="the Dagster UI and daemon on 127.0.0.1, against the same state as run")
    u.add_argument("--port", type=_positive_int, default=3000, help="port (default: 3000)")

    b = sub.add_parser("bench-datagen", help="measure the generator against the lab's generate_data()")
    b.add_argument("--rows", type=_int_list, default=(1_000_000, 20_000_000),
                   help="rows for our generator (default: 1000000,20000000)")
    b.add_argument("--lab-rows", type=_non_negative_int, default=1_000_000,
                   help="rows for the lab generator, 0 skips it (default: 1000000)")
    return p


def _open_data(path: Path):
    try:
        return open_dataset(path)
    except DatasetError as exc:
        raise UsageError(f"argument --data: {exc}") from None


def _check_out_file(path: Path | None) -> None:
    if path is None:
        return
    if not path.parent.resolve().is_dir():
        raise UsageError(f"argument --out: folder {path.parent} does not exist")
    if path.is_dir():
        raise UsageError(f"argument --out: {path} is a folder; give a file name")
    if not os.access(path.parent.resolve(), os.W_OK):
        raise UsageError(f"argument --out: folder {path.parent} is not writable")


def cmd_generate(args) -> int:
    from bench_pipeline.datagen import generate
    from bench_pipeline.harness.machine_lock import measurement_lock, this_command

    if args.out.exists() and not args.out.is_dir():
        raise UsageError(f"argument --out: {args.out} exists and is not a folder")
    parent = next((p for p in [args.out, *args.out.resolve().parents] if p.exists()), None)
    if parent is not None and not os.access(parent, os.W_OK):
        raise UsageError(f"argument --out: {parent} is not writable")
    state.check_room(args.out, state.dataset_bytes(args.rows), f"argument --rows: {args.rows:,} rows")
    with measurement_lock(this_command()):
        ds = generate(args.rows, args.out, seed=args.seed)
    print(f"wrote {ds.posts} ({args.rows:,} rows) and {ds.users}; fingerprint {ds.fingerprint()}")
    return 0


def _describe_run(r: dict) -> str:
    t = f"{r['seconds']:.4f} s" if r.get("seconds") is not None else "-"
    mem = f"peak {r['peak_rss_bytes'] / MiB:,.0f} MiB" if r.get("peak_rss_bytes") else ""
    return f"{r['run_kind']:>4} {t:>12}  {mem}"


def cmd_query(args) -> int:
    from bench_pipeline.harness.runner import QuerySpec, run_query

    data = _open_data(args.data)
    _check_out_file(args.out)
    rows = run_query(QuerySpec(args.engine, args.query, data, args.threads, args.repeats, args.timeout,
                               None if args.budget_mib is None else args.budget_mib * MiB,
                               answer_out=args.out))
    first = rows[0]
    status = next((r["status"] for r in rows if r["status"] != "ok"), "ok")
    print(f"{args.engine} {args.query}: threads asked {args.threads}, verified {first.get('threads_verified')}; "
          f"start-up {first.get('startup_seconds') or 0:.3f} s; "
          f"baseline {(first.get('baseline_rss_bytes') or 0) / MiB:,.0f} MiB")
    for r in rows:
        print("  " + _describe_run(r))
    message = next((r["message"] for r in rows if r.get("message")), None)
    print(f"status: {status}" + (f" ({message})" if message else "")
          + (f"; {first.get('answer_rows')} answer rows" if status == "ok" else ""))
    if args.out is not None and status == "ok":
        print(f"answer written to {args.out}")
    return 0 if status == "ok" else 1


def print_summary(summary: list[dict], title: str) -> None:
    from rich.console import Console
    from rich.table import Table

    from bench_pipeline import stats

    table = Table(title=title, caption="* oversubscribed (threads above the cores); noisy: other work used the CPU")
    for col in ("engine", "threads", "query", "status", "cold s", "median s", "95 % interval", "warm runs",
                "peak MiB", "start-up s", "noise"):
        table.add_column(col, justify="right" if col not in ("engine", "query", "status", "noise") else "left")
    for s in summary:
        def f(v, fmt):
            return "-" if v is None else format(v, fmt)

        threads = f"{s['threads_asked']}" + ("*" if s.get("oversubscribed") else "")
        interval = stats.typical(s.get("warm_list") or []) if s["status"] == "ok" else None
        table.add_row(s["engine"], threads, s["query"], s["status"], f(s["cold_seconds"], ".4f"),
                      f(s["median_seconds"], ".4f"),
                      f"{interval.low:.4f}-{interval.high:.4f}" if interval else "-", f(s.get("warm_runs"), "d"),
                      f((s["peak_rss_bytes"] or 0) / MiB if s["peak_rss_bytes"] else None, ",.0f"),
                      f(s["startup_seconds"], ".2f"), "noisy" if s.get("noisy") else "")
    Console(width=None if sys.stdout.isatty() else 180).print(table)


def cmd_cell(args) -> int:
    from bench_pipeline.harness.runner import CellSpec, run_cell

    data = _open_data(args.data)
    store = _open_store(args.store)
    spec = CellSpec(args.engine, args.threads, data, args.queries, args.repeats, args.timeout,
                    None if args.budget_mib is None else args.budget_mib * MiB)
    result = run_cell(spec, store, on_run=lambda r: print(f"  {r['query']} {_describe_run(r)}", flush=True))
    print_summary(store.summary(result.cell_run_id), f"cell {args.engine}|{args.threads} -> {store.path}")
    return 0 if all(s == "ok" for s in result.statuses().values()) else 1


def _open_store(path: Path | None):
    """The results store a command writes to, checked before anything is measured.

    The default store is moved aside when it cannot be opened (a new one starts);
    a file given with --store that is not a DuckDB file is refused, never moved."""
    from bench_pipeline.store import StoreError, is_duckdb_file

    if path is None:
        settings = Settings.from_env()
        return state.prepare(settings.home, settings.store_path)
    if path.is_file() and path.stat().st_size and not is_duckdb_file(path):
        raise UsageError(f"argument --store: {path} is not a DuckDB results store")
    try:
        return state.open_store(path)
    except StoreError as exc:
        raise UsageError(f"argument --store: {exc}") from None


def cmd_bench_datagen(args) -> int:
    from bench_pipeline.datagen_bench import measure
    from bench_pipeline.harness.machine_lock import measurement_lock, this_command

    with measurement_lock(this_command()):
        return _bench_datagen(args, measure)


def _bench_datagen(args, measure) -> int:
    results = []
    if args.lab_rows:
        results.append(measure("lab", args.lab_rows))
        print(f"lab generate_data()  {args.lab_rows:>11,} rows  {results[-1].seconds:8.2f} s  "
              f"peak {results[-1].peak_rss_bytes / MiB:7,.0f} MiB", flush=True)
    for rows in args.rows:
        results.append(measure("bench_pipeline", rows))
        m = results[-1]
        print(f"bench_pipeline       {rows:>11,} rows  {m.seconds:8.2f} s  peak {m.peak_rss_bytes / MiB:7,.0f} MiB"
              f"  ({m.process_seconds:.2f} s with interpreter start)", flush=True)
    lab = next((m for m in results if m.generator == "lab"), None)
    ours = next((m for m in results if m.generator == "bench_pipeline" and lab and m.rows == lab.rows), None)
    if lab and ours:
        print(f"speed-up at {lab.rows:,} rows: {lab.seconds / ours.seconds:.1f}x "
              f"(time ratio 1/{lab.seconds / ours.seconds:.1f})")
    return 0


def _check_installed(asked) -> None:
    """An optional engine asked for by name but not installed: say so instead of measuring nothing."""
    from bench_pipeline.engines import missing_optional

    missing = missing_optional(asked)
    if missing:
        raise UsageError("argument --engines: " + "; ".join(missing.values()))


def optional_note() -> str | None:
    """One line naming the optional engines that are not installed (so not measured), or None."""
    from bench_pipeline.engines import missing_optional

    missing = missing_optional()
    if not missing:
        return None
    return (f"bench-pipeline: note: {', '.join(missing)} not installed, so not measured "
            f"(pip install -e '.[engines]' adds them)")


def _run_settings(args, **extra) -> Settings:
    return Settings.from_env(
        rows=args.rows, seed=args.seed, engines=args.engines, repeats=args.repeats, timeout_s=args.timeout,
        budget_mib=args.budget_mib, threads=tuple(args.threads) if args.threads else None,
        max_repeats=getattr(args, "max_repeats", None), precision=getattr(args, "precision", None),
        query_budget_s=getattr(args, "query_budget", None), **extra,
    )


def _prepare_state(settings: Settings, datasets: dict[Path, int], what: str = "argument --rows") -> None:
    """Before the first measurement: room for the datasets still to generate, the state folder, the store."""
    state.check_datasets(settings.home, datasets, what)
    state.prepare(settings.home, settings.store_path)


class Stopped(Exception):
    """An interrupt stopped a pipeline command: says what was being measured."""


# Seconds a stopped command waits for its cell to wind down (workers killed, a cluster stopped).
_STOP_GRACE_S = 30.0


def _interruptible(settings: Settings, work):
    """work() in a thread, with SIGINT and SIGTERM turned into a clean stop.

    Dagster captures interrupts only in the main thread; here the main thread
    keeps them: a signal kills the running workers at once (`interrupt.request`),
    the cell step then fails without writing rows and the pipeline raises
    `Interrupted` between cells. A second signal, or a step that does not end
    within the grace time (a wait for a pool slot), marks this process's runs
    failed and exits at once."""
    import signal
    import threading

    box: dict = {}

    def target():
        try:
            box["result"] = work()
        except BaseException as exc:  # noqa: BLE001 - re-raised in the main thread
            box["error"] = exc

    def on_signal(signum, _frame):
        if interrupt.requested():
            _hard_stop(settings)
        interrupt.request(signal.Signals(signum).name)

    thread = threading.Thread(target=target, name="bench-pipeline", daemon=True)
    old = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        thread.start()
        while thread.is_alive():
            thread.join(0.2)
            if interrupt.requested():
                thread.join(_STOP_GRACE_S)
                if thread.is_alive():
                    _hard_stop(settings)
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)
    if interrupt.requested():
        error = box.get("error")
        raise Stopped(f"interrupted ({interrupt.reason()})"
                      + (f" {error}" if isinstance(error, interrupt.Interrupted) and str(error) else ""))
    if "error" in box:
        raise box["error"]
    return box["result"]


def _hard_stop(settings: Settings) -> None:
    from bench_pipeline.orchestrate import prepare_instance
    from bench_pipeline.defs.runs import reap_dead_runs

    try:
        reap_dead_runs(prepare_instance(settings), owned_by_me=True)
    except Exception:  # noqa: BLE001 - the next command reaps them anyway
        pass
    finally:
        print(f"{PROG}: interrupted ({interrupt.reason()}); stopped without waiting for the cell to end; nothing "
              "of it was stored", file=sys.stderr, flush=True)
        os._exit(130)


def _with_progress(settings: Settings, title: str, work):
    """Run work() with the progress display on stderr (steps, a bar per cell moving with every run, the time
    left); Ctrl-C/SIGTERM stop it cleanly."""
    from bench_pipeline.orchestrate import observing
    from bench_pipeline.harness.runner import listening
    from bench_pipeline.progress import ProgressDisplay

    with ProgressDisplay() as display:
        display.console.print(f"bench_pipeline: {title}, state in {settings.home.resolve()}")
        with observing(display), listening(display.on_run):
            return _interruptible(settings, work)


def _report_result(args, settings: Settings, result, table: list[dict], title: str, show=None,
                   extra: dict | None = None, notes: tuple[str, ...] = (), plots: list[str] | None = None) -> int:
    """The end of every pipeline command: the summary (JSON with --json), cells, plots, report; exit code.

    show: prints the results table (default: the cells' summary table); extra: more JSON keys;
    notes: lines printed after the table; plots: the plots to list (default: all of them)."""
    import json

    summary = {
        "cells_run": result.cells_run, "cells_fresh": result.cells_fresh, "cells_failed": result.cells_failed,
        "stale_reasons": result.stale_reasons, "failures": result.failures, "plots": result.plots,
        "report": result.report, "outputs_error": result.outputs_error,
        "store": str(settings.store_path.resolve()), **(extra or {}),
    }
    if args.json:
        print(json.dumps(summary, indent=2, default=str))
    else:
        (show or (lambda: print_summary(table, title)))()
        for line in notes:
            print(line)
        for name, why in result.failures.items():
            print(f"failed cell {name}: {why.splitlines()[0][:300] if why else 'step failed'}")
        print(f"cells run: {len(result.cells_run)}, fresh: {len(result.cells_fresh)}, "
              f"failed: {len(result.cells_failed)} {' '.join(result.cells_failed)}")
        for p in result.plots if plots is None else plots:
            print(f"plot:   {p}")
        print(f"report: {result.report or 'not written: ' + str(result.outputs_error)}")
    return 0 if not result.cells_failed and result.report else 1


def cmd_run(args) -> int:
    from bench_pipeline.defs.partitions import grid_keys
    from bench_pipeline.orchestrate import run_pipeline
    from bench_pipeline.harness import provenance
    from bench_pipeline.suites.grid.metrics import read_metrics
    from bench_pipeline.store import ResultsStore
    from bench_pipeline.verdict import build_verdict, verdict_rows

    settings = _run_settings(args)
    _check_installed(args.engines or ())  # names --engines and the install command
    try:
        grid_keys(settings.engines, settings.threads)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    _prepare_state(settings, {settings.data_dir: settings.rows})
    if not args.engines and (note := optional_note()):
        print(note, file=sys.stderr)
    settings.save()  # the UI and the nightly schedule follow this run's choices
    title = (f"engines {','.join(settings.engines)} x threads {','.join(map(str, settings.threads))}, "
             f"{settings.rows:,} rows")
    result = _with_progress(settings, title, lambda: run_pipeline(settings))
    latest = read_metrics(ResultsStore(settings.store_path))["metrics_latest"] if result.report else []
    latest = verdict_rows(latest, settings.engines, settings.threads)
    verdict = build_verdict(latest, provenance.logical_cores(), settings.rows) if latest else None
    notes = ("", "Verdict:", *(f"- {line}" for line in verdict.recommendation),
             *(f"- caveat: {line}" for line in verdict.caveats)) if verdict else ()
    return _report_result(args, settings, result, latest, "latest measurement per cell and query",
                          extra={"verdict": verdict.as_json() if verdict else None}, notes=notes)


def cmd_cluster(args) -> int:
    from bench_pipeline.defs.cluster import CLUSTER_CELLS
    from bench_pipeline.orchestrate import run_cluster
    from bench_pipeline.suites.cluster.metrics import findings, read_cluster_metrics
    from bench_pipeline.harness import provenance
    from bench_pipeline.store import ResultsStore

    settings = _run_settings(args)
    executors = list(args.executors or sorted({int(k.split("|")[0]) for k in CLUSTER_CELLS.get_partition_keys()}))
    layouts = list(args.layouts or ("flat", "partitioned"))
    valid = {k.split("|")[0] for k in CLUSTER_CELLS.get_partition_keys()}
    if any(str(n) not in valid for n in executors):
        raise UsageError(f"argument --executors: choose from {', '.join(sorted(valid, key=int))} "
                         "(BENCH_CLUSTER_EXECUTORS sets the choice)")
    if args.master and args.data_uri is None and not args.master.startswith("spark://127.0.0.1"):
        raise UsageError("argument --data-uri: a remote cluster needs the data folder's URI (hdfs://, gs://)")
    spark_cluster = {k: v for k, v in (("master_url", args.master), ("data_uri", args.data_uri)) if v}
    copies = 2 if "partitioned" in layouts else 1  # the partitioned copy is the posts once more
    _prepare_state(settings, {settings.data_dir: settings.rows * copies})
    title = f"Spark cluster, executors {','.join(map(str, executors))} x {','.join(layouts)}, {settings.rows:,} rows"
    result = _with_progress(settings, title, lambda: run_cluster(settings, executors, layouts, spark_cluster))
    cluster = read_cluster_metrics(ResultsStore(settings.store_path)) if result.report else None
    rows = [{**r, "engine": f"cluster {r['executors']}x {r['data_layout']}", "threads_asked": r["executors"]}
            for r in (cluster or {}).get("metrics_cluster", [])]
    code = _report_result(args, settings, result, rows, "latest cluster measurement per cell and query")
    if cluster and not args.json:
        for line in findings(cluster, provenance.logical_cores()):
            print(f"- {line}")
    return code


def cmd_wars(args) -> int:
    from bench_pipeline.orchestrate import run_wars
    from bench_pipeline.store import ResultsStore
    from bench_pipeline.suites.wars.metrics import read_wars_metrics
    from bench_pipeline.suites.wars.cells import missing_engines
    from bench_pipeline.suites.wars.settings import WarsSettings

    settings = Settings.from_env(seed=args.seed, repeats=args.repeats, timeout_s=args.timeout,
                                 budget_mib=args.budget_mib)
    wars = WarsSettings.from_env(settings.home, events_rows=args.rows, sales_rows=args.csv_rows, images=args.images,
                                 threads=args.threads)
    _prepare_state(settings, {})
    data_dir = wars.data_dir(settings.home, settings.seed)
    if not data_dir.exists():
        need = wars.events_rows * 40 + wars.sales_rows * 50 + wars.images * 60_000  # parquet, CSV, JPEG
        state.check_room(settings.home, need, f"arguments --rows/--csv-rows/--images: {wars.events_rows:,} "
                                              f"events, {wars.sales_rows:,} CSV rows, {wars.images} images")
    wars.save(settings.home)  # the UI measures what this command measured
    missing = missing_engines()
    title = (f"Engine Wars, {wars.events_rows:,} events, {wars.sales_rows:,} CSV rows, {wars.images} images, "
             f"{wars.thread_count} threads")
    result = _with_progress(settings, title, lambda: run_wars(settings, wars))
    data_dir = wars.data_dir(settings.home, settings.seed).resolve()
    rows = [r for r in read_wars_metrics(ResultsStore(settings.store_path))
            if r["dataset_fingerprint"] == _wars_fingerprint(data_dir)] if result.report else []
    keep = ("query", "engine", "status", "threads_asked", "threads_verified", "cold_seconds", "median_seconds",
            "min_seconds", "max_seconds", "cv", "peak_rss_bytes", "baseline_rss_bytes", "startup_seconds",
            "answer_rows", "zero_copy", "message")
    extra = {"missing_engines": missing, "data": str(data_dir),
             "results": [{("workload" if k == "query" else k): r.get(k) for k in keep} for r in rows]}
    return _report_result(args, settings, result, rows, title, show=lambda: _print_wars(rows), extra=extra,
                          notes=tuple(f"missing engine {e}: {reason}" for e, reason in sorted(missing.items())),
                          plots=[p for p in result.plots if Path(p).name.startswith("wars_")])


def _wars_fingerprint(root: Path) -> str | None:
    from bench_pipeline.suites.wars.data import WarsData

    try:
        return WarsData(root).fingerprint()
    except (OSError, ValueError, KeyError):
        return None


def _print_wars(rows: list[dict]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="Engine Wars: latest measurement per workload and engine")
    cols = ("workload", "engine", "threads", "status", "cold s", "median s", "cv", "peak MiB", "start-up s",
            "zero-copy")
    for col in cols:
        table.add_column(col, justify="left" if col in ("workload", "engine", "status", "zero-copy") else "right")

    def f(v, fmt):
        return "-" if v is None else format(v, fmt)

    for r in rows:
        status = r["status"] if r["status"] == "ok" else f"{r['status']}: {(r.get('message') or '')[:60]}"
        table.add_row(r["query"], r["engine"], str(r["threads_asked"]), status, f(r["cold_seconds"], ".4f"),
                      f(r["median_seconds"], ".4f"), f(r["cv"], ".2f"), f(r["peak_mib"], ",.0f"),
                      f(r["startup_seconds"], ".2f"), r.get("zero_copy") or "")
    Console(width=None if sys.stdout.isatty() else 200).print(table)

def cmd_limits(args) -> int:
    from bench_pipeline.orchestrate import run_limits
    from bench_pipeline.harness import provenance
    from bench_pipeline.suites.limits.metrics import SWEEP_ENGINES, sweep_engines
    from bench_pipeline.suites.limits.report import analyse
    from bench_pipeline.store import ResultsStore

    _check_installed(args.engines or ())
    if args.engines and not sweep_engines(args.engines):
        raise UsageError(f"argument --engines: the limits suite measures {', '.join(SWEEP_ENGINES)}; "
                         f"{', '.join(args.engines)} gives none of them")
    settings = Settings.from_env(engines=args.engines, repeats=args.repeats, timeout_s=args.timeout,
                                 sweep_rows=args.sizes, sweep_budget_mib=args.budget_mib,
                                 sweep_repeats=args.sweep_repeats, modes_rows=args.modes_rows)
    _prepare_state(settings, {settings.data_dir_for(n): n for n in settings.limits_rows}, what="argument --sizes")
    # The UI's limits assets measure what this command measured; the main grid's choices stay as they were.
    settings.save(only=Settings.LIMITS_FIELDS)
    title = (f"limits: sizes {','.join(f'{n:,}' for n in settings.sweep_rows)} under "
             f"{settings.sweep_budget_mib:,} MiB, Polars modes on {settings.modes_rows:,} rows")
    result = _with_progress(settings, title, lambda: run_limits(settings))
    a = analyse(settings, ResultsStore(settings.store_path), provenance.logical_cores(), draw=False) \
        if result.report else None
    rows = [{**r, "engine": f"{r['engine']} @{r['dataset_rows']:,}", "threads_asked": r["threads_asked"]}
            for r in (a.metrics["metrics_sweep"] if a else [])]
    code = _report_result(args, settings, result, rows, f"sweep under {settings.sweep_budget_mib:,} MiB")
    if a and not args.json:
        for line in [*a.modes, *a.disagreements, *a.decision]:
            print(f"- {line}")
    return code


def cmd_aa_test(args) -> int:
    """One engine measured as several cells on the same data: every pair the rule calls different is a false
    positive. Prints the rate per query and over all comparisons."""
    import itertools

    from bench_pipeline import stats
    from bench_pipeline.datagen import generate
    from bench_pipeline.harness import provenance
    from bench_pipeline.harness.machine_lock import measurement_lock, this_command
    from bench_pipeline.harness.runner import CellSpec, run_cell

    settings = Settings.from_env(rows=args.rows)
    _prepare_state(settings, {settings.data_dir: settings.rows})
    try:
        data = open_dataset(settings.data_dir)
    except DatasetError:
        with measurement_lock(this_command()):
            data = generate(settings.rows, settings.data_dir, seed=settings.seed)
    threads = args.threads or provenance.logical_cores()
    cells: list[dict[str, list[float]]] = []
    for i in range(args.cells):
        result = run_cell(CellSpec(args.engine, threads, data, repeats=args.repeats, max_repeats=settings.max_repeats,
                                   precision=settings.precision, query_budget_s=settings.query_budget_s))
        warm: dict[str, list[float]] = {}
        for r in result.rows:
            if r["run_kind"] == "warm" and r.get("kept", True) and r["status"] == "ok":
                warm.setdefault(r["query"], []).append(r["seconds"])
        cells.append(warm)
        print(f"cell {i + 1}/{args.cells}: " + ", ".join(f"{q} {len(v)} runs" for q, v in warm.items()), flush=True)
    total = called = 0
    ratios = []
    for q in QUERY_NAMES:
        pairs = [(a[q], b[q]) for a, b in itertools.combinations(cells, 2) if q in a and q in b]
        hits = sum(stats.differ(a, b) for a, b in pairs)
        total, called = total + len(pairs), called + hits
        ratios += [r.value for a, b in pairs if (r := stats.ratio(a, b))]
        print(f"query {q}: {hits} of {len(pairs)} A/A comparisons called different")
    if ratios:
        spread = sorted(abs(r - 1) if r >= 1 else abs(1 / r - 1) for r in ratios)
        print(f"A/A ratio of typical times: median {spread[len(spread) // 2]:.1%} apart, 95th percentile "
              f"{spread[int(0.95 * (len(spread) - 1))]:.1%}, largest {spread[-1]:.1%}")
        print(f"noise of a cell on this machine (log-scale standard deviation): {stats.estimate_cell_noise(cells):.3f} "
              f"(the rule assumes {stats.cell_noise():.3f}; BENCH_CELL_NOISE sets it)")
    if not total:
        print(f"{PROG}: no A/A comparison could be made: every cell needs 2 or more warm runs of a query that "
              "answered ok", file=sys.stderr)
        return 1
    rate = called / total
    print(f"A/A false-positive rate: {called} of {total} comparisons ({rate:.1%}); {args.engine} at {threads} "
          f"threads, {settings.rows:,} rows, {args.cells} cells, {provenance.logical_cores()} cores "
          f"(pairs share cells, so the comparisons are not independent)")
    if rate > 0.05:
        print(f"{PROG}: the rule called more than 5 % of A/A pairs different on this machine: set BENCH_CELL_NOISE "
              "to the cell noise printed above", file=sys.stderr)
        return 1
    return 0


def cmd_lock(args) -> int:
    import signal
    import time

    from bench_pipeline.harness import machine_lock

    h = machine_lock.holder()
    if h is None:
        print(f"measurement lock {machine_lock.lock_path()}: free")
        return 0
    print(f"measurement lock {machine_lock.lock_path()}: held by {machine_lock.describe(h)}")
    if not args.release:
        return 0
    if not h.get("pid"):
        raise UsageError("argument --release: the holder did not say its pid")
    try:
        os.kill(int(h["pid"]), signal.SIGTERM)
    except ProcessLookupError:
        pass  # it has just ended: the lock is free or about to be
    except PermissionError:
        raise UsageError(f"argument --release: pid {h['pid']} belongs to another user; stop it as that user") \
            from None
    deadline = time.monotonic() + 60
    while machine_lock.holder() is not None:
        if time.monotonic() > deadline:
            print(f"{PROG}: the holder (pid {h['pid']}) still holds the lock after 60 s", file=sys.stderr)
            return 1
        time.sleep(0.2)
    print("released: the holder stopped")
    return 0


def cmd_ui(args) -> int:
    import signal
    import subprocess
    import time

    import psutil

    from bench_pipeline.orchestrate import ui_command
    from bench_pipeline.harness.sampler import die_with_parent, kill_tree

    settings = Settings.from_env()
    state.prepare(settings.home, settings.store_path)
    os.environ["BENCH_HOME"] = str(settings.home.resolve())
    cmd = ui_command(settings, "127.0.0.1", args.port)
    print(f"Dagster UI on http://127.0.0.1:{args.port} (state in {settings.home.resolve()}); Ctrl-C stops it",
          file=sys.stderr, flush=True)

    def defaults():  # a process started in the background inherits SIGINT ignored; dagster dev needs it
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        die_with_parent(signal.SIGTERM)  # dagster dev stops its own children on SIGTERM

    stop: list[int] = []
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda signum, _frame: stop.append(signum))
    proc = subprocess.Popen(cmd, start_new_session=True, preexec_fn=defaults)
    while proc.poll() is None and not stop:
        time.sleep(0.2)
    if proc.poll() is not None:
        return proc.returncode
    # dagster dev stops its webserver and daemon on SIGINT, but its code servers wait for a heartbeat
    # that no longer comes (45-60 s): give it a few seconds, then end whatever of its tree is left.
    family = psutil.Process(proc.pid).children(recursive=True)
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=_UI_GRACE_S)
    except subprocess.TimeoutExpired:
        kill_tree(proc.pid)
    for p in family:
        if p.is_running():
            kill_tree(p.pid)
    return 0


# Seconds `ui` gives dagster dev to stop its processes before it ends the rest.
_UI_GRACE_S = 5.0


def threading_main() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


COMMANDS = {
    "run": cmd_run,
    "cluster": cmd_cluster,
    "wars": cmd_wars,
    "limits": cmd_limits,
    "ui": cmd_ui,
    "lock": cmd_lock,
    "aa-test": cmd_aa_test,
    "generate": cmd_generate,
    "query": cmd_query,
    "cell": cmd_cell,
    "bench-datagen": cmd_bench_datagen,
}


def _terminate_as_interrupt(_signum, _frame):
    raise KeyboardInterrupt  # SIGTERM stops `cell`, `query` and the others as Ctrl-C does


def main(argv: list[str] | None = None) -> int:
    import signal

    from bench_pipeline.harness.machine_lock import LockError
    from bench_pipeline.store import StoreError

    if threading_main():
        signal.signal(signal.SIGTERM, _terminate_as_interrupt)
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help()
            return 2
        return COMMANDS[args.command](args)
    except SettingsError as exc:
        print(f"{PROG}: error: settings: {exc}", file=sys.stderr)
        return 2
    except (UsageError, StateError, StoreError, LockError) as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    except Stopped as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 130
    except (KeyboardInterrupt, interrupt.Interrupted):
        print(f"{PROG}: interrupted; what was being measured was not stored", file=sys.stderr)
        return 130
    except Exception as exc:
        from bench_pipeline.orchestrate import DatasetBuildError

        if isinstance(exc, DatasetBuildError):
            print(f"{PROG}: error: {exc}", file=sys.stderr)
            return 1
        raise


if __name__ == "__main__":
    sys.exit(main())
