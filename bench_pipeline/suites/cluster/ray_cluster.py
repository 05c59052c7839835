"""A real Ray cluster on this machine: a head node and N worker nodes, each its own raylet, on 127.0.0.1.

Each node is a `ray start --block` child of this process (Ray's own multi-node launcher, the equivalent of the
Spark master and workers): the head schedules nothing (0 CPUs); each worker offers one CPU and a memory cap.
Each `ray start` is told to die with this process (PR_SET_PDEATHSIG), and the node's core processes (raylet,
GCS, object store) die with it; its agents would linger a minute, so every node is started as a process group
of its own and handed to a group reaper (harness/group_reaper.py) that ends those groups when this process
ends, a SIGKILL included: no Ray process is left behind. `stop()` (and leaving the `with` block) ends the
workers, then the head, and waits.

An existing cluster is used when its address is given (`--ray-address`), as `--master` does for Spark.
"""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

from bench_pipeline.engines.daft_engine import POSTS_ENV, RAY_ADDRESS_ENV, DaftRayEngine
from bench_pipeline.engines.optional import missing_reason
from bench_pipeline.harness.instrument import CellSpec, Session
from bench_pipeline.harness.sampler import die_with_parent, end_in_order, trees
from bench_pipeline.workloads.social.catalogue import QUERY_NAMES

START_TIMEOUT_S = 120.0
WORKER_MEMORY_BYTES = 1536 * 2**20  # each worker node's memory for tasks (Ray's --memory)
WORKER_OBJECT_STORE_BYTES = 512 * 2**20  # and its shared-memory object store


class RayClusterError(RuntimeError):
    pass


