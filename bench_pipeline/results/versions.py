"""What a measurement depends on, as short hashes: engine library + engine code, harness code.

A cell is stale when any of these differ from what it was measured with. The
engine hash covers its own module and the shared base; the harness hash covers
the code that measures and validates every cell, and the built-in benchmark's queries (SQL and DataFrame code).
"""

from __future__ import annotations

import hashlib
import inspect
import sys
from pathlib import Path

from bench_pipeline.engines import engine_class, engine_path
from bench_pipeline.engines.base import Engine

_PKG = Path(__file__).resolve().parents[1]
_SOCIAL = _PKG / "workloads" / "social"
# The measuring code, and the built-in benchmark: its manifest, SQL, catalogue and every engine's DataFrame code.
_HARNESS_FILES = [_PKG / "data" / "dataset.py", _PKG / "results" / "store.py",
                  *sorted((_PKG / "harness").glob("*.py")), *sorted((_PKG / "workloads").glob("*.py")),
                  _SOCIAL / "workload.toml", *sorted(_SOCIAL.glob("*.py")),
                  *sorted((_SOCIAL / "queries").glob("*.sql"))]


def _hash_files(paths: list[Path]) -> str:
    h = hashlib.sha256()
    for p in paths:
        h.update(p.name.encode())
        h.update(p.read_bytes())
    return h.hexdigest()[:12]


def engine_code_hash(engine: str) -> str:
    """The module that names the engine and every module its class inherits from (a mode variant: its base too)."""
    cls = engine_class(engine)
    named_in = sys.modules[engine_path(engine).partition(":")[0]]
    files = {Path(inspect.getfile(c)).resolve() for c in cls.__mro__ if issubclass(c, Engine)}
    return _hash_files(sorted(files | {Path(named_in.__file__).resolve()}))


def engine_signature(engine: str) -> str:
    """'<library versions>+<code hash>', e.g. 'polars 2.1.0+3f2a...'."""
    return f"{engine_class(engine).versions()}+{engine_code_hash(engine)}"


def harness_code_hash() -> str:
    return _hash_files(_HARNESS_FILES)


def outputs_code_hash() -> str:
    """Every source and template of the package: the report (and the figures and tables it shows) is current only
    when it was written by this code, so an edit to a figure or a sentence rewrites it on the next run."""
    return _hash_files(sorted([*_PKG.rglob("*.py"), *_PKG.rglob("*.j2"), *_PKG.rglob("*.toml")]))


def measured_with(engine: str, threads: int, data, repeats: int, settings: dict | None = None,
                  signature: str | None = None, harness_version: str | None = None) -> dict:
    """What a cell is measured with: its engine signature (library version and code), the dataset's
    version, the harness's code, the thread count, the warm runs asked and the cell's own `settings` (a
    memory budget). A cell records it in its metadata; a cell recorded with anything else is stale
    (fewer warm runs than asked included). A suite with its own engines and code (the Engine Wars)
    passes its own signature and harness version."""
    return {"engine_signature": signature or engine_signature(engine), "dataset_version": data.fingerprint(),
            "harness_version": harness_version or harness_code_hash(), "threads_asked": threads,
            "repeats": repeats, **(settings or {})}
