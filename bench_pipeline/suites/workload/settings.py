"""The workload suite's settings (section "workload" of settings.json; BENCH_WORKLOAD_*).

The registered workloads are `paths` (name -> folder): `run --workload DIR` adds its folder, and the UI and
the nightly schedule measure every registered workload with the engines and threads saved here.
"""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from bench_pipeline.config.settings import PositiveInt, PositiveSeconds, SettingsBase


class WorkloadSettings(SettingsBase):
    model_config = SettingsConfigDict(env_prefix="BENCH_WORKLOAD_")
    section = "workload"

    paths: dict[str, str] = {}  # workload name -> its folder
    current: str | None = None  # the workload the last `run --workload` measured
    engines: tuple[str, ...] | None = None  # None: the main settings'
    threads: tuple[PositiveInt, ...] | None = None
    time_budget_s: PositiveSeconds = 900.0  # `run --workload`'s and `tpch`'s time budget
