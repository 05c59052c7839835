"""The `bench-pipeline` command (docs/commands.md).

Bad arguments end with one line naming the argument and exit code 2, before
anything is written. Engine libraries are never imported here: each query runs
in a worker process that fixes its threads first.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from bench_pipeline import suites
from bench_pipeline.analysis import calibrate, calibration
from bench_pipeline.config import state
from bench_pipeline.config.options import (
    PARENTS,
    UsageError,
    choice_list,
    engine_list,
    int_list,
    non_negative_int,
    positive_float,
    positive_int,
    warm_runs,
)
from bench_pipeline.config.settings import Settings, SettingsError
from bench_pipeline.config.state import StateError
from bench_pipeline.data import datagen_bench
from bench_pipeline.data.datagen import ensure_dataset, generate
from bench_pipeline.data.dataset import DatasetError, open_dataset
from bench_pipeline.engines import ENGINE_NAMES, VARIANTS
from bench_pipeline.harness import interrupt, machine_lock, provenance
from bench_pipeline.harness.instrument import CellSpec, run_cell
from bench_pipeline.harness.machine_lock import LockError, measurement_lock, this_command
from bench_pipeline.harness.runner import QuerySpec, listening, run_query
from bench_pipeline.harness.sampler import die_with_parent, kill_tree
from bench_pipeline.report import fmt
from bench_pipeline.report.fmt import MiB
from bench_pipeline.results.store import StoreError, check_importable, is_duckdb_file
from bench_pipeline.suites import BuildFailed
from bench_pipeline.suites import workload as workload_suite
from bench_pipeline.workloads import tpch
from bench_pipeline.workloads.reference import reference_answer, validate_answer
from bench_pipeline.workloads.social.catalogue import ALL_QUERY_NAMES, QUERY_NAMES
from bench_pipeline.workloads.spec import WorkloadError, load_workload

PROG = "bench-pipeline"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, not argparse's usage block
        raise UsageError(message)


def _engine(text: str) -> str:
    # One engine, or one execution mode of an engine (polars-eager, polars-streaming).
    return choice_list((*ENGINE_NAMES, *VARIANTS), "engine")(text)[0] if "," not in text else _fail_one("engine", text)


def _query(text: str) -> str:
    return choice_list(ALL_QUERY_NAMES, "query")(text)[0] if "," not in text else _fail_one("query", text)


def _fail_one(what: str, text: str):
    raise argparse.ArgumentTypeError(f"takes one {what}, got {text!r}")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog=PROG, description="Which data engine should I use here? Measures pandas, Polars, DuckDB and "
                                        "PySpark (DataFusion and Daft with the engines extra) on the same validated "
                                        "queries. Settings not given keep $BENCH_HOME/settings.json's, then the "
                                        "defaults.")
    sub = p.add_subparsers(dest="command", parser_class=_Parser, metavar="COMMAND")

    for suite in suites.all_suites():  # run, cluster, limits, wars: one shape
        if not suite.subcommand:
            continue
        sp = sub.add_parser(suite.command, parents=[PARENTS[name]() for name in suite.parents], help=suite.help)
        suite.options(sp)
        _budget_help(sp, suite)
        sp.set_defaults(suite=suite.name)

    one = argparse.ArgumentParser(add_help=False)  # what `query` and `cell` share: one engine on one dataset
    one.add_argument("--engine", type=_engine, required=True, help=f"one of {', '.join((*ENGINE_NAMES, *VARIANTS))}")
    one.add_argument("--threads", type=positive_int, default=1, help="threads for the engine (default: 1)")
    one.add_argument("--timeout", type=positive_float, default=600.0, help="seconds per run (default: 600)")
    one.add_argument("--budget-mib", type=positive_int, default=None,
                     help="memory budget of the process tree in MiB (default: none)")

    q = sub.add_parser("query", parents=[one], help="run one query on one engine in a fresh process and print its "
                                                     "time")
    source = q.add_mutually_exclusive_group(required=True)
    source.add_argument("--data", type=Path, help="folder with posts.parquet and users.parquet (the built-in queries)")
    source.add_argument("--workload", type=Path, help="a workload folder (its workload.toml names tables and queries), "
                        "or `social`: the built-in benchmark as a workload")
    q.add_argument("--query", required=True,
                   help=f"with --data one of {', '.join(ALL_QUERY_NAMES)}; with --workload one of its queries")
    q.add_argument("--repeats", type=non_negative_int, default=0,
                   help="warm runs after the cold one (default: 0)")
    q.add_argument("--out", type=Path, default=None,
                   help="write the validated answer as Parquet to this file (default: not written)")

    c = sub.add_parser("cell", parents=[one], help="run one cell (an engine at a thread count) into the results "
                                                   "store")
    c.add_argument("--data", type=Path, required=True, help="folder with posts.parquet and users.parquet")
    c.add_argument("--queries", type=choice_list(ALL_QUERY_NAMES, "query"), default=QUERY_NAMES,
                   help=f"comma-separated queries (default: {','.join(QUERY_NAMES)})")
    c.add_argument("--repeats", type=warm_runs, default=3, help="warm runs per query (default: 3)")
    c.add_argument("--store", type=Path, default=None, help="results store (default: $BENCH_HOME/results.duckdb)")

    g = sub.add_parser("generate", help="write DIR/posts.parquet and DIR/users.parquet")
    g.add_argument("--rows", type=positive_int, required=True, help="posts rows")
    g.add_argument("--seed", type=non_negative_int, default=42, help="generator seed (default: 42)")
    g.add_argument("--out", type=Path, required=True, help="the folder to write")

    im = sub.add_parser("import", help="merge another machine's results store into this one (idempotent), then "
                                       "rewrite the report: history and machines side by side")
    im.add_argument("file", type=Path, metavar="OTHER.duckdb", help="the other machine's results.duckdb")

    tp = sub.add_parser("tpch", parents=[PARENTS["measure"](), PARENTS["budget"](), PARENTS["json"]()],
                        help="TPC-H: data from tpchgen-cli under the state folder, the 22 queries on every engine as "
                             "a workload (run --workload), measuring only stale cells")
    tp.add_argument("--scale-factor", type=positive_float, default=1.0, help="TPC-H scale factor (default: 1)")
    tp.add_argument("--engines", type=engine_list, default=None,
                    help="comma-separated engines (default: those saved for workloads, else the main settings')")
    tp.add_argument("--threads", type=int_list, default=None,
                    help="comma-separated thread counts (default: those saved for workloads, else the main settings')")
    _budget_help(tp, suites.get("workload"))

    cal = sub.add_parser("calibrate", help="measure this machine's noise between processes and the verdict "
                                           "rule's false-positive rate and power here; stores the noise as the prior")
    cal.add_argument("--rows", type=positive_int, default=1_000_000, help="posts rows (default: 1,000,000)")
    cal.add_argument("--processes", type=positive_int, default=20,
                     help="processes per query, in interleaved rounds (default: 20; at least 4)")
    cal.add_argument("--threads", type=positive_int, default=None, help="threads (default: the machine's cores)")

    lk = sub.add_parser("lock", help="who holds the machine's measurement lock; --release stops the holder")
    lk.add_argument("--release", action="store_true",
                    help="interrupt the holder (SIGTERM: it stops cleanly, exit 130) and wait for the lock")

    u = sub.add_parser("ui", help="the Dagster UI and daemon on 127.0.0.1, against the same state as run")
    u.add_argument("--port", type=positive_int, default=3000, help="port (default: 3000)")

    b = sub.add_parser("bench-datagen", help="measure the generator against the lab's generate_data()")
    b.add_argument("--rows", type=int_list, default=(1_000_000, 20_000_000),
                   help="rows for our generator (default: 1000000,20000000)")
    b.add_argument("--lab-rows", type=non_negative_int, default=1_000_000,
                   help="rows for the lab generator, 0 skips it (default: 1000000)")
    return p


def _budget_help(parser: argparse.ArgumentParser, suite: suites.Suite) -> None:
    """--time-budget's help on a suite's command: its own default and how it spends the budget."""
    for action in parser._actions:
        if action.dest == "time_budget_s":
            action.help = (f"how long the command may take, data included: 900, 900s, 15m or 1h (default: "
                           f"{fmt.minutes(suite.default_budget_s).replace('under a minute', '1 minute')}); "
                           f"{suite.budget}").replace("%", "%%")


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


def _workload_query(args):
    """(engine path, data, validator) for `query --workload`, every problem of the workload one line."""
    if args.engine not in ENGINE_NAMES:
        raise UsageError(f"argument --engine: a workload runs on {', '.join(ENGINE_NAMES)}, not {args.engine}")
    try:
        workload = load_workload(workload_suite.resolve(args.workload, Settings.from_env()))
        if args.query not in workload.queries:
            raise UsageError(f"argument --query: workload {workload.name} has no query {args.query!r}; it has "
                             f"{', '.join(workload.queries)}")
        reference_answer(workload, args.query)  # a query the reference cannot run is the workload's problem
    except WorkloadError as exc:
        raise UsageError(f"argument --workload: {exc}") from None
    return args.engine, workload, validate_answer


def cmd_query(args) -> int:
    if args.workload is not None:
        engine, data, validator = _workload_query(args)
    else:
        try:
            args.query = _query(args.query)
        except argparse.ArgumentTypeError as exc:
            raise UsageError(f"argument --query: {exc}") from None
        engine, data, validator = args.engine, _open_data(args.data), None
    _check_out_file(args.out)
    rows = run_query(QuerySpec(engine, args.query, data, args.threads, args.repeats, args.timeout,
                               None if args.budget_mib is None else args.budget_mib * MiB,
                               answer_out=args.out, validator=validator))
    first = rows[0]
    status = next((r["status"] for r in rows if r["status"] != "ok"), "ok")
    print(f"{args.engine} {args.query}: threads asked {args.threads}, verified {first.get('threads_verified')}; "
          f"start-up {first.get('startup_seconds') or 0:.3f} s; "
          f"baseline {(first.get('baseline_rss_bytes') or 0) / MiB:,.0f} MiB")
    for r in rows:
        print("  " + _describe_run(r))
    message = next((" ".join(r["message"].split()) for r in rows if r.get("message")), None)
    print(f"status: {status}" + (f" ({message})" if message else "")
          + (f"; {first.get('answer_rows')} answer rows" if status == "ok" else ""))
    if args.out is not None and status == "ok":
        print(f"answer written to {args.out}")
    return 0 if status == "ok" else 1


def cmd_cell(args) -> int:
    data = _open_data(args.data)
    store = _open_store(args.store)
    spec = CellSpec(args.engine, args.threads, data, args.queries, args.repeats, args.timeout,
                    None if args.budget_mib is None else args.budget_mib * MiB)
    result = run_cell(spec, store, on_run=lambda r: print(f"  {r['query']} {_describe_run(r)}", flush=True))
    suites.print_summary(store.summary(result.cell_run_id), f"cell {args.engine}|{args.threads} -> {store.path}")
    return 0 if all(s == "ok" for s in result.statuses().values()) else 1


def _open_store(path: Path | None):
    """The results store a command writes to, checked before anything is measured.

    The default store is moved aside when it cannot be opened (a new one starts);
    a file given with --store that is not a DuckDB file is refused, never moved."""
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
    with measurement_lock(this_command()):
        return _bench_datagen(args, datagen_bench.measure)


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


def _hard_stop(settings: Settings) -> None:
    # keeps Dagster off the import path
    from bench_pipeline.defs.orchestrate import fail_my_runs

    try:
        fail_my_runs(settings)
    except Exception:  # noqa: BLE001 - the next command reaps them anyway
        pass
    finally:
        print(f"{PROG}: interrupted ({interrupt.reason()}); stopped without waiting for the cell to end; nothing "
              "of it was stored", file=sys.stderr, flush=True)
        os._exit(130)


def _with_progress(settings: Settings, title: str, work):
    """Run work() with the progress display on stderr (steps, a bar per cell moving with every run, the time
    left); Ctrl-C/SIGTERM stop it cleanly."""
    from bench_pipeline.cli.progress import ProgressDisplay  # keeps rich off the import path

    # keeps Dagster off the import path
    from bench_pipeline.defs.orchestrate import observing

    with ProgressDisplay() as display:
        display.console.print(f"bench_pipeline: {title}, state in {settings.home.resolve()}")
        with observing(display), listening(display.on_run):
            return interrupt.interruptible(work, lambda: _hard_stop(settings))


def _report_result(args, run: suites.SuiteConfig, result, out) -> int:
    """The end of every suite command: the summary (JSON with --json), cells, plots, report; exit code."""
    outcome = result.round_outcome
    summary = {
        "cells_run": result.cells_run, "cells_fresh": result.cells_fresh, "cells_failed": result.cells_failed,
        "cells_left": result.cells_left, "stale_reasons": result.stale_reasons, "failures": result.failures,
        "rounds": outcome.as_json() if outcome else None, "plots": result.plots, "report": result.report,
        "outputs_error": result.outputs_error, "changes": result.changes, "store": str(run.main.store_path.resolve()),
        **out.extra,
    }
    if args.json:
        print(json.dumps(summary, indent=2, default=str))
    else:
        (out.show or (lambda: suites.print_summary(out.rows, out.title)))()
        for line in suites.rounds_notes(run, outcome):
            print(line)
        if result.budget_note:
            print(f"Budget: {result.budget_note}.")
        for line in out.notes:
            print(line)
        for name, why in result.failures.items():
            print(f"failed cell {name}: {why.splitlines()[0][:300] if why else 'step failed'}")
        print(f"cells run: {len(result.cells_run)}, fresh: {len(result.cells_fresh)}, "
              f"failed: {len(result.cells_failed)} {' '.join(result.cells_failed)}")
        for line in result.changes:
            print(line)
        for p in result.plots if out.plots is None else out.plots:
            print(f"plot:   {p}")
        print(f"report: {result.report or 'not written: ' + str(result.outputs_error)}")
    return 0 if not result.cells_failed and result.report else 1


def cmd_suite(args) -> int:
    """run, cluster, limits, wars: the suite's settings from the arguments, the state checked, the choices saved
    (so the UI and the nightly schedule measure what was measured), the suite through Dagster, its summary."""
    # keeps Dagster off the import path
    from bench_pipeline.defs.orchestrate import run_suite

    suite = suites.get("workload" if getattr(args, "workload", None) else args.suite)
    run = suite.config_from_args(args)
    suite.room(run)  # room for the data still to make, before anything is written
    state.prepare(run.main.home, run.main.store_path)
    (run.own or run.main).save()
    result = _with_progress(run.main, suite.title(run), lambda: run_suite(suite.name, run))
    return _report_result(args, run, result, suite.summary(run, result))


def cmd_tpch(args) -> int:
    """TPC-H is a workload: its folder made (data generated once) under the state folder, then run --workload."""
    settings = Settings.from_env()
    state.prepare(settings.home, settings.store_path)
    try:
        args.workload = tpch.ensure(settings.home, args.scale_factor)
    except tpch.TpchError as exc:
        raise UsageError(f"argument --scale-factor: {exc}") from None
    args.suite = "workload"
    return cmd_suite(args)


def cmd_import(args) -> int:
    """Another store's cell runs appended (rows keep their machine), then the history and the report rebuilt."""
    # keeps Dagster off the import path
    from bench_pipeline.defs.orchestrate import refresh_outputs

    settings = Settings.from_env()
    try:
        check_importable(args.file, settings.store_path)  # a bad file: nothing created, not even the state folder
        store = state.prepare(settings.home, settings.store_path)
        rows, cells = store.import_from(args.file)
    except StoreError as exc:
        raise UsageError(f"argument OTHER.duckdb: {exc}") from None
    print(f"imported {rows:,} rows ({cells:,} cell runs) from {args.file}" if rows else
          f"nothing to import from {args.file}: every cell run in it is already here")
    machines = store.query("SELECT hostname, any_value(logical_cores) AS cores, count(DISTINCT cell_run_id) AS cells "
                           "FROM measurements GROUP BY hostname ORDER BY hostname")
    print("machines in the store: " + ", ".join(f"{m['hostname']} ({m['cores']} cores, {m['cells']:,} cell runs)"
                                                for m in machines))
    print(f"report: {refresh_outputs(settings)}")
    return 0


