"""pandas: a workload's tables as DataFrames (its DataFrame code reads the columns it needs itself)."""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from bench_pipeline.engines.base import Engine


class PandasEngine(Engine):
    name = "pandas"
    distribution = "pandas"
    role = "baseline"
    lab_claims = {"optimizer": False, "distributed": False, "arrow": "optional >= 2.0", "out_of_core": False,
                  "parallel": False, "apis": "DataFrame", "gpu": False}
    # Its Parquet reader and thread pool are pyarrow's: a new pyarrow is a new engine too.
    extra_distributions = ("pyarrow",)

    def start(self) -> None:
        import pandas  # pandas: imported when the engine starts, after its threads are set
        import pyarrow  # pyarrow: imported when the engine starts, after its threads are set

        # pandas computes on one thread; its Parquet reader is pyarrow's, whose
        # pool is the only thread setting that applies.
        pyarrow.set_cpu_count(self.threads)
        pyarrow.set_io_thread_count(max(self.threads, 1))
        self.pd = pandas
        self.pa = pyarrow

    def reported_threads(self) -> int:
        return self.pa.cpu_count()

    def read_table(self, t) -> Any:
        import pyarrow.parquet as pq  # pyarrow: imported when the engine starts, after its threads are set

        if t.kind == "csv":
            return self.pd.read_csv(t.pattern)
        source = t.pattern if t.root.is_dir() else [str(f) for f in t.files]
        return _pandas_numbers(pq.read_table(source)).to_pandas()

    def to_arrow(self, result: Any) -> pa.Table:
        return result if isinstance(result, pa.Table) else pa.Table.from_pandas(result, preserve_index=False)


def _pandas_numbers(table: pa.Table) -> pa.Table:
    """Decimals as float64 and dates as datetime64: pandas has neither a fast decimal nor a date dtype (its
    default turns them into Python objects, one per value)."""
    fields = [pa.field(f.name, pa.float64() if pa.types.is_decimal(f.type) else
                       pa.timestamp("ms") if pa.types.is_date(f.type) else f.type) for f in table.schema]
    return table.cast(pa.schema(fields))
