"""Partitions of the benchmark grid: engine x threads, keys like 'duckdb|4'.

Engines are the installed ones (an optional engine that is not installed is no
partition, rather than a column of grey "missing" cells). Thread counts are any
positive integers: a dynamic dimension whose keys the commands add from their
settings (`add_partitions`), so the UI shows the grid that was asked for.
"""

import dagster as dg

from bench_pipeline.engines import default_engines

ENGINES = dg.StaticPartitionsDefinition(list(default_engines()))
THREADS = dg.DynamicPartitionsDefinition(name="threads")
# Dagster joins dimension values in alphabetical order of the dimension names:
# engine before threads, so keys read 'duckdb|4'.
CELLS = dg.MultiPartitionsDefinition({"engine": ENGINES, "threads": THREADS})


def add_partitions(instance: dg.DagsterInstance, dynamic: dict[str, list[str]]) -> None:
    """Add the keys of dynamic partition dimensions (thread counts, executor counts, sweep sizes) not there yet."""
    for name, keys in dynamic.items():
        new = [k for k in keys if not instance.has_dynamic_partition(name, k)]
        if new:
            instance.add_dynamic_partitions(name, new)
