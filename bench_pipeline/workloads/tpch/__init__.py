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

from bench_pipeline.workloads.spec import DATAFRAMES, MANIFEST, write_if_changed

TABLES = ("region", "nation", "supplier", "customer", "part", "partsupp", "orders", "lineitem")
QUERY_DIR = Path(__file__).resolve().parent / "queries"
IMPLEMENTATIONS = Path(__file__).resolve().parent / DATAFRAMES  # Polars and pandas, copied beside workload.toml


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
        for t in TABLES:
            _plain_strings(tmp / f"{t}.parquet")
        if data.exists():
            shutil.rmtree(data)
        os.replace(tmp, data)  # whole or not at all
    except FileNotFoundError:
        raise TpchError("tpchgen-cli not found: pip install -e . installs it") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _has_string_views(path: Path) -> bool:
    import pyarrow as pa  # pyarrow: only where it is used
    import pyarrow.parquet as pq  # pyarrow: only where it is used

    return any(pa.types.is_string_view(f.type) for f in pq.read_schema(path))


def _plain_strings(path: Path) -> None:
    """Rewrite a file's Arrow string views as plain strings, row group by row group (same row groups, Snappy).

    tpchgen-cli 4 declares its strings as Arrow `string_view`, which Daft 0.7 cannot read at all; the Parquet
    data is the same UTF-8 byte arrays either way, so every engine reads the rewritten files.
    """
    import pyarrow as pa  # pyarrow: only where it is used
    import pyarrow.parquet as pq  # pyarrow: only where it is used

    source = pq.ParquetFile(path)
    schema = pa.schema([f.with_type(pa.string()) if pa.types.is_string_view(f.type) else f
                        for f in source.schema_arrow])
    if schema.equals(source.schema_arrow):
        return
    tmp = path.with_suffix(".plain")
    with pq.ParquetWriter(tmp, schema, compression="snappy") as writer:
        for i in range(source.num_row_groups):
            writer.write_table(source.read_row_group(i).cast(schema), row_group_size=source.metadata.num_rows)
    source.close()
    os.replace(tmp, path)


def ensure(home: Path, scale_factor: float) -> Path:
    """The TPC-H workload folder at this scale factor, its data generated once (under the measurement lock)."""
    from bench_pipeline.harness.machine_lock import measurement_lock  # keeps psutil off the import path

    root = folder(home, scale_factor)
    data = root / "data"
    root.mkdir(parents=True, exist_ok=True)
    files = [data / f"{t}.parquet" for t in TABLES]
    if not all(f.is_file() for f in files) or any(_has_string_views(f) for f in files):  # or older tpch data
        with measurement_lock(f"generating TPC-H data at scale factor {scale_factor:g}"):
            _generate(data, scale_factor)
    name = f"tpch_sf{scale_factor:g}".replace(".", "_")
    lines = [f'name = "{name}"', f'description = "TPC-H at scale factor {scale_factor:g} (tpchgen-cli)"', "",
             "[tables]"]
    lines += [f'{t} = "data/{t}.parquet"' for t in TABLES]
    for q in sorted(QUERY_DIR.glob("q*.sql")):
        lines += ["", f"[queries.{q.stem}]", f'sql = "{q}"']
    write_if_changed(root / MANIFEST, "\n".join(lines) + "\n")
    write_if_changed(root / DATAFRAMES, IMPLEMENTATIONS.read_text())
    return root
