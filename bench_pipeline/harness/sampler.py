"""Peak resident memory of a whole process tree, sampled from outside.

The tree is a process and all its descendants (for Spark: the Python driver and
its JVM). A background thread sums their RSS every `interval` seconds, keeps the
overall peak and the peak of the current window (one query run), and can enforce
a memory budget by killing the tree the moment the sum exceeds it.
"""

from __future__ import annotations

import ctypes
import signal
import threading

import psutil

# Rescanning /proc for new children costs more than reading RSS, so the child
# list is refreshed every few samples; a JVM lives for seconds, not milliseconds.
_RESCAN_EVERY = 5


def trees(pids) -> list[psutil.Process]:
    """The live processes of every tree rooted at `pids` (roots and all descendants)."""
    procs = []
    for pid in pids:
        try:
            root = psutil.Process(pid)
            procs += [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            pass
    return procs


def tree_rss(root: psutil.Process, members: list[psutil.Process] | None = None) -> int:
    procs = members if members is not None else [root, *root.children(recursive=True)]
    total = 0
    for p in procs:
        try:
            total += p.memory_info().rss
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            pass
    return total


def kill_tree(pid: int, sig: int = signal.SIGKILL, timeout: float = 10) -> None:
    """Signal a process and every descendant, children first so none is orphaned; wait for them."""
    try:
        root = psutil.Process(pid)
        procs = root.children(recursive=True) + [root]
    except psutil.NoSuchProcess:
        return
    for p in procs:
        try:
            p.send_signal(sig)
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(procs, timeout=timeout)


def end_in_order(children, grace_s: float) -> None:
    """End child processes (Popen, None skipped) in the order given: SIGTERM to each tree, `grace_s` for it to
    go, then SIGKILL to what is left; wait for every one (a cluster's workers, then its master or head)."""
    children = [p for p in children if p is not None]
    for p in children:
        if p.poll() is None:
            kill_tree(p.pid, sig=signal.SIGTERM, timeout=grace_s)
    for p in children:
        if p.poll() is None:
            kill_tree(p.pid)
        p.wait()


_PR_SET_PDEATHSIG = 1
# The runner's pid, in a worker's environment: the worker dies with it (see worker.py).
PARENT_ENV = "BENCH_RUNNER_PID"


def die_with_parent(sig: int = signal.SIGKILL) -> None:
    """Send `sig` to this process when the process that started it dies (a preexec_fn, or a child's first act)."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, sig)
    except OSError:
        pass  # not Linux: the parent's finally blocks are the only guard


class TreeSampler:
    def __init__(self, pid: int, interval: float = 0.02, budget_bytes: int | None = None, extra_pids=None):
        """extra_pids: a callable giving more tree roots to count (never killed over budget)."""
        self.root = psutil.Process(pid)
        self.extra_pids = extra_pids
        self.interval = interval
        self.budget_bytes = budget_bytes
        self.peak = 0
        self.window_peak = 0
        self.last = 0
        self.window_processes = 0  # most processes seen in the tree during the window
        self._generation = 0  # bumped per window, so a sample begun in the last one is not counted
        self.over_budget = False
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="tree-sampler", daemon=True)

    def __enter__(self) -> TreeSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def start_window(self) -> int:
        """Begin a new window (a query run); return the tree's RSS right now (its baseline)."""
        now = self.sample()
        with self._lock:
            self._generation += 1
            self.window_peak = now
            self.window_processes = 0
        return now

    def end_window(self) -> int:
        now = self.sample()
        with self._lock:
            return max(self.window_peak, now)

    def sample(self, members: list[psutil.Process] | None = None) -> int:
        with self._lock:
            generation = self._generation
        try:
            if members is None:
                members = self.members()
        except psutil.NoSuchProcess:
            return self.last
        rss = tree_rss(self.root, members)
        kill = False
        with self._lock:
            self.last = rss
            self.peak = max(self.peak, rss)
            if generation == self._generation:
                self.window_peak = max(self.window_peak, rss)
                self.window_processes = max(self.window_processes, len(members))
            if self.budget_bytes is not None and rss > self.budget_bytes and not self.over_budget:
                self.over_budget = kill = True
        if kill:
            kill_tree(self.root.pid)
        return rss

    def members(self) -> list[psutil.Process]:
        return [self.root, *self.root.children(recursive=True),
                *trees(self.extra_pids() if self.extra_pids else [])]

    def _loop(self) -> None:
        members: list[psutil.Process] = []
        n = 0
        while not self._stop.is_set():
            try:
                if n % _RESCAN_EVERY == 0:
                    members = self.members()
                if not self.root.is_running():
                    break
            except psutil.NoSuchProcess:
                break
            self.sample(members)
            n += 1
            self._stop.wait(self.interval)
