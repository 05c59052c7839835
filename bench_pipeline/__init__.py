"""bench_pipeline: which data engine should I use for this work, with evidence.

The benchmark core (datagen, engines, harness, store, ...) never imports
Dagster. `bench_defs` (not `defs`: that is the Dagster layer's package) is
resolved on first access so that
`dagster asset materialize -m bench_pipeline` finds the Definitions while a
worker process that imports the core does not pay for Dagster.
"""

__version__ = "0.1.0"


def __getattr__(name: str):
    if name == "bench_defs":
        from bench_pipeline.defs.definitions import defs  # definitions imports this module

        return defs
    raise AttributeError(f"module 'bench_pipeline' has no attribute {name!r}")


def __dir__():
    return sorted([*globals(), "bench_defs"])
