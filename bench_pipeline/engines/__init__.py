"""The engine registry: name -> the class implementing it.

Adding an engine is one module in this folder and one line here. The harness
also accepts "package.module:Class" for an engine defined outside the package,
and the names of VARIANTS (another execution mode of a registered engine).
"""

from __future__ import annotations

import importlib

from bench_pipeline.engines.base import Engine

REGISTRY: dict[str, str] = {
    "pandas": "bench_pipeline.engines.pandas_engine:PandasEngine",
    "polars": "bench_pipeline.engines.polars_engine:PolarsEngine",
    "duckdb": "bench_pipeline.engines.duckdb_engine:DuckDBEngine",
    "pyspark": "bench_pipeline.engines.spark_engine:SparkEngine",
}
ENGINE_NAMES: tuple[str, ...] = tuple(REGISTRY)
# Execution modes of a registered engine, measured by the limits suite, not in the engine x threads grid.
VARIANTS: dict[str, str] = {
    "polars-eager": "bench_pipeline.engines.polars_modes:PolarsEagerEngine",
    "polars-streaming": "bench_pipeline.engines.polars_modes:PolarsStreamingEngine",
}


class UnknownEngine(ValueError):
    pass


def engine_class(name: str) -> type[Engine]:
    """The class for a registered engine name or a "module:Class" path."""
    target = REGISTRY.get(name) or VARIANTS.get(name, name)
    module_name, sep, class_name = target.partition(":")
    if not sep:
        raise UnknownEngine(f"unknown engine {name!r}; choose from {', '.join(ENGINE_NAMES)}")
    try:
        cls = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError) as exc:
        raise UnknownEngine(f"engine {name!r} cannot be loaded: {exc}") from None
    if not (isinstance(cls, type) and issubclass(cls, Engine)):
        raise UnknownEngine(f"engine {name!r} is not an Engine subclass")
    return cls
