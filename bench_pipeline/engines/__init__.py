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
    # The `engines` extra (pip install -e ".[engines]"): skipped with the reason when missing.
    "datafusion": "bench_pipeline.engines.datafusion_engine:DataFusionEngine",
    "daft": "bench_pipeline.engines.daft_engine:DaftEngine",
}
ENGINE_NAMES: tuple[str, ...] = tuple(REGISTRY)
# Execution modes of a registered engine, measured by the limits suite, not in the engine x threads grid.
VARIANTS: dict[str, str] = {
    "polars-eager": "bench_pipeline.engines.polars_modes:PolarsEagerEngine",
    "polars-streaming": "bench_pipeline.engines.polars_modes:PolarsStreamingEngine",
    # Daft's distributed runner on a Ray cluster (the `ray` extra): the cluster suite's cells, never the grid.
    "daft-ray": "bench_pipeline.engines.daft_engine:DaftRayEngine",
}
OPTIONAL_ENGINES: tuple[str, ...] = ("datafusion", "daft")
CORE_ENGINES: tuple[str, ...] = tuple(n for n in ENGINE_NAMES if n not in OPTIONAL_ENGINES)
AA_ENGINE = "duckdb"  # the A/A check's default engine: quick to start and steady


def with_role(role: str, names=ENGINE_NAMES) -> tuple[str, ...]:
    """The engines among `names` whose class says they play `role` ("baseline", "single-node", "distributed")."""
    return tuple(n for n in names if engine_class(n).role == role)


def missing_optional(names=OPTIONAL_ENGINES) -> dict[str, str]:
    """Optional engines among `names` that are not installed -> why (with the install command)."""
    return {n: reason for n in names if n in OPTIONAL_ENGINES and (reason := engine_class(n).unavailable_reason())}


def optional_note() -> str | None:
    """One line naming the optional engines that are not installed (so not measured), or None."""
    missing = missing_optional()
    if not missing:
        return None
    return (f"bench-pipeline: note: {', '.join(missing)} not installed, so not measured "
            f"(pip install -e '.[engines]' adds them)")


def default_engines() -> tuple[str, ...]:
    """The core four, plus the optional engines that are installed."""
    missing = missing_optional()
    return tuple(n for n in ENGINE_NAMES if n not in missing)


class UnknownEngine(ValueError):
    pass


def engine_path(name: str) -> str:
    """The "module:Class" path an engine name (registered, a variant, or itself a path) stands for."""
    return REGISTRY.get(name) or VARIANTS.get(name, name)


def engine_class(name: str) -> type[Engine]:
    """The class for a registered engine name or a "module:Class" path."""
    module_name, sep, class_name = engine_path(name).partition(":")
    if not sep:
        raise UnknownEngine(f"unknown engine {name!r}; choose from {', '.join(ENGINE_NAMES)}")
    try:
        cls = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError) as exc:
        raise UnknownEngine(f"engine {name!r} cannot be loaded: {exc}") from None
    if not (isinstance(cls, type) and issubclass(cls, Engine)):
        raise UnknownEngine(f"engine {name!r} is not an Engine subclass")
    return cls
