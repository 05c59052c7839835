"""The cluster suite's settings (`bench-pipeline cluster`; section "cluster" of settings.json; BENCH_CLUSTER_*)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from bench_pipeline.settings import BenchSettingsBase, PositiveInt
from bench_pipeline.suites.cluster.cells import LAYOUTS, ClusterConfig


class ClusterSettings(BenchSettingsBase):
    """Where the cluster cells run: unset `master`, a standalone cluster started per cell on this machine."""

    model_config = SettingsConfigDict(env_prefix="BENCH_CLUSTER_")
    section = "cluster"

    executors: Annotated[tuple[PositiveInt, ...], Field(min_length=1)] = (2, 3, 4)
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
        """The cells asked for, as partition keys 'executors|layout'."""
        return [f"{n}|{layout}" for n in self.executors for layout in self.layouts]
