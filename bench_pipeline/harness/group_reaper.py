"""Ends process groups when the process that started it ends, however it ended (a SIGKILL included).

Its owner writes one process-group id per line to its stdin. At end of file (the owner closed the pipe, or
died and the kernel closed it) every group gets SIGTERM, two seconds, then SIGKILL. It runs in a session of its
own, so nothing aimed at the owner's group reaches it. Ray's own node processes die with their `ray start`, but
its per-node agents only notice a minute later: the Ray cluster hands its nodes' groups to one of these.
"""

from __future__ import annotations

import os
import signal
import sys
import time

GRACE_S = 2.0


def _signal(groups: list[int], sig: int) -> None:
    for group in groups:
        try:
            os.killpg(group, sig)
        except (ProcessLookupError, PermissionError):
            pass


def main() -> None:
    groups = [int(line) for line in sys.stdin if line.strip().isdigit()]
    _signal(groups, signal.SIGTERM)
    time.sleep(GRACE_S)
    _signal(groups, signal.SIGKILL)


if __name__ == "__main__":
    main()
