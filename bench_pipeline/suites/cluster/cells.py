"""A real Spark standalone cluster on this machine: one master and N workers, bound to 127.0.0.1.

The master and workers are the JVMs of the installed pyspark package, started
with its `bin/spark-class` as child processes of this one. On Linux each child
is told to die with its parent (PR_SET_PDEATHSIG), so even a SIGKILL of the
process that owns the cluster leaves no JVM behind; `stop()` (and leaving the
`with` block) stops them in order and waits. Executors are started by the
workers as their own children and go with them.

To use a cluster that already exists (standalone, YARN on Dataproc, Kubernetes),
nothing is started: see `ClusterConfig.master_url`.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from bench_pipeline.data.datagen import PARTITIONED_DIR, partition_by_category
from bench_pipeline.data.dataset import Dataset
from bench_pipeline.engines.spark_engine import SparkEngine
from bench_pipeline.harness.instrument import CellSpec, Session
from bench_pipeline.harness.sampler import die_with_parent, end_in_order, trees
from bench_pipeline.workloads.social.catalogue import QUERY_NAMES

START_TIMEOUT_S = 120.0
ENGINE = SparkEngine.name  # the engine a Spark standalone cluster runs


# The Spark session of work that is not measured (the partitioned copy): one core, no UI, quiet.
STEP_SPARK_CONFIG = {"spark.master": "local[1]", "spark.ui.enabled": "false", "spark.ui.showConsoleProgress": "false",
                     "spark.driver.memory": "1g"}


class ClusterError(RuntimeError):
    pass


def end_driver_jvm() -> None:
    """Stop this process's Spark session and the JVM py4j started for it: SparkSession.stop() leaves that JVM
    running in the process, which would then sit beside every later measurement. The next session starts a
    new one."""
    from pyspark import SparkContext  # pyspark: only where it is used
    from pyspark.sql import SparkSession  # pyspark: only where it is used

    session = SparkSession.getActiveSession()
    if session is not None:
        session.stop()
    gateway = SparkContext._gateway
    if gateway is None:
        return
    gateway.shutdown()
    proc = getattr(gateway, "proc", None)
    if proc is not None:  # the JVM ends when its stdin closes (pyspark's launcher)
        if proc.stdin:
            proc.stdin.close()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
    SparkContext._gateway = None
    SparkContext._jvm = None


# Where the JVM of a step's own Spark session writes its log (its start-up warnings would break the progress display).
STEP_SPARK_LOG = Path(tempfile.gettempdir()) / "bench_pipeline-step-spark.log"


@contextlib.contextmanager
def jvm_output_to_log():
    """While a Spark session is created, this process's stderr goes to STEP_SPARK_LOG: the JVM started then
    inherits it and keeps writing there; Python's own errors still reach the caller as exceptions."""
    sys.stderr.flush()
    saved = os.dup(2)
    with open(STEP_SPARK_LOG, "ab") as log:
        os.dup2(log.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)


@contextlib.contextmanager
def step_spark():
    """A local Spark session for unmeasured work outside Dagster (the Dagster layer uses PySparkResource)."""
    from pyspark.sql import SparkSession  # pyspark: only where it is used

    builder = SparkSession.builder
    for k, v in STEP_SPARK_CONFIG.items():
        builder = builder.config(k, v)
    with jvm_output_to_log():
        session = builder.getOrCreate()
    try:
        yield session
    finally:
        end_driver_jvm()


def spark_home() -> Path:
    import pyspark  # pyspark: only where it is used

    return Path(pyspark.__file__).resolve().parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class ClusterConfig:
    """How the cluster cells reach Spark.

    master_url: None starts a local standalone cluster per cell; "spark://host:7077",
    "yarn" (Dataproc) or "k8s://https://..." connects to an existing one, where
    `workers` becomes the number of executors asked for (spark.executor.instances
    and spark.cores.max).
    """

    master_url: str | None = None
    data_uri: str | None = None  # where an existing cluster's executors find the data folder's files
    cores_per_worker: int = 1
    worker_memory: str = "2g"
    executor_memory: str = "1536m"
    driver_memory: str = "2g"
    extra_conf: dict[str, str] = field(default_factory=dict)


