"""The suite's settings: data sizes and the thread count, from defaults, $BENCH_HOME/wars.json, BENCH_WARS_* and
arguments (lowest first), like the main Settings. `bench-pipeline wars` saves its choices for the UI."""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass
from pathlib import Path

from bench_pipeline.harness import provenance
from bench_pipeline.settings import SettingsError

SAVED_FILE = "wars.json"


@dataclass(frozen=True)
class WarsSettings:
    events_rows: int = 1_000_000
    sales_rows: int = 1_000_000
    images: int = 200
    threads: int = 0  # 0: the machine's logical cores

    def __post_init__(self) -> None:
        problems = [f"{name} must be a whole number greater than 0, got {getattr(self, name)!r}"
                    for name in ("events_rows", "sales_rows", "images")
                    if not isinstance(getattr(self, name), int) or getattr(self, name) <= 0]
        if not isinstance(self.threads, int) or self.threads < 0:
            problems.append(f"threads must be 0 (the machine's cores) or more, got {self.threads!r}")
        if problems:
            raise SettingsError("; ".join(problems))

    @property
    def thread_count(self) -> int:
        return self.threads or provenance.logical_cores()

    def data_dir(self, home: Path, seed: int) -> Path:
        return home / "wars" / f"events-{self.events_rows}-sales-{self.sales_rows}-images-{self.images}-seed-{seed}"

    @classmethod
    def from_env(cls, home: Path, **overrides) -> WarsSettings:
        values: dict = {}
        try:
            saved = json.loads((home / SAVED_FILE).read_text())
            values.update({k: v for k, v in saved.items() if k in {f.name for f in dataclasses.fields(cls)}})
        except (OSError, ValueError):
            pass
        for name, var in (("events_rows", "BENCH_WARS_ROWS"), ("sales_rows", "BENCH_WARS_CSV_ROWS"),
                          ("images", "BENCH_WARS_IMAGES"), ("threads", "BENCH_WARS_THREADS")):
            if os.environ.get(var):
                try:
                    values[name] = int(os.environ[var])
                except ValueError:
                    raise SettingsError(f"{var}={os.environ[var]!r} is not a whole number") from None
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def save(self, home: Path) -> Path:
        home.mkdir(parents=True, exist_ok=True)
        path = home / SAVED_FILE
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(dataclasses.asdict(self), indent=2))
        tmp.replace(path)
        return path
