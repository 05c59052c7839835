"""One query in a fresh process (docs/measurement.md); the instrument (instrument.py) measures cells of them.

For each query the runner starts `bench_pipeline.harness.worker` with the thread
settings in its environment, samples the RSS of the worker's whole process tree
from this process (the JVM included), holds it to a timeout and a memory budget,
validates the last answer against the reference, and turns it all into rows for
the results store. A failing query becomes rows with its status.
"""

from __future__ import annotations

import contextlib
import os
import queue
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow.parquet as pq

from bench_pipeline.data.dataset import Dataset
from bench_pipeline.engines import engine_class
from bench_pipeline.engines.base import BUDGET_ENV
from bench_pipeline.harness import interrupt, protocol
from bench_pipeline.harness.machine_lock import measurement_lock, this_command
from bench_pipeline.harness.noise import NoiseMeter
from bench_pipeline.harness.query_loop import DEFAULT_REPEATS, QueryLoop, Repetitions
from bench_pipeline.harness.sampler import PARENT_ENV, TreeSampler, kill_tree
from bench_pipeline.harness.scratch import scratch_folder
from bench_pipeline.harness.validate import AnswerMismatch, write_answer
from bench_pipeline.results.store import MeasurementRow
from bench_pipeline.workloads import social
from bench_pipeline.workloads.reference import ReferenceFailure

DEFAULT_TIMEOUT_S = 600.0
# Thread pools a library may start behind the engine's back (BLAS, OpenMP, Arrow):
# pinned in the worker's environment so "1 thread" means one from the first import.
_THREAD_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "POLARS_MAX_THREADS")
_STDERR_TAIL = 1500


# Callbacks told about every finished run, for a caller that cannot pass `on_run`
# down (the CLI's progress bars around an in-process Dagster materialization).
_listeners: list[Callable[[dict], None]] = []


@contextlib.contextmanager
def listening(callback: Callable[[dict], None]):
    _listeners.append(callback)
    try:
        yield
    finally:
        _listeners.remove(callback)


def _notify(row: dict, on_run: Callable[[dict], None] | None) -> None:
    for callback in [*_listeners, *([on_run] if on_run else [])]:
        callback(row)


@dataclass
class QuerySpec:
    engine: str
    query: str
    data: Dataset
    threads: int = 1
    repeats: int = DEFAULT_REPEATS  # warm runs after the cold one (the least, when max_repeats is set)
    timeout_s: float = DEFAULT_TIMEOUT_S  # per run
    budget_bytes: int | None = None  # process-tree RSS limit
    answer_out: Path | None = None  # keep the validated answer here
    env: dict[str, str] = field(default_factory=dict)  # engine options for the worker (e.g. a Spark master)
    # Processes outside the worker whose memory is the query's too (a cluster's
    # master and workers, their executors included), asked at every rescan.
    extra_pids: Callable[[], list[int]] | None = None
    # (query, answer, data) -> the conformed answer, raising AnswerMismatch; a suite
    # with its own workloads (the Engine Wars) brings its own. None: the catalogue's.
    validator: Callable | None = None
    # Adaptive repetitions (see Repetitions); None: exactly `repeats` warm runs.
    max_repeats: int | None = None
    precision: float = 0.05
    query_budget_s: float = 30.0
    name: str | None = None  # the engine's name in the rows, when `engine` is a class path ('module:Class')

    @property
    def repetitions(self) -> Repetitions:
        return Repetitions(self.repeats, self.max_repeats, self.precision, self.query_budget_s)


def _worker_env(threads: int, extra: dict[str, str], budget_bytes: int | None, scratch: Path) -> dict:
    env = {**os.environ, **extra}
    # Spill and temporary files (DuckDB's temp_directory, DataFusion's disk manager, Spark's block
    # manager) go under the query's own folder, which the runner removes even when it had to kill the
    # worker (oom, timeout) before the engine could clean up.
    env["TMPDIR"] = env["SPARK_LOCAL_DIRS"] = str(scratch)
    env.pop(BUDGET_ENV, None)
    if budget_bytes is not None:
        env[BUDGET_ENV] = str(budget_bytes)  # engines with limits of their own set them from it
    for var in _THREAD_ENV:
        env[var] = str(threads)
    env.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    env["PYTHONUNBUFFERED"] = "1"
    env[PARENT_ENV] = str(os.getpid())  # the worker dies with this process (see worker.py)
    return env


def _read_events(stream, events: queue.Queue) -> None:
    for line in stream:
        event = protocol.decode(line)
        if event is not None:
            events.put(event)
    events.put({"event": protocol.EOF})


def _tail(path: Path) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return text[-_STDERR_TAIL:].strip()


