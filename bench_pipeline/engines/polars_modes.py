"""Polars' other execution modes (the lab's Task 3), as engine variants of the same queries.

- eager: `read_parquet` loads every column of the file, then each operation runs
  when it is called on the DataFrame: no plan, so no pushdown.
- streaming: the lazy plans of `PolarsEngine`, collected by the streaming engine,
  which processes the file in batches instead of loading it whole.

The lazy mode is `PolarsEngine` itself. Query L loads the whole table in every
mode: that is what it measures.
"""

from __future__ import annotations

from typing import Any

from bench_pipeline.dataset import Dataset
from bench_pipeline.engines.polars_engine import PolarsEngine


class PolarsEagerEngine(PolarsEngine):
    name = "polars-eager"

    def _scan(self, path):
        return self.pl.read_parquet(path)

    def finish(self, df) -> Any:
        return df  # already computed, operation by operation

    def plan(self, query: str, data: Dataset) -> str | None:
        return None  # eager DataFrames have no query plan


class PolarsStreamingEngine(PolarsEngine):
    name = "polars-streaming"
    out_of_core = "streamed"
    collect_engine = "streaming"

    def query_L(self, data: Dataset) -> Any:
        df = self.finish(self._scan(data.posts))
        return self.pl.DataFrame({"rows": [df.height]}, schema={"rows": self.pl.Int64})
