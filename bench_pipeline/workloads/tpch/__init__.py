"""TPC-H as a workload: data from `tpchgen-cli` (Parquet, under the state folder) and the 22 queries.

The queries (queries/q01.sql ... q22.sql) are the specification's, with its validation parameters, in
DuckDB's dialect; q03, q10 and q18 add a key after the specification's ORDER BY so that their LIMIT
keeps the same rows on every engine (ties in the sort keys would otherwise let engines differ).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from bench_pipeline.workloads.spec import MANIFEST

TABLES = ("region", "nation", "supplier", "customer", "part", "partsupp", "orders", "lineitem")
QUERIES = Path(__file__).resolve().parent / "queries"


class TpchError(RuntimeError):
    """The data could not be generated: one line."""


def folder(home: Path, scale_factor: float) -> Path:
    return home / "tpch" / f"sf{scale_factor:g}"


def _generate(data: Path, scale_factor: float) -> None:
    exe = shutil.which("tpchgen-cli") or str(Path(sys.executable).with_name("tpchgen-cli"))
    tmp = Path(tempfile.mkdtemp(prefix=".tpchgen-", dir=data.parent))
    try:
        r = subprocess.run([exe, "parquet", "-s", f"{scale_factor:g}", f"--output-dir={tmp}"],
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise TpchError(f"tpchgen-cli failed: {(r.stderr or r.stdout).strip().splitlines()[-1:]}")
        if data.exists():
            shutil.rmtree(data)
        os.replace(tmp, data)  # whole or not at all
    except FileNotFoundError:
        raise TpchError("tpchgen-cli not found: pip install -e . installs it") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def ensure(home: Path, scale_factor: float) -> Path:
    """The TPC-H workload folder at this scale factor, its data generated once (under the measurement lock)."""
    from bench_pipeline.harness.machine_lock import measurement_lock

    root = folder(home, scale_factor)
    data = root / "data"
    root.mkdir(parents=True, exist_ok=True)
    if not all((data / f"{t}.parquet").is_file() for t in TABLES):
        with measurement_lock(f"generating TPC-H data at scale factor {scale_factor:g}"):
            _generate(data, scale_factor)
    name = f"tpch_sf{scale_factor:g}".replace(".", "_")
    lines = [f'name = "{name}"', f'description = "TPC-H at scale factor {scale_factor:g} (tpchgen-cli)"', "",
             "[tables]"]
    lines += [f'{t} = "data/{t}.parquet"' for t in TABLES]
    for q in sorted(QUERIES.glob("q*.sql")):
        lines += ["", f"[queries.{q.stem}]", f'sql = "{q}"']
    manifest = root / MANIFEST
    text = "\n".join(lines) + "\n"
    if not manifest.is_file() or manifest.read_text() != text:
        manifest.write_text(text)
    return root
