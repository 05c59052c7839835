"""Polars' other execution modes (the lab's Task 3), as engine variants of the same queries.

- eager: `read_parquet` loads every column of the file, then each operation of
  the same DataFrame code runs when it is called: no plan, so no pushdown.
- streaming: the lazy plans of `PolarsEngine`, collected by the streaming engine,
  which processes the file in batches instead of loading it whole.

Both run the workload's `polars_<Q>` functions (`code_name`).

The lazy mode is `PolarsEngine` itself. Query L loads the whole table in every
mode: that is what it measures.
"""

from __future__ import annotations

from typing import Any

from bench_pipeline.engines.polars_engine import PolarsEngine


class PolarsEagerEngine(PolarsEngine):
    name = "polars-eager"

    @property
    def code_name(self) -> str:
        return "polars"

    def _scan(self, path: str, **options):
        return self.pl.read_parquet(path, **options)  # every operation then runs as it is called

    def explain(self, planned: Any) -> str | None:
        return None  # eager DataFrames have no query plan


class PolarsStreamingEngine(PolarsEngine):
    name = "polars-streaming"
    out_of_core = "streamed"
    collect_engine = "streaming"

    @property
    def code_name(self) -> str:
        return "polars"

    def load(self, path: str):
        return self.collect(self._scan(path))  # the whole table, through the streaming engine