def cmd_calibrate(args) -> int:
    """The noise between processes and the rule's error rates on this machine (calibrate.py), saved as its prior."""
    if args.processes < 4:
        raise UsageError(f"argument --processes: at least 4 processes per query, got {args.processes}")
    settings = Settings.from_env(rows=args.rows)
    state.check_datasets(settings.home, {settings.data_dir: settings.rows})
    state.prepare(settings.home, settings.store_path)
    data = ensure_dataset(settings.data_dir, settings.rows, settings.seed)
    try:
        record = calibrate.calibrate(settings, data, args.processes, args.threads or provenance.logical_cores())
    except calibrate.CalibrationFailed as exc:
        print(f"{PROG}: {exc} (nothing saved)", file=sys.stderr)
        return 1
    print("\n".join(calibrate.describe(record)))
    print(f"saved for {calibration.machine_id()}: {calibration.save(settings.home, record)}")
    return 0


def cmd_lock(args) -> int:
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
    import psutil  # psutil: only where it is used

    # keeps Dagster off the import path
    from bench_pipeline.defs.orchestrate import ui_command

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
    return threading.current_thread() is threading.main_thread()


COMMANDS = {
    "ui": cmd_ui,
    "lock": cmd_lock,
    "calibrate": cmd_calibrate,
    "generate": cmd_generate,
    "query": cmd_query,
    "tpch": cmd_tpch,
    "import": cmd_import,
    "cell": cmd_cell,
    "bench-datagen": cmd_bench_datagen,
}


def main(argv: list[str] | None = None) -> int:
    if threading_main():
        signal.signal(signal.SIGTERM, interrupt.terminate_as_interrupt)
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help()
            return 2
        return cmd_suite(args) if getattr(args, "suite", None) else COMMANDS[args.command](args)
    except SettingsError as exc:
        print(f"{PROG}: error: settings: {exc}", file=sys.stderr)
        return 2
    except (UsageError, StateError, StoreError, LockError) as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    except interrupt.Stopped as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 130
    except (KeyboardInterrupt, interrupt.Interrupted):
        print(f"{PROG}: interrupted; what was being measured was not stored", file=sys.stderr)
        return 130
    except BuildFailed as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
