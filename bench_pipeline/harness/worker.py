"""The process that runs one query of one cell: `python -m bench_pipeline.harness.worker`.

It talks to the runner through JSON lines on a private copy of stdout; the real
stdout is pointed at stderr first so that nothing an engine or its JVM prints can
corrupt the protocol. The runner answers on stdin, which lets it sample the
process tree's baseline before each run starts. The conversation is in
protocol.py; the runner decides how many runs (query_loop.Repetitions) and
`--max-runs` bounds them whatever it says.

The answers of the cold run and of the last run go to ANSWER_OUT/cold.parquet
and ANSWER_OUT/last.parquet, outside the timed part; so is the engine's plan of
the query, asked after the last run.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import traceback
from pathlib import Path

from bench_pipeline.harness import protocol
from bench_pipeline.harness.sampler import PARENT_ENV, die_with_parent


def _protocol_stream():
    proto = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return proto


def _die_with_runner() -> None:
    """A worker whose runner was killed (kill -9, OOM) stops at once instead of measuring for no one."""
    runner = os.environ.get(PARENT_ENV)
    if runner:
        die_with_parent()
        if os.getppid() != int(runner):  # the runner died before the line above
            os._exit(3)


def error_message(exc: BaseException) -> str:
    """The failure in a line or two. A Java exception (PySpark) gives its own message and its first
    `Caused by`, not a stack cut in the middle; anything else is kept as it is (first 2,000 characters)."""
    text = f"{type(exc).__name__}: {exc}".strip()
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    java = next((line[2:] for line in lines[1:] if line.startswith(": ")), None)  # Py4J's ': <exception>'
    cause = next((line for line in lines if line.startswith("Caused by:")), None)
    if java is None and cause is None:
        return text[:2000]
    return " ... ".join(p for p in (java or lines[0], cause) if p)[:2000]


class _Conversation:
    """The worker's side of the protocol (harness/protocol.py): events out on the protocol stream, the runner's
    answers in on stdin, and the stage it is in (what a failure reports)."""

    def __init__(self, stream):
        self.stream = stream
        self.stage = "configure"

    def say(self, event: str, **fields) -> None:
        self.stream.write(protocol.encode(event, **fields))

    def wait_go(self) -> None:
        if sys.stdin.readline().strip() != protocol.GO:
            raise SystemExit(3)  # the runner went away

    def more(self) -> bool:
        answer = sys.stdin.readline().strip()
        if answer not in (protocol.MORE, protocol.STOP):
            raise SystemExit(3)
        return answer == protocol.MORE


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="bench_pipeline.harness.worker")
    ap.add_argument("--engine", required=True)
    ap.add_argument("--query", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--threads", type=int, required=True)
    ap.add_argument("--max-runs", type=int, required=True, help="at most this many runs (cold + warm)")
    ap.add_argument("--answer-out", required=True, help="folder for cold.parquet and last.parquet")
    return ap.parse_args(argv)


def _measure(args: argparse.Namespace, talk: _Conversation) -> None:
    """The loop: configure and start the engine, run the query while the runner asks for more, then its plan."""
    # Import only the engine's module here: the engine library itself is
    # imported by start(), after configure() has fixed the thread count.
    from bench_pipeline.data.dataset import Dataset
    from bench_pipeline.engines import engine_class

    engine = engine_class(args.engine)()
    engine.configure(args.threads)
    data = Dataset(Path(args.data).resolve())
    talk.stage = "start"
    t0 = time.perf_counter()
    engine.start()
    startup = time.perf_counter() - t0
    # The built-in benchmark's code (its catalogue, pyarrow's compute) imported before any run is timed.
    import bench_pipeline.workloads.social  # noqa: F401 - after the engine started
    talk.say(protocol.READY, startup_s=startup, threads_verified=engine.reported_threads(), version=engine.version(),
             limits=engine.memory_limits())
    talk.wait_go()
    i = 0
    while True:
        talk.stage = f"run {i}"
        talk.say(protocol.RUN_START, i=i)
        talk.wait_go()
        t0 = time.perf_counter()
        result = engine.run(args.query, data)
        seconds = time.perf_counter() - t0
        talk.stage = f"convert {i}"
        talk.say(protocol.RUN_END, i=i, seconds=seconds)
        last = not talk.more() or i + 1 >= args.max_runs
        # The cold answer and the last warm one are both checked by the runner.
        if i == 0 or last:
            from bench_pipeline.harness.validate import write_answer  # pyarrow: after the engine fixed its threads

            write_answer(engine.to_arrow(result), Path(args.answer_out) / ("cold.parquet" if i == 0 else
                                                                           "last.parquet"))
        checks = engine.run_checks(result)
        if checks:
            talk.say(protocol.CHECKS, i=i, checks=checks)
        engine.after_run(result)
        del result
        if last:
            break
        i += 1
    talk.stage = "plan"
    try:
        plan = engine.plan(args.query, data)
    except Exception as exc:  # noqa: BLE001 - the runs are measured; a plan that fails is only noted
        plan = f"plan unavailable: {type(exc).__name__}: {exc}"
    talk.stage = "close"
    engine.close()
    talk.say(protocol.DONE, plan=plan)


def main(argv: list[str] | None = None) -> int:
    _die_with_runner()
    args = _arguments(argv)
    talk = _Conversation(_protocol_stream())
    try:
        _measure(args, talk)
        return 0
    except BaseException as exc:  # noqa: BLE001 - every failure must reach the runner as a status
        from bench_pipeline.workloads.execute import Unsupported  # only when a run failed

        traceback.print_exc()
        talk.say(protocol.ERROR, stage=talk.stage, message=error_message(exc),
                 **({"status": "unsupported"} if isinstance(exc, Unsupported) else {}))
        return 1


if __name__ == "__main__":
    sys.exit(main())
