"""The Dagster package: every module that imports Dagster lives here, and nothing outside imports it but the
CLI (which calls `orchestrate`) and the package's lazy `bench_defs` (which reaches `definitions`).

definitions   the one Definitions, merged from each suite's module (grid, workload, cluster, limits, wars) with
              the report, the history, automation and resources
orchestrate   what the CLI drives: a suite's data, stale cells (in rounds or one run each) and outputs
common        the cell asset's body and checks; staleness, partitions, runs (dead runs reaped), resources
"""

import warnings

import dagster as dg

BETA_APIS = ("observable_source_asset", "DataVersionsByPartition", "MultiToSingleDimensionPartitionMapping")


def silence_beta_apis() -> None:
    """The beta APIs used here are the documented way to do what we do; each is silenced by name, so a beta API
    used anywhere else still warns."""
    for api in BETA_APIS:
        warnings.filterwarnings("ignore", message=rf"(Class|Function) `{api}` is currently in beta",
                                category=dg.BetaWarning)


silence_beta_apis()
