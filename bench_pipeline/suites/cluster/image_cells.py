"""The Engine Wars image pipeline on a cluster: Spark's UDF on the standalone cluster, Daft on Ray and Ray Data's
`map_batches` on a Ray cluster, each with N one-core workers.

Each cell is measured by the instrument like every other (a fresh driver per process, cold and warm runs, peak
memory over the driver and every process of the cluster), with the Engine Wars validator (each image's size and
mean against the manifest written when the images were made). The images are served over HTTP on 127.0.0.1 by
the cell's session, beside its cluster, so the workers must run on this machine: a cluster elsewhere
(`--master`, `--ray-address`) cannot reach them.
"""

from __future__ import annotations

import contextlib
import functools

from bench_pipeline.engines import engine_class
from bench_pipeline.engines.daft_engine import RAY_ADDRESS_ENV
from bench_pipeline.harness.instrument import CellSpec, Session
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


def image_spec(data: WarsData, engine: str, workers: int, config: ClusterConfig | None = None, repeats: int = 3,
               timeout_s: float = 600.0, ray_address: str | None = None, query_budget_s: float = 30.0) -> CellSpec:
    """The image pipeline on `engine` with `workers` one-core workers: its session serves the images and starts a
    cluster (stopped whatever happens) unless the settings name one."""
    # ray_cluster imports this module
    from bench_pipeline.suites.cluster.ray_cluster import WORKER_MEMORY_BYTES, require_reachable

    path, config = image_engine_path(engine), config or ClusterConfig()
    if engine != SPARK and ray_address:
        require_reachable(ray_address)
    context = {"executors": workers, "executor_cores": config.cores_per_worker if engine == SPARK else 1,
               "executor_memory": config.executor_memory if engine == SPARK else f"{WORKER_MEMORY_BYTES // 2**20}m",
               "data_layout": IMAGES}
    return CellSpec(path, workers, data, (IMAGES,), repeats=repeats, timeout_s=timeout_s, suite="cluster",
                    context=context, validator=validate_task, name=engine, dataset_rows=data.params()["images"],
                    session=functools.partial(image_session, data, engine, workers, config, ray_address),
                    query_budget_s=query_budget_s)


@contextlib.contextmanager
def image_session(data: WarsData, engine: str, workers: int, config: ClusterConfig, ray_address: str | None):
    """The images over HTTP and the engine's cluster for the processes of one image cell."""
    from bench_pipeline.suites.cluster.ray_cluster import RayCluster  # ray_cluster imports this module

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
        else:
            master = ray_address or ""
            # A missing extra starts nothing: the worker then says `skipped`, and why.
            if not master and engine_class(image_engine_path(engine)).unavailable_reason() is None:
                cluster = stack.enter_context(RayCluster(workers))
                master, pids, start = cluster.address, cluster.pids, cluster.start_seconds
            env[RAY_ADDRESS_ENV] = master
            master = f"ray://{master}"
        yield Session(env=env, extra_pids=pids, columns={"master_url": master, "cluster_start_seconds": start})
