"""The Engine Wars image pipeline on a cluster: Spark's UDF on the standalone cluster, Daft on Ray and Ray Data's
`map_batches` on a Ray cluster, each with N one-core workers.

Each cell is the suite's instrument (`run_cell`: a fresh driver per run, cold and warm runs, peak memory over the
driver and every process of the cluster), with the Engine Wars validator (each image's size and mean against the
manifest written when the images were made). The images are served over HTTP on 127.0.0.1 for the cell, so the
workers must run on this machine: a cluster elsewhere (`--master`, `--ray-address`) cannot reach them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

from bench_pipeline.engines import engine_class
from bench_pipeline.engines.daft_engine import RAY_ADDRESS_ENV
from bench_pipeline.harness.runner import CellResult, CellSpec, run_cell
from bench_pipeline.suites.cluster.cells import ClusterConfig, StandaloneCluster, spark_env
from bench_pipeline.suites.wars.data import WarsData
from bench_pipeline.suites.wars.engines import IMAGES_URL_ENV
from bench_pipeline.suites.wars.engines.daft_wars import DaftRayWars
from bench_pipeline.suites.wars.engines.ray_data_wars import RayDataWars
from bench_pipeline.suites.wars.engines.spark_wars import SparkWars
from bench_pipeline.suites.wars.server import ImageServer
from bench_pipeline.suites.wars.tasks import validate_task

IMAGES = "images"  # the task (the store's `query`) and the cells' data layout: image files over HTTP
IMAGE_ENGINES: dict[str, str] = {cls.name: f"{cls.__module__}:{cls.__qualname__}"
                                 for cls in (SparkWars, DaftRayWars, RayDataWars)}
SPARK = SparkWars.name


def image_engine_path(engine: str) -> str:
    try:
        return IMAGE_ENGINES[engine]
    except KeyError:
        raise ValueError(f"no image engine {engine!r} on a cluster; choose from {', '.join(IMAGE_ENGINES)}") \
            from None


def run_image_cell(data: WarsData, engine: str, workers: int, config: ClusterConfig | None = None, store=None,
                   repeats: int = 3, timeout_s: float = 600.0, dagster_run_id: str | None = None,
                   on_run: Callable[[dict], None] | None = None, ray_address: str | None = None,
                   **repetition) -> CellResult:
    """The image pipeline on `engine` with `workers` one-core workers: a cluster started for the cell (and stopped,
    whatever happens) unless the settings name one."""
    from bench_pipeline.suites.cluster.ray_cluster import WORKER_MEMORY_BYTES, RayCluster, require_reachable

    path, config = image_engine_path(engine), config or ClusterConfig()
    with contextlib.ExitStack() as stack:
        server = stack.enter_context(ImageServer(data.images))
        env = {IMAGES_URL_ENV: server.url, "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"}
        pids, start = None, None
        if engine == SPARK:
            master = config.master_url
            if not master:
                cluster = stack.enter_context(StandaloneCluster(workers, config))
                master, pids, start = cluster.master_url, cluster.pids, cluster.start_seconds
            env.update(spark_env(workers, config), BENCH_SPARK_MASTER=master)
            memory = config.executor_memory
        else:
            master = ray_address or ""
            if master:
                require_reachable(master)
            # A missing extra starts nothing: the worker then says `skipped`, and why.
            if not master and engine_class(path).unavailable_reason() is None:
                cluster = stack.enter_context(RayCluster(workers))
                master, pids, start = cluster.address, cluster.pids, cluster.start_seconds
            env[RAY_ADDRESS_ENV] = master
            master, memory = f"ray://{master}", f"{WORKER_MEMORY_BYTES // 2**20}m"
        context = {"executors": workers, "executor_cores": config.cores_per_worker if engine == SPARK else 1,
                   "executor_memory": memory, "data_layout": IMAGES, "master_url": master,
                   "cluster_start_seconds": start, "dataset_rows": data.params()["images"]}

        def named(row: dict) -> None:
            row["engine"] = engine  # the engine's name, not its class path
            if on_run:
                on_run(row)

        spec = CellSpec(path, workers, data, (IMAGES,), repeats=repeats, timeout_s=timeout_s,
                        dagster_run_id=dagster_run_id, suite="cluster", env=env, extra_pids=pids, context=context,
                        validator=validate_task, **repetition)
        return run_cell(spec, store, on_run=named)
