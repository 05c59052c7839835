"""The settings every asset reads and the results store (`bench`); Spark for unmeasured work (`pyspark`).

The store's reads in an asset that only reads go through Dagster's DuckDBResource
with a read-only connection; writers (cells, derived tables) keep the store's own
connection, which waits for another writer's lock (store.py).
"""


import types
import typing
from pathlib import Path

import dagster as dg
import pydantic
from dagster_duckdb import DuckDBResource
from dagster_pyspark import PySparkResource

from bench_pipeline import suites
from bench_pipeline.config.settings import Settings, SettingsBase
from bench_pipeline.defs.runs import claim_run
from bench_pipeline.results.store import ResultsStore
from bench_pipeline.suites import SuiteConfig
from bench_pipeline.suites.cluster.cells import STEP_SPARK_CONFIG, jvm_output_to_log


def _config_type(hint):
    """A settings field's type as Dagster config holds it: constraints dropped (the settings check them),
    tuples as lists, paths and choices as strings."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is typing.Annotated:
        return _config_type(args[0])
    if origin in (typing.Union, types.UnionType):
        return _config_type(next(a for a in args if a is not type(None)))
    if origin is tuple:
        return list[_config_type(args[0])]
    if origin is dict:
        return dict[str, _config_type(args[1])]
    return str if origin is typing.Literal or hint is Path else hint


def _values(cls: type[SettingsBase]) -> type[dg.Config]:
    """The settings of `cls` as optional typed config fields, so the launchpad shows and checks each one;
    a field left out keeps BENCH_*, settings.json or the default."""
    hints = typing.get_type_hints(cls, include_extras=True)
    fields = {name: (_config_type(hints[name]) | None,
                     pydantic.Field(None, description=f"default: {f.get_default(call_default_factory=True)!r}"))
              for name, f in cls.model_fields.items() if name != "home"}
    return pydantic.create_model(f"{cls.__name__}Values", __base__=dg.Config, __module__=__name__,
                                 __doc__=cls.__doc__, **fields)


# One typed section per settings class: "main", then each suite's own ("cluster", "limits", "wars", "workload").
SECTIONS: dict[str, type[SettingsBase]] = {"main": Settings} | {
    s.settings.section: s.settings for s in suites.all_suites() if s.settings is not None}
_VALUES = {section: _values(cls) for section, cls in SECTIONS.items()}


class _BenchSettings(dg.ConfigurableResource):
    """The settings in force for a run: `home` (default: BENCH_HOME) and, per settings section, the values
    given explicitly, over BENCH_* and settings.json. The CLI passes what its command was given; the UI and the
    schedule leave them unset (or set any field in the launchpad)."""

    home: str | None = None

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        """Every run that uses the settings (every asset here) names the process that runs it, so that a run
        whose process dies is found and failed (defs/runs.py). With the in-process executor this is the
        run's own worker, whoever launched it; a re-executed run's copied tags are replaced."""
        if context.run is not None and context.instance is not None:
            claim_run(context.instance, context.run)

    def settings(self, cls: type[SettingsBase] = Settings):
        given = getattr(self, cls.section or "main")
        return cls.from_env(self.home, **(given.model_dump(exclude_none=True) if given is not None else {}))

    def config(self, suite: str) -> SuiteConfig:
        """The main settings and the suite's own."""
        own = suites.get(suite).settings
        return SuiteConfig(self.settings(), self.settings(own) if own else None)

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
    def for_run(cls, run: SuiteConfig) -> "BenchSettings":
        given = {"main": run.main} | ({run.own.section: run.own} if run.own is not None else {})
        return cls(home=str(run.main.home.resolve()),
                   **{section: _VALUES[section](**s.model_dump(mode="json", exclude={"home"}))
                      for section, s in given.items()})


BenchSettings = pydantic.create_model("BenchSettings", __base__=_BenchSettings, __module__=__name__,
                                      **{section: (values | None, None) for section, values in _VALUES.items()})


class StepSpark(PySparkResource):
    """PySparkResource whose JVM logs to a file instead of the terminal (see cells.jvm_output_to_log)."""

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        with jvm_output_to_log():
            super().setup_for_execution(context)


def step_spark() -> PySparkResource:
    """Dagster's PySparkResource for the Spark work a step does itself and does not measure (the partitioned
    copy of posts): one local core. Measured queries never use it: each runs in a fresh worker process, with
    its own thread count, its JVM in the sampled process tree and its start-up timed apart."""
    return StepSpark(spark_config=STEP_SPARK_CONFIG)


def resources(bench: BenchSettings) -> dict:
    """Every resource an asset asks for, by the parameter name it asks with: the settings and Spark."""
    return dict(bench=bench, pyspark=step_spark())
