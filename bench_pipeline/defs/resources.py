"""The one configurable resource: benchmark settings, defaulting to the environment."""


import dagster as dg

from bench_pipeline.settings import Settings
from bench_pipeline.store import ResultsStore


class BenchSettings(dg.ConfigurableResource):
    """Overrides of Settings.from_env(); a field left unset keeps its BENCH_* default."""

    home: str | None = None
    rows: int | None = None
    seed: int | None = None
    repeats: int | None = None
    max_repeats: int | None = None
    precision: float | None = None
    query_budget_s: float | None = None
    timeout_s: float | None = None
    budget_mib: int | None = None
    engines: list[str] | None = None
    threads: list[int] | None = None
    sweep_rows: list[int] | None = None
    sweep_budget_mib: int | None = None
    sweep_repeats: int | None = None
    modes_rows: int | None = None

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        """Every run that uses the settings (every asset here) names the process that runs it, so that a run
        whose process dies is found and failed (assets/runs.py). With the in-process executor this is the
        run's own worker, whoever launched it; a re-executed run's copied tags are replaced."""
        from bench_pipeline.defs.runs import claim_run

        if context.dagster_run is not None and context.instance is not None:
            claim_run(context.instance, context.dagster_run)

    def settings(self) -> Settings:
        from pathlib import Path

        return Settings.from_env(
            home=Path(self.home) if self.home else None, rows=self.rows, seed=self.seed,
            repeats=self.repeats, max_repeats=self.max_repeats, precision=self.precision,
            query_budget_s=self.query_budget_s, timeout_s=self.timeout_s, budget_mib=self.budget_mib,
            engines=tuple(self.engines) if self.engines else None,
            threads=tuple(self.threads) if self.threads else None,
            sweep_rows=tuple(self.sweep_rows) if self.sweep_rows else None,
            sweep_budget_mib=self.sweep_budget_mib, sweep_repeats=self.sweep_repeats, modes_rows=self.modes_rows,
        )

    def store(self) -> ResultsStore:
        """The results store; one that cannot be opened is moved aside and a new one starts (see recover)."""
        store = ResultsStore(self.settings().store_path)
        store.recover()
        return store
