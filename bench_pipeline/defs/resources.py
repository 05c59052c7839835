"""The settings every asset reads and the results store (`bench`); Spark for unmeasured work (`pyspark`).

The store's reads in an asset that only reads go through Dagster's DuckDBResource
with a read-only connection; writers (cells, derived tables) keep the store's own
connection, which waits for another writer's lock (store.py).
"""


import json

import dagster as dg
from dagster_duckdb import DuckDBResource
from dagster_pyspark import PySparkResource

from bench_pipeline.settings import BenchSettingsBase, Settings
from bench_pipeline.store import ResultsStore
from bench_pipeline.suites import SuiteRun


class BenchSettings(dg.ConfigurableResource):
    """The settings in force for a run: `home` (default: BENCH_HOME) and `overrides`, a JSON object of explicit
    values per settings section ("main", "limits", "wars", "cluster"), over BENCH_* and settings.json. The CLI
    passes what its command was given; the UI and the schedule leave both unset."""

    home: str | None = None
    overrides: str = "{}"

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        """Every run that uses the settings (every asset here) names the process that runs it, so that a run
        whose process dies is found and failed (defs/runs.py). With the in-process executor this is the
        run's own worker, whoever launched it; a re-executed run's copied tags are replaced."""
        from bench_pipeline.defs.runs import claim_run

        if context.dagster_run is not None and context.instance is not None:
            claim_run(context.instance, context.dagster_run)

    def settings(self, cls: type[BenchSettingsBase] = Settings):
        return cls.from_env(self.home, **json.loads(self.overrides or "{}").get(cls.section or "main", {}))

    def run(self, suite: str) -> SuiteRun:
        """The main settings and the suite's own."""
        from bench_pipeline import suites

        own = suites.get(suite).settings
        return SuiteRun(self.settings(), self.settings(own) if own else None)

    def store(self, read_only: bool = False) -> ResultsStore:
        """The results store; one that cannot be opened is moved aside and a new one starts (see recover).
        read_only: its reads through DuckDBResource's read-only connections, and no writes."""
        store = ResultsStore(self.settings().store_path)
        store.recover()
        if not read_only:
            return store
        handle = DuckDBResource(database=str(store.path), connection_config={"access_mode": "READ_ONLY"})
        return ResultsStore(store.path, reader=handle.get_connection)

    @classmethod
    def for_run(cls, run: SuiteRun) -> "BenchSettings":
        values = {"main": run.main.model_dump(mode="json", exclude={"home"})}
        if run.own is not None:
            values[run.own.section] = run.own.model_dump(mode="json", exclude={"home"})
        return cls(home=str(run.main.home.resolve()), overrides=json.dumps(values))


class StepSpark(PySparkResource):
    """PySparkResource whose JVM logs to a file instead of the terminal (see cells.jvm_output_to_log)."""

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        from bench_pipeline.suites.cluster.cells import jvm_output_to_log

        with jvm_output_to_log():
            super().setup_for_execution(context)


def step_spark() -> PySparkResource:
    """Dagster's PySparkResource for the Spark work a step does itself and does not measure (the partitioned
    copy of posts): one local core. Measured queries never use it: each runs in a fresh worker process, with
    its own thread count, its JVM in the sampled process tree and its start-up timed apart."""
    from bench_pipeline.suites.cluster.cells import STEP_SPARK_CONFIG

    return StepSpark(spark_config=STEP_SPARK_CONFIG)


def resources(bench: BenchSettings) -> dict:
    """Every resource an asset asks for, by the parameter name it asks with: the settings and Spark."""
    return dict(bench=bench, pyspark=step_spark())