class StandaloneCluster:
    def __init__(self, workers: int, config: ClusterConfig | None = None, state_dir: str | os.PathLike | None = None):
        if workers <= 0:
            raise ValueError(f"a cluster needs at least one worker, got {workers}")
        self.workers = workers
        self.config = config or ClusterConfig()
        self.state_dir = Path(state_dir) if state_dir else Path(tempfile.mkdtemp(prefix="bench-spark-"))
        self._own_state_dir = state_dir is None
        self.master: subprocess.Popen | None = None
        self.worker_procs: list[subprocess.Popen] = []
        self.master_url = ""
        self.webui_url = ""
        self.start_seconds: float | None = None

    # -- lifecycle ------------------------------------------------------------
    def __enter__(self) -> StandaloneCluster:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def _env(self) -> dict:
        env = dict(os.environ)
        env.update(SPARK_HOME=str(spark_home()), SPARK_LOCAL_IP="127.0.0.1", PYSPARK_PYTHON=sys.executable,
                   SPARK_LOG_DIR=str(self.state_dir / "logs"), SPARK_WORKER_DIR=str(self.state_dir / "work"),
                   SPARK_PID_DIR=str(self.state_dir / "pids"), SPARK_NO_DAEMONIZE="1")
        return env

    def _spawn(self, name: str, args: list[str]) -> subprocess.Popen:
        log = open(self.state_dir / "logs" / f"{name}.log", "wb")
        cmd = [str(spark_home() / "bin" / "spark-class"), *args]
        return subprocess.Popen(cmd, env=self._env(), stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, preexec_fn=die_with_parent)

    def start(self) -> None:
        t0 = time.perf_counter()
        for sub in ("logs", "work", "pids"):
            (self.state_dir / sub).mkdir(parents=True, exist_ok=True)
        port, webui = _free_port(), _free_port()
        self.master_url = f"spark://127.0.0.1:{port}"
        self.webui_url = f"http://127.0.0.1:{webui}"
        try:
            self.master = self._spawn("master", ["org.apache.spark.deploy.master.Master", "--host", "127.0.0.1",
                                                 "--port", str(port), "--webui-port", str(webui)])
            self._wait(lambda s: True, "the master to answer")
            c = self.config
            for k in range(self.workers):
                self.worker_procs.append(self._spawn(f"worker-{k + 1}", [
                    "org.apache.spark.deploy.worker.Worker", "--host", "127.0.0.1", "--webui-port", "0",
                    "--cores", str(c.cores_per_worker), "--memory", c.worker_memory,
                    "--work-dir", str(self.state_dir / "work"), self.master_url]))
            self._wait(lambda s: s.get("aliveworkers", 0) >= self.workers, f"{self.workers} workers to register")
        except BaseException:
            self.stop()
            raise
        self.start_seconds = time.perf_counter() - t0

    def status(self) -> dict:
        with urllib.request.urlopen(f"{self.webui_url}/json/", timeout=2) as resp:
            return json.loads(resp.read())

    def _wait(self, ready, what: str) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            for p in [self.master, *self.worker_procs]:
                if p is not None and p.poll() is not None:
                    raise ClusterError(f"a cluster JVM exited with code {p.returncode} while waiting for {what}; "
                                       f"logs in {self.state_dir / 'logs'}")
            try:
                if ready(self.status()):
                    return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise ClusterError(f"timed out after {START_TIMEOUT_S:.0f} s waiting for {what}")
            time.sleep(0.5)

    def pids(self) -> list[int]:
        """The master's and workers' PIDs (executors are their children)."""
        return [p.pid for p in [self.master, *self.worker_procs] if p is not None and p.poll() is None]

    def jvms(self) -> list[psutil.Process]:
        """Every live process of the cluster: master, workers and their executors."""
        return trees(self.pids())

    def stop(self) -> None:
        """Workers first (their executors with them), then the master; wait until all are gone."""
        end_in_order([*self.worker_procs, self.master], grace_s=15)
        self.worker_procs = []
        self.master = None
        if self._own_state_dir:
            shutil.rmtree(self.state_dir, ignore_errors=True)


LAYOUTS = ("flat", "partitioned")


def spark_env(executors: int, config: ClusterConfig) -> dict[str, str]:
    """What the Spark engine in the driver process asks of the cluster (see spark_engine)."""
    return {"BENCH_SPARK_EXECUTORS": str(executors), "BENCH_SPARK_EXECUTOR_CORES": str(config.cores_per_worker),
            "BENCH_SPARK_EXECUTOR_MEMORY": config.executor_memory, "BENCH_SPARK_DRIVER_MEMORY": config.driver_memory}


def posts_layout(data: Dataset, layout: str) -> Path:
    """The posts in the `layout` asked for: the one file, or the copy partitioned by category (written by Spark
    the first time it is asked for, outside Dagster; the `posts_partitioned` asset writes it inside)."""
    if layout not in LAYOUTS:
        raise ValueError(f"unknown layout {layout!r}; choose from {', '.join(LAYOUTS)}")
    if layout == "flat":
        return data.posts
    if not (data.root / PARTITIONED_DIR).is_dir():
        with step_spark() as spark:
            partition_by_category(spark, data)
    return data.root / PARTITIONED_DIR


def cluster_spec(data: Dataset, executors: int, layout: str, config: ClusterConfig, repeats: int = 3,
                 timeout_s: float = 600.0, queries: Sequence[str] = QUERY_NAMES,
                 query_budget_s: float = 30.0) -> CellSpec:
    """L, A, B, C on a cluster of `executors` one-core executors, reading the `layout` copy of posts.

    Its session starts a standalone cluster for the cell's processes (and stops it, whatever happens) unless
    config.master_url names an existing one. Memory is the driver's process tree plus every JVM of a cluster
    the session started."""
    posts_name = posts_layout(data, layout).name
    base = config.data_uri.rstrip("/") if config.data_uri else data.root.as_uri()
    env = {**spark_env(executors, config), "BENCH_SPARK_POSTS": f"{base}/{posts_name}",
           "BENCH_SPARK_USERS": f"{base}/{data.users.name}"}
    context = {"executors": executors, "executor_cores": config.cores_per_worker,
               "executor_memory": config.executor_memory, "data_layout": layout}
    session = None
    if config.master_url:
        env["BENCH_SPARK_MASTER"] = context["master_url"] = config.master_url
    else:
        session = functools.partial(standalone_session, executors, config)
    return CellSpec(ENGINE, executors * config.cores_per_worker, data, queries, repeats=repeats, timeout_s=timeout_s,
                    suite="cluster", env=env, context=context, session=session, query_budget_s=query_budget_s)


@contextlib.contextmanager
def standalone_session(executors: int, config: ClusterConfig):
    """A standalone cluster of `executors` workers for the processes of a cell: what they are told, the JVMs
    whose memory is theirs, and the columns their rows carry."""
    with StandaloneCluster(executors, config) as cluster:
        yield Session(env={"BENCH_SPARK_MASTER": cluster.master_url}, extra_pids=cluster.pids,
                      columns={"master_url": cluster.master_url, "cluster_start_seconds": cluster.start_seconds})