def ray_executable() -> str:
    return shutil.which("ray") or str(Path(sys.executable).with_name("ray"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def unreachable_reason(address: str, timeout_s: float = 3.0) -> str | None:
    """Why nothing answers at a Ray address (`host:port` or `ray://host:port`), or None when something listens.

    A wrong address would otherwise cost each cell its whole start-up timeout before it failed."""
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        return f"{address!r} is not host:port"
    try:
        socket.create_connection((host, int(port)), timeout=timeout_s).close()
    except OSError as exc:
        return f"nothing listens at {host}:{port} ({exc.strerror or exc})"
    return None


def require_reachable(address: str) -> None:
    """A cell given an existing cluster's address fails at once when nothing answers there."""
    if reason := unreachable_reason(address):
        raise RayClusterError(f"Ray cluster {reason}")


class RayCluster:
    def __init__(self, workers: int, memory_bytes: int = WORKER_MEMORY_BYTES):
        if workers <= 0:
            raise ValueError(f"a cluster needs at least one worker, got {workers}")
        if reason := missing_reason("ray", extra="ray"):
            raise RayClusterError(reason)
        self.workers = workers
        self.memory_bytes = memory_bytes
        # Ray's sockets live under its temp dir: a short path (AF_UNIX paths are limited to 107 bytes).
        self.temp_dir = Path(tempfile.mkdtemp(prefix="bray-", dir="/tmp"))
        self.logs = self.temp_dir / "launcher-logs"
        self.head: subprocess.Popen | None = None
        self.worker_procs: list[subprocess.Popen] = []
        self.reaper: subprocess.Popen | None = None
        self.address = ""
        self.start_seconds: float | None = None

    def __enter__(self) -> RayCluster:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def _spawn(self, name: str, args: list[str]) -> subprocess.Popen:
        log = open(self.logs / f"{name}.log", "wb")
        env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", "RAY_DISABLE_DOCKER_CPU_WARNING": "1"}
        node = subprocess.Popen([ray_executable(), "start", "--block", "--disable-usage-stats",
                                 "--node-ip-address", "127.0.0.1", *args], env=env, stdout=log,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, preexec_fn=die_with_parent,
                                start_new_session=True)  # the node's processes: one group, the reaper's to end
        self.reaper.stdin.write(f"{node.pid}\n")
        self.reaper.stdin.flush()
        return node

    def start(self) -> None:
        t0 = time.perf_counter()
        self.logs.mkdir(parents=True, exist_ok=True)
        self.reaper = subprocess.Popen([sys.executable, "-m", "bench_pipeline.harness.group_reaper"],
                                       stdin=subprocess.PIPE, text=True, start_new_session=True)
        port = _free_port()
        self.address = f"127.0.0.1:{port}"
        try:
            self.head = self._spawn("head", ["--head", "--port", str(port), "--num-cpus", "0",
                                             "--include-dashboard", "false", "--temp-dir", str(self.temp_dir)])
            self._wait(1, "the head node")
            # One at a time: on a small machine, nodes starting together time out in Ray's own start-up wait.
            for k in range(self.workers):
                self.worker_procs.append(self._spawn(f"worker-{k + 1}", [
                    "--address", self.address, "--num-cpus", "1", "--memory", str(self.memory_bytes),
                    "--object-store-memory", str(WORKER_OBJECT_STORE_BYTES)]))
                self._wait(2 + k, f"worker node {k + 1} of {self.workers} to join")
        except BaseException:
            self.stop()
            raise
        self.start_seconds = time.perf_counter() - t0

    def alive_nodes(self) -> int:
        """Nodes the cluster's GCS reports alive (asked from a short-lived driver: this process stays clean)."""
        code = ("import ray, sys; ray.init(address=sys.argv[1], logging_level='ERROR', log_to_driver=False); "
                "print(sum(1 for n in ray.nodes() if n['Alive']))")
        r = subprocess.run([sys.executable, "-c", code, self.address], capture_output=True, text=True, timeout=60,
                           env={**os.environ, "RAY_USAGE_STATS_ENABLED": "0"})
        return int(r.stdout.strip().splitlines()[-1]) if r.returncode == 0 and r.stdout.strip() else 0

    def _wait(self, nodes: int, what: str) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            for name, p in [("head", self.head), *((f"worker-{k + 1}", w) for k, w in enumerate(self.worker_procs))]:
                if p is not None and p.poll() is not None:
                    lines = (self.logs / f"{name}.log").read_text(errors="replace").strip().splitlines()
                    last = next((ln for ln in reversed(lines) if ln.strip()), "no output")
                    raise RayClusterError(f"Ray's {name} node exited with code {p.returncode} while waiting for "
                                          f"{what}: {last.strip()[:300]}")
            if self.alive_nodes() >= nodes:
                return
            if time.monotonic() > deadline:
                raise RayClusterError(f"timed out after {START_TIMEOUT_S:.0f} s waiting for {what}")
            time.sleep(0.5)

    def pids(self) -> list[int]:
        """The `ray start` processes (every Ray process of a node is below its launcher or its reaper)."""
        return [p.pid for p in [self.head, *self.worker_procs] if p is not None and p.poll() is None]

    def processes(self) -> list[psutil.Process]:
        """Every live process of the cluster: launchers, raylets, GCS, object stores, workers."""
        return trees(self.pids())

    def stop(self) -> None:
        """Workers first, then the head (each `ray start` ends its node on SIGTERM); wait until all are gone."""
        end_in_order([*self.worker_procs, self.head], grace_s=20)
        self.worker_procs, self.head = [], None
        if self.reaper is not None:  # nothing left for it but stragglers: it ends them and itself
            self.reaper.stdin.close()
            self.reaper.wait()
            self.reaper = None
        shutil.rmtree(self.temp_dir, ignore_errors=True)


def ray_spec(data, workers: int, layout: str = "flat", address: str | None = None, repeats: int = 3,
             timeout_s: float = 600.0, queries=None, query_budget_s: float = 30.0):
    """Daft on a Ray cluster of `workers` one-CPU worker nodes: the queries (default the grid's) through the same
    instrument as every cell (a fresh driver process per query, cold and warm runs, validated answers).

    Its session starts a cluster for the cell's processes (and stops it, whatever happens) unless `address`
    names an existing one. Memory is the driver's process tree plus every process of a cluster the session
    started (launchers, raylets, GCS, object stores, Ray workers)."""
    from bench_pipeline.suites.cluster.cells import posts_layout  # cells imports this module

    context = {"executors": workers, "executor_cores": 1, "executor_memory": f"{WORKER_MEMORY_BYTES // 2**20}m",
               "data_layout": layout}
    env = {POSTS_ENV: str(posts_layout(data, layout))}
    session = None
    if address:
        require_reachable(address)
    if address or DaftRayEngine.unavailable_reason():  # a missing extra: the worker says `skipped`, and why
        env[RAY_ADDRESS_ENV] = address or ""
        context["master_url"] = f"ray://{address}" if address else None
    else:
        session = functools.partial(ray_session, workers)
    return CellSpec(DaftRayEngine.name, workers, data, tuple(queries or QUERY_NAMES), repeats=repeats,
                    timeout_s=timeout_s, suite="cluster", env=env, context=context, session=session,
                    query_budget_s=query_budget_s)


@contextlib.contextmanager
def ray_session(workers: int):
    """A Ray cluster of `workers` worker nodes for the processes of a cell."""
    with RayCluster(workers) as cluster:
        yield Session(env={RAY_ADDRESS_ENV: cluster.address}, extra_pids=cluster.pids,
                      columns={"master_url": f"ray://{cluster.address}",
                               "cluster_start_seconds": cluster.start_seconds})
