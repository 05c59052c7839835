"""The words the runner and a worker exchange: one JSON object per line from the worker, one word per line back.

    worker -> ready {startup_s, threads_verified, version, limits}    runner -> go
    worker -> run_start {i}                                           runner -> go
    worker -> run_end {i, seconds}                                    runner -> more | stop
    worker -> checks {i, checks}   (optional: facts an engine established about run i, untimed)
    ...
    worker -> done {plan}          or, at any point, error {stage, message[, status]}

The runner adds two events of its own that no worker sends: `eof` (the worker's stdout closed; its exit code and
the tail of its stderr ride along) and `timeout` (no event within the deadline). Its replies are the words above,
or `kill`: the worker's process tree is killed and nothing is written to it.
"""

from __future__ import annotations

import json

# Worker -> runner.
READY = "ready"
RUN_START = "run_start"
RUN_END = "run_end"
CHECKS = "checks"
DONE = "done"
ERROR = "error"
# The runner's own events.
EOF = "eof"
TIMEOUT = "timeout"

# Runner -> worker.
GO = "go"
MORE = "more"
STOP = "stop"
# The runner's reply that is not a word: kill the worker's tree.
KILL = "kill"


def encode(event: str, **fields) -> str:
    """One worker event as its line."""
    return json.dumps({"event": event, **fields}) + "\n"


def decode(line: str) -> dict | None:
    """A worker's line as its event; None for anything else (an engine's stray output)."""
    line = line.strip()
    if not line.startswith("{"):
        return None
    try:
        event = json.loads(line)
    except json.JSONDecodeError:
        return None
    return event if isinstance(event, dict) and "event" in event else None
