"""The limits suite's settings (`bench-pipeline limits`; section "limits" of settings.json)."""

from __future__ import annotations

from typing import Annotated

from pydantic import AliasChoices, Field

from bench_pipeline.config.settings import PositiveInt, PositiveSeconds, SettingsBase
from bench_pipeline.report.fmt import MiB


class LimitsSettings(SettingsBase):
    """Posts sizes swept under one memory budget, warm runs per sweep query (1: a 7.5M-row Spark run takes
    minutes here), and the size the Polars modes are compared on. 7.5M rows are 1.25 GiB in Arrow, more than
    the budget; the budget leaves Spark's JVM (about 1 GB with the smallest heap Spark accepts) room to work."""

    section = "limits"

    sweep_rows: Annotated[tuple[PositiveInt, ...], Field(min_length=1)] = (1_000_000, 2_500_000, 7_500_000)
    sweep_budget_mib: PositiveInt = 1152
    sweep_repeats: PositiveInt = 1
    modes_rows: PositiveInt = 2_500_000
    # `limits`'s time budget (its variable is named apart from the main settings' BENCH_TIME_BUDGET_S).
    time_budget_s: PositiveSeconds = Field(1800.0, validation_alias=AliasChoices("BENCH_LIMITS_TIME_BUDGET_S"))

    @property
    def sweep_budget_bytes(self) -> int:
        return self.sweep_budget_mib * MiB

    @property
    def all_rows(self) -> tuple[int, ...]:
        """Every posts size the suite needs: the sweep's and the modes'."""
        return tuple(sorted({*self.sweep_rows, self.modes_rows}))