def run_query(spec: QuerySpec, on_run: Callable[[dict], None] | None = None) -> list[MeasurementRow]:
    """Run one query (cold + warm runs) in a fresh worker; return one row per run.

    Rows carry the measurement columns that this level knows; the instrument
    (instrument.py) adds the cell's identity and provenance.
    """
    cls = engine_class(spec.engine)
    base = {"engine": spec.name or spec.engine, "engine_version": cls.version(), "query": spec.query,
            "threads_asked": spec.threads, "timeout_seconds": spec.timeout_s,
            "budget_bytes": spec.budget_bytes}
    reason = cls.unavailable_reason()
    if reason:
        row = {**base, "run_index": 0, "run_kind": "cold", "status": "skipped", "message": reason}
        _notify(row, on_run)
        return [row]

    with measurement_lock(this_command()):
        return _measure_query(spec, base, on_run)


def _measure_query(spec: QuerySpec, base: dict, on_run) -> list[MeasurementRow]:
    """The worker's process, pipes and clock around the query's state machine (query_loop.QueryLoop)."""
    with scratch_folder() as tmp:
        answers = Path(tmp)
        stderr_path = Path(tmp) / "stderr.log"
        scratch = Path(tmp) / "scratch"
        scratch.mkdir()
        cmd = [sys.executable, "-m", "bench_pipeline.harness.worker", "--engine", spec.engine,
               "--query", spec.query, "--data", str(spec.data.root), "--threads", str(spec.threads),
               "--max-runs", str(spec.repetitions.most_runs), "--answer-out", str(answers)]
        with open(stderr_path, "wb") as stderr:
            proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr,
                                    env=_worker_env(spec.threads, spec.env, spec.budget_bytes, scratch), text=True,
                                    bufsize=1)
        events: queue.Queue = queue.Queue()
        threading.Thread(target=_read_events, args=(proc.stdout, events), daemon=True).start()
        try:
            # The sampler holds the process before an interrupt can kill (and reap) it: an interrupt that lands
            # as the worker starts is then the interrupt, not a vanished process.
            with TreeSampler(proc.pid, budget_bytes=spec.budget_bytes, extra_pids=spec.extra_pids) as sampler, \
                    interrupt.tracking(proc.pid):
                loop = QueryLoop(base, spec.repetitions, spec.timeout_s, sampler, NoiseMeter(sampler.members),
                                 spec.budget_bytes)
                while not loop.finished:
                    try:
                        ev = events.get(timeout=loop.deadline)
                    except queue.Empty:
                        ev = {"event": protocol.TIMEOUT}
                    if ev["event"] == protocol.EOF:
                        ev = {**ev, "returncode": proc.wait(timeout=30), "stderr": _tail(stderr_path)}
                    step = loop.on_event(ev)
                    if step.reply == protocol.KILL:
                        kill_tree(proc.pid)
                    elif step.reply is not None:
                        _say(proc, step.reply)
                    if step.row is not None:
                        _notify(step.row, on_run)
        finally:
            if proc.poll() is None:
                kill_tree(proc.pid)
            proc.wait()
        # A run killed by an interrupt is no measurement: nothing of this query becomes a row.
        interrupt.check()
        rows, made = loop.result()
        if made is not None:
            _notify(made, on_run)
        if loop.failure is None:
            _validate_into(rows, spec, answers)
    return rows


def _say(proc: subprocess.Popen, word: str) -> None:
    try:
        proc.stdin.write(word + "\n")
        proc.stdin.flush()
    except OSError:
        pass  # the worker is gone (killed over budget, crashed): its eof says why


def _validate_into(rows: list[dict], spec: QuerySpec, answers: Path) -> None:
    """Check the cold and the last answer; every run of the query takes the verdict."""
    table = None
    status, message = "ok", None
    for name in ("cold", "last"):
        path = answers / f"{name}.parquet"
        if name == "last" and not path.exists() and len(rows) == 1:
            break  # a single run: its answer is the cold one
        try:
            table = (spec.validator or social.validate)(spec.query, pq.read_table(path), spec.data)
        except AnswerMismatch as exc:
            status, message, table = "wrong_answer", f"{name} run: {exc}", None
            break
        except ReferenceFailure as exc:
            status, message, table = "error", f"reference answer could not be computed: {exc}", None
            break
        except Exception as exc:  # an unreadable answer is the engine's failure, not the cell's
            status, message, table = "error", f"{name} answer could not be read: {exc}", None
            break
    for r in rows:
        r["answer_rows"] = table.num_rows if table is not None else None
        if r["status"] == "ok":
            r["status"], r["message"] = status, message
    if table is not None and spec.answer_out is not None:
        write_answer(table, spec.answer_out)
