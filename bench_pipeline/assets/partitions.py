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
