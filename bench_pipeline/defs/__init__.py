"""The Dagster package: every module that imports Dagster lives here, and nothing outside imports it but the
CLI (which calls `orchestrate`) and the package's lazy `bench_defs` (which reaches `definitions`).

definitions   the one Definitions, merged from each suite's module (grid, workload, cluster, limits, wars) with
              the report, the history, automation and resources
orchestrate   what the CLI drives: a suite's data, stale cells (in rounds or one run each) and outputs
common        the cell asset's body and checks; staleness, partitions, runs (dead runs reaped), resources
"""

import warnings

import dagster as dg

# observable_source_asset, DataVersionsByPartition and the multi-to-single-dimension
# partition mapping are marked beta; they are the documented way to do what we do.
warnings.filterwarnings("ignore", category=dg.BetaWarning)
