"""The Dagster layer: thin assets, checks and automation over the benchmark core."""

import warnings

import dagster as dg

# observable_source_asset, DataVersionsByPartition and the multi-to-single-dimension
# partition mapping are marked beta; they are the documented way to do what we do.
warnings.filterwarnings("ignore", category=dg.BetaWarning)
