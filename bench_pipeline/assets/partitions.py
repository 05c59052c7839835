"""Partitions of the benchmark grid: engine x threads, keys like 'duckdb|4'."""

import dagster as dg

from bench_pipeline.engines import ENGINE_NAMES
from bench_pipeline.settings import DEFAULT_THREADS

ENGINES = dg.StaticPartitionsDefinition(list(ENGINE_NAMES))
THREADS = dg.StaticPartitionsDefinition([str(t) for t in DEFAULT_THREADS])
# Dagster joins dimension values in alphabetical order of the dimension names:
# engine before threads, so keys read 'duckdb|4'.
CELLS = dg.MultiPartitionsDefinition({"engine": ENGINES, "threads": THREADS})


def cell_key(engine: str, threads: int) -> str:
    return f"{engine}|{threads}"


def split_key(key: str) -> tuple[str, int]:
    engine, threads = key.split("|")
    return engine, int(threads)


def grid_keys(engines, threads) -> list[str]:
    """The cell keys of an engines x threads selection; ValueError names any outside the grid."""
    valid = set(CELLS.get_partition_keys())
    keys = [cell_key(e, t) for e in engines for t in threads]
    outside = [k for k in keys if k not in valid]
    if outside:
        engines, threads = (", ".join(d.get_partition_keys()) for d in (ENGINES, THREADS))
        raise ValueError(f"cells {', '.join(outside)} are outside the grid: engines {engines} x threads {threads}")
    return keys
