"""Polars: lazy scans with projection and predicate pushdown, collected at the end.

A workload's DataFrame code builds its query from `read_table` (a `_scan`) and the engine computes it with
`collect`, so the execution modes in `polars_modes.py` differ from this one in those places only, and `explain`
shows the optimized plan that is executed.
"""

from __future__ import annotations

import os
from typing import Any

import pyarrow as pa

from bench_pipeline.engines.base import Engine


class PolarsEngine(Engine):
    name = "polars"
    dialect = "postgres"
    distribution = "polars"
    modes = {"eager": "polars-eager", "lazy": "polars", "streaming": "polars-streaming"}
    lab_claims = {"optimizer": True, "distributed": False, "arrow": True, "out_of_core": True, "parallel": True,
                  "apis": "DataFrame", "gpu": "optional"}
    collect_engine = "auto"  # the default in-memory engine

    def configure(self, threads: int) -> None:
        super().configure(threads)
        # Read once, at import: it must be set before `import polars`.
        os.environ["POLARS_MAX_THREADS"] = str(threads)

    def start(self) -> None:
        import polars  # polars: imported when the engine starts, after its threads are set

        self.pl = polars

    def reported_threads(self) -> int:
        return self.pl.thread_pool_size()

    def _scan(self, path: str, **options):
        return self.pl.scan_parquet(path, **options)

    def load(self, path: str):
        """The whole table in memory (query L)."""
        return self.pl.read_parquet(path)

    def read_table(self, t) -> Any:
        pl = self.pl
        return pl.scan_csv(t.pattern, try_parse_dates=True) if t.kind == "csv" else \
            self._scan(t.pattern, hive_partitioning=t.hive) if t.hive else self._scan(t.pattern)

    def plan_sql(self, w, sql: str) -> Any:
        from bench_pipeline.workloads.execute import Tables  # off the worker's import path (SQL planning)

        frames = Tables(self, w)
        frame = self.pl.SQLContext(frames={name: frames[name] for name in frames}).execute(sql, eager=False)
        frame.collect_schema()  # resolves the plan: an unknown function fails here, not in collect()
        return frame

    def collect(self, result: Any) -> Any:
        return result.collect(engine=self.collect_engine) if isinstance(result, self.pl.LazyFrame) else result

    def explain(self, planned: Any) -> str | None:
        return planned.explain(engine=self.collect_engine) if isinstance(planned, self.pl.LazyFrame) else None

    def to_arrow(self, result: Any) -> pa.Table:
        return result.to_arrow()
