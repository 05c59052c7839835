"""Settings: one mechanism for the main settings and every suite's own.

Each settings class (`Settings` here, a suite's in `suites/<name>/settings.py`) is
a pydantic-settings class read by `from_env(...)` with one precedence, lowest first:

1. the class's defaults;
2. `$BENCH_HOME/settings.json`: the main settings at its top level, a suite's
   under its `section` key. Commands save the choices they were given, so the
   UI and the nightly schedule measure what the last command measured;
3. `BENCH_*` environment variables: the class's prefix and the field's name
   (`BENCH_ROWS`, `BENCH_SWEEP_ROWS`, `BENCH_WARS_IMAGES`), or the field's alias;
4. explicit values (command-line options); None means "not given".

Nothing is read at import time. A value that does not fit is a SettingsError
naming where it came from (the variable, the file and key, the option).
"""

from __future__ import annotations

import json
import math
import os
import typing
from pathlib import Path
from typing import Annotated, ClassVar

import pydantic
from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from bench_pipeline.engines import ENGINE_NAMES, default_engines
from bench_pipeline.report.fmt import MiB

SAVED_FILE = "settings.json"
DEFAULT_HOME = Path(".bench")

PositiveInt = Annotated[int, Field(gt=0)]
PositiveSeconds = Annotated[float, Field(gt=0, allow_inf_nan=False)]


class SettingsError(ValueError):
    """A setting (from an argument, a BENCH_* variable or settings.json) is not usable."""


def default_threads(cores: int | None = None) -> tuple[int, ...]:
    """1, 2, 4, ... up to the machine's logical cores (the cores themselves included), and one
    oversubscribed point at twice the cores: 1, 2, 4 on 2 cores; 1, 2, 4, 8, 16, 32 on 16."""
    cores = cores or os.cpu_count() or 1
    grid = {1, cores, 2 * cores} | {2**k for k in range(cores.bit_length()) if 2**k <= cores}
    return tuple(sorted(grid))


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


def bench_home(home: str | os.PathLike | None = None) -> Path:
    return Path(home) if home else Path(os.environ.get("BENCH_HOME") or DEFAULT_HOME)


def read_saved(home: Path) -> dict:
    """settings.json as a dict, {} when there is none; a file that cannot be used is a SettingsError."""
    if home.exists() and not home.is_dir():
        raise SettingsError(f"BENCH_HOME {home} is a file, not a folder")
    path = home / SAVED_FILE
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise SettingsError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    except ValueError as exc:
        raise SettingsError(f"{path}: not valid JSON ({exc}); fix or delete the file") from None
    if not isinstance(data, dict):
        raise SettingsError(f"{path}: must hold a JSON object of settings, got {type(data).__name__}")
    return data


class _SavedSettings(PydanticBaseSettingsSource):
    """The class's part of settings.json, each value validated strictly (a list for a tuple, an int for a
    float, nothing coerced from text), errors naming the file and the key."""

    def __init__(self, settings_cls, home: Path):
        super().__init__(settings_cls)
        self.home = home

    def get_field_value(self, field, field_name):  # required by the base class; __call__ does the work
        return None, field_name, False

    def __call__(self) -> dict:
        cls = self.settings_cls
        data = read_saved(self.home)
        where = self.home / SAVED_FILE
        if cls.section:
            data, where = data.get(cls.section, {}), f"{where} [{cls.section}]"
        else:  # the top level: a suite's section is its own business; retired keys are ignored
            data = {k: v for k, v in data.items() if not isinstance(v, dict) and k not in cls.retired_keys}
        hints = typing.get_type_hints(cls, include_extras=True)
        keys = [k for k in cls.model_fields if k != "home"]
        out = {}
        for key, value in data.items():
            if key not in keys:
                raise SettingsError(f"{where}: unknown key {key!r}; the keys are {', '.join(keys)}")
            try:
                out[key] = pydantic.TypeAdapter(hints[key]).validate_json(json.dumps(value), strict=True)
            except pydantic.ValidationError as exc:
                raise SettingsError(f"{where}: key {key!r}: {exc.errors()[0]['msg']}, got {json.dumps(value)}") \
                    from None
        return out


