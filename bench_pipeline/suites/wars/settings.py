"""The Engine Wars suite's settings (`bench-pipeline wars`; section "wars" of settings.json; BENCH_WARS_*)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import AliasChoices, Field
from pydantic_settings import SettingsConfigDict

from bench_pipeline.config.settings import PositiveInt, PositiveSeconds, SettingsBase
from bench_pipeline.harness import provenance


class WarsSettings(SettingsBase):
    model_config = SettingsConfigDict(env_prefix="BENCH_WARS_")
    section = "wars"

    # The variables keep the names of the command's options (--rows, --csv-rows).
    events_rows: PositiveInt = Field(1_000_000, validation_alias=AliasChoices("BENCH_WARS_ROWS"))
    sales_rows: PositiveInt = Field(1_000_000, validation_alias=AliasChoices("BENCH_WARS_CSV_ROWS"))
    images: PositiveInt = 200
    threads: Annotated[int, Field(ge=0)] = 0  # 0: the machine's logical cores
    time_budget_s: PositiveSeconds = 900.0  # `wars`'s time budget

    @property
    def thread_count(self) -> int:
        return self.threads or provenance.logical_cores()

    def data_dir(self, home: Path, seed: int) -> Path:
        """Under the main settings' state folder."""
        name = f"events-{self.events_rows}-sales-{self.sales_rows}-images-{self.images}-seed-{seed}"
        return home / "wars" / name
