"""Each engine's implementation of the suite's tasks: the project's engine plus one `task_<name>` method per task.

The Engine Wars tasks (the ETL chain, the CSV group-by, the Arrow hand-off, the image pipeline) are not queries
of a workload: each is a method here, in the one shape `task_<name>(data)` that `TaskEngine.run` calls. A class
extends the main engine (same thread control, start-up and verification), so a task runs in the same harness
worker as the queries. The worker passes a Dataset whose root is the suite's data folder.
"""

import os

from bench_pipeline.suites.wars.data import WarsData

IMAGES_URL_ENV = "BENCH_WARS_IMAGES_URL"  # where the runner's image server listens


class TaskEngine:
    """Mixed in before an engine: `run` is the task's method; a task has no plan to show."""

    def run(self, query: str, data):
        return getattr(self, f"task_{query}")(data)

    def plan(self, query: str, data) -> None:
        return None


def rank_purchases(pl, frame):
    """Polars' half of the hand-off, shared by the one-engine Polars run and the hand-off engine
    (here, in a module every task's signature covers, so a change makes both stale)."""
    return (frame.with_columns(rank=pl.col("purchases").rank(method="min", descending=True).cast(pl.Int64))
            .sort(["rank", "user_id"]))


def wars_data(data) -> WarsData:
    return WarsData(data.root)


def images_url() -> str:
    url = os.environ.get(IMAGES_URL_ENV)
    if not url:
        raise RuntimeError(f"{IMAGES_URL_ENV} is not set: the image server is started by the suite's runner")
    return url