class SettingsBase(BaseSettings):
    """What every settings class shares: the state folder, the sources and their precedence, saving."""

    model_config = SettingsConfigDict(env_prefix="BENCH_", frozen=True, extra="forbid", env_ignore_empty=True,
                                      enable_decoding=False, validate_by_name=True)
    # settings.json key holding this class's values; None: the top level (the main settings).
    section: ClassVar[str | None] = None
    # Top-level keys an earlier version saved that no longer mean anything there.
    retired_keys: ClassVar[tuple[str, ...]] = ()

    home: Path = Field(default=DEFAULT_HOME, validation_alias=AliasChoices("BENCH_HOME"))

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, env_settings, dotenv_settings,
                                   file_secret_settings):
        kwargs = init_settings.init_kwargs  # keyed by the field's alias
        home = bench_home(kwargs.get("BENCH_HOME") or kwargs.get("home"))
        return init_settings, env_settings, _SavedSettings(settings_cls, home)

    @pydantic.field_validator("*", mode="before")
    @classmethod
    def _comma_lists(cls, value, info):
        """'1,2,4' from a variable for a tuple field."""
        hint = cls.model_fields[info.field_name].annotation
        if isinstance(value, str) and typing.get_origin(hint) is tuple:
            return tuple(v.strip() for v in value.split(",") if v.strip())
        return value

    @classmethod
    def from_env(cls, home: str | os.PathLike | None = None, **explicit):
        """The settings in force: explicit values (None: not given) over BENCH_* over settings.json over defaults."""
        given = {k: v for k, v in explicit.items() if v is not None}
        try:
            return cls(home=bench_home(home), **given)
        except pydantic.ValidationError as exc:
            first = {e["loc"][:1]: e for e in reversed(exc.errors())}  # one error per setting: its first
            raise SettingsError("; ".join(_describe(cls, e, given) for e in reversed(first.values()))) from None

    def save(self) -> Path:
        """Record these settings in settings.json (their section, or the top level), keeping the rest."""
        self.home.mkdir(parents=True, exist_ok=True)
        data = read_saved(self.home)
        mine = self.model_dump(mode="json", exclude={"home"})
        data = {k: v for k, v in data.items() if k not in self.retired_keys}
        data = {**data, self.section: mine} if self.section else {**data, **mine}
        path = self.home / SAVED_FILE
        tmp = path.with_suffix(f".{os.getpid()}.tmp")  # two commands may write it at once
        tmp.write_text(json.dumps(data, indent=2))
        tmp.replace(path)
        return path


def _describe(cls, error: dict, given: dict) -> str:
    """One validation error as a sentence naming its source."""
    msg = error["msg"].removeprefix("Value error, ")
    if not error["loc"]:
        return msg
    name = str(error["loc"][0])
    field = cls.model_fields.get(name)
    env = None
    if field is not None and name not in given:
        aliases = getattr(field.validation_alias, "choices", None) or []
        env = next((a for a in [*aliases, cls.model_config["env_prefix"] + name.upper()]
                    if isinstance(a, str) and os.environ.get(a)), None)
    if env:
        return f"{env}={os.environ[env]!r} is not a valid {name} setting: {msg}"
    return f"{name}: {msg}, got {error.get('input')!r}"


class Settings(SettingsBase):
    """The main settings: the data, the engines and threads of the grid, and how every cell is measured."""

    # The lab's own scale: at 500k rows Polars and DuckDB answer A and C in 10-30 ms,
    # where fixed costs hide the parallelism the lab studies.
    rows: PositiveInt = 5_000_000
    seed: Annotated[int, Field(ge=0)] = 42
    # The core four and whichever optional engines (the `engines` extra) are installed.
    engines: Annotated[tuple[str, ...], Field(min_length=1)] = Field(default_factory=default_engines)
    threads: Annotated[tuple[PositiveInt, ...], Field(min_length=1)] = Field(default_factory=default_threads)
    # Warm runs of one process: at most `repeats`, at least one, while they fit in `query_budget_s` seconds
    # (more processes, not more runs in one, are what narrow a comparison: harness/instrument.py).
    repeats: Annotated[int, Field(ge=0)] = 3
    query_budget_s: PositiveSeconds = 30.0
    timeout_s: PositiveSeconds = 600.0
    # `run`'s time budget, dataset included: the rounds stop adding processes when it is spent (harness/rounds.py).
    # Every other suite has its own (its settings' `time_budget_s`), with its own default.
    time_budget_s: PositiveSeconds = 900.0
    # The most fresh processes a query of a cell gets while its comparisons are open (the rule's error rates
    # are checked up to 20 looks: stats.LOOK_CONFIDENCE).
    max_processes: Annotated[int, Field(ge=1, le=20)] = 20
    budget_mib: PositiveInt | None = None
    # A re-measured query whose time moved by more than this share, by the verdict's rule, is flagged (history.py).
    regression_threshold: Annotated[float, Field(gt=0, lt=1)] = 0.05
    # hostname -> price of the machine per hour (any currency): the report's machines table costs each query.
    machine_prices: dict[str, Annotated[float, Field(ge=0)]] = {}
    # Where this machine's calibration file is (None: the user's config folder; calibration.py).
    calibration_dir: Path | None = None

    # The limits suite's settings lived at the top level before they had their own section; warm runs were
    # adaptive before processes were the unit (max_repeats, precision).
    retired_keys: ClassVar = ("sweep_rows", "sweep_budget_mib", "sweep_repeats", "modes_rows", "max_repeats",
                              "precision")

    @pydantic.field_validator("engines")
    @classmethod
    def _known_engines(cls, engines):
        unknown = [e for e in engines if e not in ENGINE_NAMES]
        if unknown:
            raise ValueError(f"unknown engines {unknown}; choose from {', '.join(ENGINE_NAMES)}")
        return engines

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
    def repetition_settings(self) -> dict:
        """How long a process's warm runs may take (CellSpec's field of the same name): every suite's cells
        measure with it and record it (a changed one makes those cells stale)."""
        return {"query_budget_s": self.query_budget_s}

    @property
    def grid_cell_settings(self) -> dict:
        """What else a grid cell is measured with: a changed one makes the cells stale."""
        return {"budget_bytes": self.budget_bytes, **self.repetition_settings}

    @property
    def budget_bytes(self) -> int | None:
        return None if self.budget_mib is None else self.budget_mib * MiB
