"""The Dagster layer: thin assets, checks and automation over the benchmark core."""
