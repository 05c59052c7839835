"""One typed settings object: what to run and where state lives.

Every field has an embedded default and an environment variable, so the CLI,
the Dagster layer and the tests agree on the same state without a config file.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path

from bench_pipeline.engines import ENGINE_NAMES

DEFAULT_THREADS = (1, 2, 4, 8)


def _csv(value: str) -> tuple[str, ...]:
    return tuple(v.strip() for v in value.split(",") if v.strip())


@dataclass(frozen=True)
class Settings:
    home: Path = field(default_factory=lambda: Path(".bench"))
    rows: int = 1_000_000
    seed: int = 42
    engines: tuple[str, ...] = ENGINE_NAMES
    threads: tuple[int, ...] = DEFAULT_THREADS
    repeats: int = 3
    timeout_s: float = 600.0
    budget_mib: int | None = None

    @classmethod
    def from_env(cls, **overrides) -> Settings:
        env = os.environ
        values: dict = {}
        if "BENCH_HOME" in env:
            values["home"] = Path(env["BENCH_HOME"])
        for name, var, conv in (
            ("rows", "BENCH_ROWS", int),
            ("seed", "BENCH_SEED", int),
            ("repeats", "BENCH_REPEATS", int),
            ("timeout_s", "BENCH_TIMEOUT_S", float),
            ("budget_mib", "BENCH_BUDGET_MIB", int),
            ("engines", "BENCH_ENGINES", _csv),
            ("threads", "BENCH_THREADS", lambda v: tuple(int(t) for t in _csv(v))),
        ):
            if env.get(var):
                values[name] = conv(env[var])
        values.update({k: v for k, v in overrides.items() if v is not None})
        return dataclasses.replace(cls(), **values)

    @property
    def data_dir(self) -> Path:
        return self.home / "data" / f"posts-{self.rows}-seed-{self.seed}"

    @property
    def store_path(self) -> Path:
        return self.home / "results.duckdb"

    @property
    def plots_dir(self) -> Path:
        return self.home / "plots"

    @property
    def report_path(self) -> Path:
        return self.home / "report.html"

    @property
    def dagster_home(self) -> Path:
        """DAGSTER_HOME when set, else $BENCH_HOME/dagster: the UI and `run` share it."""
        return Path(os.environ["DAGSTER_HOME"]) if os.environ.get("DAGSTER_HOME") else self.home / "dagster"

    @property
    def budget_bytes(self) -> int | None:
        return None if self.budget_mib is None else self.budget_mib * 2**20
