"""The one Dagster Definitions object of the bench_pipeline code location."""

import dagster as dg

defs = dg.Definitions(assets=[])
