"""The cluster suite's settings (`bench-pipeline cluster`; section "cluster" of settings.json; BENCH_CLUSTER_*)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from bench_pipeline.config.settings import PositiveInt, PositiveSeconds, SettingsBase
from bench_pipeline.engines.daft_engine import DaftRayEngine
from bench_pipeline.suites.cluster.cells import ENGINE, LAYOUTS, ClusterConfig
from bench_pipeline.suites.wars.engines.ray_data_wars import RayDataWars

RAY_ENGINE = DaftRayEngine.name
IMAGES_ONLY = RayDataWars.name  # Ray Data has no DataFrame or SQL API for L, A, B, C: the image pipeline only
DISTRIBUTED_ENGINES = (ENGINE, RAY_ENGINE, IMAGES_ONLY)
RAY_CLASSES = (DaftRayEngine, RayDataWars)  # need the `ray` extra


def default_distributed() -> tuple[str, ...]:
    """Spark, and Daft on Ray and Ray Data when the `ray` extra is installed."""
    return tuple(e for e in DISTRIBUTED_ENGINES
                 if not any(c.name == e and c.unavailable_reason() for c in RAY_CLASSES))


class ClusterSettings(SettingsBase):
    """Where the cluster cells run: unset `master`, a standalone cluster started per cell on this machine."""

    model_config = SettingsConfigDict(env_prefix="BENCH_CLUSTER_")
    section = "cluster"

    executors: Annotated[tuple[PositiveInt, ...], Field(min_length=1)] = (2, 3, 4)
    # `cluster`'s time budget: a cluster's process costs 20-60 s here, and a cluster's start-up 5-15 s.
    time_budget_s: PositiveSeconds = 3600.0
    # Which distributed engines: Spark on its standalone cluster, Daft on a Ray cluster, Ray Data (images only).
    distributed_engines: Annotated[tuple[Literal[DISTRIBUTED_ENGINES], ...], Field(min_length=1)] = Field(
        default_factory=default_distributed)
    ray_address: str | None = None  # an existing Ray cluster (host:port); default: one started per cell
    # The Engine Wars image pipeline on each engine's cluster too (the images of the `wars` settings).
    images: bool = True
    layouts: Annotated[tuple[Literal[LAYOUTS], ...], Field(min_length=1)] = LAYOUTS
    master: str | None = None  # spark://host:7077, yarn (Dataproc), k8s://https://...
    data_uri: str | None = None  # the data folder as the executors see it: hdfs://..., gs://...
    cores_per_worker: PositiveInt = 1
    worker_memory: str = "2g"
    executor_memory: str = "1536m"
    driver_memory: str = "2g"

    def config(self) -> ClusterConfig:
        return ClusterConfig(master_url=self.master, data_uri=self.data_uri, cores_per_worker=self.cores_per_worker,
                             worker_memory=self.worker_memory, executor_memory=self.executor_memory,
                             driver_memory=self.driver_memory)

    def keys(self) -> list[str]:
        """The Spark cells asked for, as partition keys 'executors|layout'."""
        return [f"{n}|{layout}" for n in self.executors for layout in self.layouts] \
            if ENGINE in self.distributed_engines else []

    def ray_keys(self) -> list[str]:
        """The Daft-on-Ray cells asked for, as partition keys 'executors|layout'."""
        return [f"{n}|{layout}" for n in self.executors for layout in self.layouts] \
            if RAY_ENGINE in self.distributed_engines else []

    def image_keys(self) -> list[str]:
        """The image pipeline's cells asked for, as partition keys 'engine|executors'."""
        return [f"{e}|{n}" for e in self.distributed_engines for n in self.executors] if self.images else []
