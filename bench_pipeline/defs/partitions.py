"""Partitions of the benchmark grid: engine x threads, keys like 'duckdb|4'.

Engines are the installed ones (an optional engine that is not installed is no
partition, rather than a column of grey "missing" cells). Thread counts are any
positive integers: a dynamic dimension whose keys the commands add from their
settings (`add_thread_partitions`), so the UI shows the grid that was asked for.
"""

import dagster as dg

from bench_pipeline.engines import default_engines

ENGINES = dg.StaticPartitionsDefinition(list(default_engines()))
THREADS = dg.DynamicPartitionsDefinition(name="threads")
# Dagster joins dimension values in alphabetical order of the dimension names:
# engine before threads, so keys read 'duckdb|4'.
CELLS = dg.MultiPartitionsDefinition({"engine": ENGINES, "threads": THREADS})


def cell_key(engine: str, threads: int) -> str:
    return f"{engine}|{threads}"


def split_key(key: str) -> tuple[str, int]:
    engine, threads = key.split("|")
    return engine, int(threads)


def grid_keys(engines, threads) -> list[str]:
    """The cell keys of an engines x threads selection; ValueError names an engine that is not installed."""
    valid = ENGINES.get_partition_keys()
    outside = [e for e in engines if e not in valid]
    if outside:
        raise ValueError(f"engines {', '.join(outside)} are not installed here; the grid's engines are "
                         f"{', '.join(valid)}")
    return [cell_key(e, t) for e in engines for t in threads]


def add_thread_partitions(instance: dg.DagsterInstance, threads) -> None:
    new = [str(t) for t in threads if not instance.has_dynamic_partition(THREADS.name, str(t))]
    if new:
        instance.add_dynamic_partitions(THREADS.name, new)
