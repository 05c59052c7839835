"""One typed settings object: what to run and where state lives.

Precedence, lowest first: the embedded defaults; `$BENCH_HOME/settings.json`,
which `bench-pipeline run` writes with the choices it was given, so the UI and
the nightly schedule measure the same grid on the same data as the last run;
`BENCH_*` environment variables; explicit arguments.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import typing
from dataclasses import dataclass, field
from pathlib import Path

from bench_pipeline.engines import ENGINE_NAMES, default_engines


def default_threads(cores: int | None = None) -> tuple[int, ...]:
    """1, 2, 4, ... up to the machine's logical cores (the cores themselves included), and one
    oversubscribed point at twice the cores: 1, 2, 4 on 2 cores; 1, 2, 4, 8, 16, 32 on 16."""
    cores = cores or os.cpu_count() or 1
    grid = {1, cores, 2 * cores} | {2**k for k in range(cores.bit_length()) if 2**k <= cores}
    return tuple(sorted(grid))


SAVED_FILE = "settings.json"


def _load_saved(home: Path) -> dict:
    """settings.json as typed values; a file that does not parse, an unknown key or a value of the wrong
    type is a SettingsError naming the file and the key (and the file is left as it is)."""
    import pydantic

    if home.exists() and not home.is_dir():
        raise SettingsError(f"BENCH_HOME {home} is a file, not a folder")
    path = home / SAVED_FILE
    try:
        text = path.read_text()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise SettingsError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise SettingsError(f"{path}: not valid JSON ({exc}); fix or delete the file") from None
    if not isinstance(data, dict):
        raise SettingsError(f"{path}: must hold a JSON object of settings, got {type(data).__name__}")
    hints = typing.get_type_hints(Settings)
    out = {}
    for key, value in data.items():
        if key not in hints or key == "home":
            raise SettingsError(f"{path}: unknown key {key!r}; the keys are {', '.join(_SAVED_KEYS)}")
        try:
            # Strict JSON validation: a list for a tuple, an int for a float, nothing coerced from text.
            out[key] = pydantic.TypeAdapter(hints[key]).validate_json(json.dumps(value), strict=True)
        except pydantic.ValidationError as exc:
            problem = exc.errors()[0]["msg"]
            raise SettingsError(f"{path}: key {key!r}: {problem}, got {json.dumps(value)}") from None
    return out


def env_number(var: str, default, kind=float, minimum=0):
    """A tuning constant that a BENCH_* variable may override (read when used, never at import); a value that
    is not a number of `kind` at least `minimum` is a SettingsError naming the variable."""
    text = os.environ.get(var)
    if not text:
        return default
    try:
        value = kind(text)
    except ValueError:
        value = None
    if value is None or not math.isfinite(value) or value < minimum:
        raise SettingsError(f"{var}={text!r} must be a {'whole ' if kind is int else ''}number of at least {minimum}")
    return value


def _csv(value: str) -> tuple[str, ...]:
    return tuple(v.strip() for v in value.split(",") if v.strip())


class SettingsError(ValueError):
    """A setting (from an argument, a BENCH_* variable or settings.json) is not usable."""


@dataclass(frozen=True)
class Settings:
    home: Path = field(default_factory=lambda: Path(".bench"))
    # The lab's own scale: at 500k rows Polars and DuckDB answer A and C in 10-30 ms,
    # where fixed costs hide the parallelism the lab studies.
    rows: int = 5_000_000
    seed: int = 42
    # The core four and whichever optional engines (the `engines` extra) are installed.
    engines: tuple[str, ...] = field(default_factory=default_engines)
    threads: tuple[int, ...] = field(default_factory=default_threads)
    # Warm runs (harness.runner.Repetitions): at least `repeats` when they fit in
    # `query_budget_s` seconds, then more, up to `max_repeats`, until the 95 %
    # interval of the typical time is within `precision` of it.
    repeats: int = 3
    max_repeats: int = 30
    precision: float = 0.05
    query_budget_s: float = 30.0
    timeout_s: float = 600.0
    budget_mib: int | None = None
    # The limits suite (`bench-pipeline limits`): posts sizes swept under one
    # memory budget, warm runs per sweep query (1: a 7.5M-row Spark run takes
    # minutes here), and the size the Polars modes are compared on. 7.5M rows
    # are 1.25 GiB in Arrow, more than the budget; the budget leaves Spark's JVM
    # (about 1 GB with the smallest heap Spark accepts) room to work.
    sweep_rows: tuple[int, ...] = (1_000_000, 2_500_000, 7_500_000)
    sweep_budget_mib: int = 1152
    sweep_repeats: int = 1
    modes_rows: int = 2_500_000

    def __post_init__(self) -> None:
        problems = []
        if not isinstance(self.rows, int) or self.rows <= 0:
            problems.append(f"rows must be greater than 0, got {self.rows!r}")
        if not isinstance(self.seed, int) or self.seed < 0:
            problems.append(f"seed must be 0 or more, got {self.seed!r}")
        unknown = [e for e in self.engines if e not in ENGINE_NAMES]
        if unknown or not self.engines:
            problems.append(f"unknown engines {unknown or '(none given)'}; choose from {', '.join(ENGINE_NAMES)}")
        if not self.threads or any(not isinstance(t, int) or t <= 0 for t in self.threads):
            problems.append(f"threads must be whole numbers greater than 0, got {self.threads!r}")
        if not isinstance(self.repeats, int) or self.repeats < 0:
            problems.append(f"repeats must be 0 or more, got {self.repeats!r}")
        if not isinstance(self.max_repeats, int) or self.max_repeats < 1:
            problems.append(f"max repeats must be 1 or more, got {self.max_repeats!r}")
        if not isinstance(self.precision, int | float) or not 0 < self.precision < 1:
            problems.append(f"precision must be between 0 and 1 (0.05: 5 %), got {self.precision!r}")
        if not isinstance(self.query_budget_s, int | float) or not math.isfinite(self.query_budget_s) \
                or self.query_budget_s <= 0:
            problems.append(f"query budget must be a finite number of seconds above 0, got {self.query_budget_s!r}")
        if not isinstance(self.timeout_s, int | float) or not math.isfinite(self.timeout_s) or self.timeout_s <= 0:
            problems.append(f"timeout must be a finite number of seconds greater than 0, got {self.timeout_s!r}")
        if self.budget_mib is not None and self.budget_mib <= 0:
            problems.append(f"budget must be greater than 0 MiB, got {self.budget_mib!r}")
        if not self.sweep_rows or any(not isinstance(n, int) or n <= 0 for n in self.sweep_rows):
            problems.append(f"sweep rows must be whole numbers greater than 0, got {self.sweep_rows!r}")
        if not isinstance(self.sweep_budget_mib, int) or self.sweep_budget_mib <= 0:
            problems.append(f"sweep budget must be greater than 0 MiB, got {self.sweep_budget_mib!r}")
        if not isinstance(self.sweep_repeats, int) or self.sweep_repeats < 1:
            problems.append(f"sweep repeats must be 1 or more, got {self.sweep_repeats!r}")
        if not isinstance(self.modes_rows, int) or self.modes_rows <= 0:
            problems.append(f"modes rows must be greater than 0, got {self.modes_rows!r}")
        if problems:
            raise SettingsError("; ".join(problems))

    @classmethod
    def from_env(cls, **overrides) -> Settings:
        env = os.environ
        home = overrides.get("home") or Path(env.get("BENCH_HOME") or cls().home)
        values: dict = {"home": home, **_load_saved(home)}
        for name, var, conv in (
            ("rows", "BENCH_ROWS", int),
            ("seed", "BENCH_SEED", int),
            ("repeats", "BENCH_REPEATS", int),
            ("max_repeats", "BENCH_MAX_REPEATS", int),
            ("precision", "BENCH_PRECISION", float),
            ("query_budget_s", "BENCH_QUERY_BUDGET_S", float),
            ("timeout_s", "BENCH_TIMEOUT_S", float),
            ("budget_mib", "BENCH_BUDGET_MIB", int),
            ("engines", "BENCH_ENGINES", _csv),
            ("threads", "BENCH_THREADS", lambda v: tuple(int(t) for t in _csv(v))),
            ("sweep_rows", "BENCH_SWEEP_ROWS", lambda v: tuple(int(t) for t in _csv(v))),
            ("sweep_budget_mib", "BENCH_SWEEP_BUDGET_MIB", int),
            ("sweep_repeats", "BENCH_SWEEP_REPEATS", int),
            ("modes_rows", "BENCH_MODES_ROWS", int),
        ):
            if env.get(var):
                try:
                    values[name] = conv(env[var])
                except ValueError:
                    raise SettingsError(f"{var}={env[var]!r} is not a valid {name} setting") from None
        values.update({k: v for k, v in overrides.items() if v is not None})
        return dataclasses.replace(cls(), **values)

    def save(self, only: tuple[str, ...] | None = None) -> Path:
        """Record the run's choices in $BENCH_HOME/settings.json (see the module docstring).

        only: save just these fields, keeping what the file says of the others
        (`limits` records its own choices without changing the main grid's)."""
        self.home.mkdir(parents=True, exist_ok=True)
        path = self.home / SAVED_FILE
        data = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "home"}
        if only is not None:
            data = {**_load_saved(self.home), **{k: v for k, v in data.items() if k in only}}
        tmp = path.with_suffix(f".{os.getpid()}.tmp")  # two commands may write it at once
        tmp.write_text(json.dumps(data, indent=2))
        tmp.replace(path)
        return path

    @property
    def data_dir(self) -> Path:
        return self.data_dir_for(self.rows)

    def data_dir_for(self, rows: int) -> Path:
        return self.home / "data" / f"posts-{rows}-seed-{self.seed}"

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
    def grid_cell_settings(self) -> dict:
        """What else a grid cell is measured with: a changed one makes the cells stale (staleness.py)."""
        return {"budget_bytes": self.budget_bytes, "max_repeats": self.max_repeats, "precision": self.precision,
                "query_budget_s": self.query_budget_s}

    @property
    def budget_bytes(self) -> int | None:
        return None if self.budget_mib is None else self.budget_mib * 2**20

    @property
    def sweep_budget_bytes(self) -> int:
        return self.sweep_budget_mib * 2**20

    LIMITS_FIELDS = ("sweep_rows", "sweep_budget_mib", "sweep_repeats", "modes_rows")

    @property
    def limits_rows(self) -> tuple[int, ...]:
        """Every posts size the limits suite needs: the sweep's and the modes'."""
        return tuple(sorted({*self.sweep_rows, self.modes_rows}))


_SAVED_KEYS = [f.name for f in dataclasses.fields(Settings) if f.name != "home"]
