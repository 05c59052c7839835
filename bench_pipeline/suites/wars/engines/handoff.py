"""DataFusion computes, Polars continues: the article's hand-off through Arrow, and whether it copied.

The purchases per user come out of DataFusion as an Arrow table
(`to_arrow_table`), go into Polars with `from_arrow` and are ranked there.
`rechunk=False` keeps DataFusion's record batches as Polars chunks: with the
default (rechunk=True) Polars may concatenate a table of several batches, a copy.

The check (untimed, after each run): every buffer of the Arrow table must be a
buffer Polars holds, seen by exporting Polars' columns again and comparing
memory addresses. A converted or concatenated column fails it.
"""

from __future__ import annotations

import os
from typing import Any

import pyarrow as pa

from bench_pipeline.suites.wars.engines import rank_purchases
from bench_pipeline.suites.wars.engines.datafusion_wars import DataFusionWars
from bench_pipeline.suites.wars.tasks import HANDOFF_MIN_PURCHASES


def buffer_addresses(table: pa.Table) -> dict[str, set[int]]:
    return {name: {b.address for chunk in column.chunks for b in chunk.buffers() if b is not None and b.size}
            for name, column in zip(table.column_names, table.columns, strict=True)}


def shared_columns(arrow: pa.Table, frame) -> dict[str, bool]:
    """Column -> True when Polars holds every buffer of that Arrow column (no copy was made)."""
    import polars as pl  # polars: imported when the engine starts, after its threads are set

    theirs = buffer_addresses(frame.to_arrow(compat_level=pl.CompatLevel.newest()))
    return {name: bool(addrs) and addrs <= theirs.get(name, set())
            for name, addrs in buffer_addresses(arrow).items()}


class HandoffEngine(DataFusionWars):
    name = "datafusion_polars"
    extra_distributions = ("polars", "pyarrow")

    def configure(self, threads: int) -> None:
        super().configure(threads)
        os.environ["POLARS_MAX_THREADS"] = str(threads)

    def start(self) -> None:
        super().start()
        import polars  # polars: imported when the engine starts, after its threads are set

        self.pl = polars

    def task_handoff(self, data) -> Any:
        self._events(data)
        arrow = self.ctx.sql(
            f"SELECT user_id, COUNT(*) AS purchases FROM events WHERE event_type = 'purchase' "
            f"GROUP BY user_id HAVING COUNT(*) > {HANDOFF_MIN_PURCHASES}").to_arrow_table()
        frame = self.pl.from_arrow(arrow, rechunk=False)
        return {"arrow": arrow, "frame": frame, "answer": rank_purchases(self.pl, frame)}

    def run_checks(self, result: Any) -> dict:
        shared = shared_columns(result["arrow"], result["frame"])
        return {"zero_copy": all(shared.values()), "shared_columns": shared,
                "arrow_batches": result["arrow"].column(0).num_chunks}

    def to_arrow(self, result: Any) -> pa.Table:
        return result["answer"].to_arrow()
