"""The built-in benchmark as a workload: `run --workload social` (or `query --workload social`).

The posts and users of the main settings (`--rows`, generated once like the grid's), the catalogue's queries
L, A, B, C and F with their reference SQL, and `dataframes.py`: for every engine whose grid code for a query
is its own (DataFrame code, or DuckDB's and DataFusion's loading of L), the function runs exactly that code,
so the workload measures what the grid measures. DuckDB and DataFusion answer A, B, C and F from the SQL,
which is also what they run in the grid. The folder is written under the state folder
(`workloads/social_<rows>/`), beside the data it names.
"""

from __future__ import annotations

from pathlib import Path

from bench_pipeline.dataset import Dataset
from bench_pipeline.queries import get_query
from bench_pipeline.workloads.spec import DATAFRAMES, MANIFEST, write_if_changed

NAME = "social"
QUERIES = ("L", "A", "B", "C", "F")
IMPLEMENTATIONS = Path(__file__).resolve().parent / DATAFRAMES


def folder(home: Path, rows: int) -> Path:
    return home / "workloads" / f"{NAME}_{rows}"


def _toml_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def write(home: Path, data: Dataset) -> Path:
    """The workload folder for this dataset (written when it differs: unchanged files keep the cells fresh)."""
    rows = data.posts_rows()
    root = folder(home, rows)
    (root / "queries").mkdir(parents=True, exist_ok=True)
    lines = [f'name = "{NAME}_{rows}"',
             f'description = "The built-in benchmark: {rows:,} generated posts and their users"', "", "[tables]",
             f"posts = {_toml_string(str(data.posts))}", f"users = {_toml_string(str(data.users))}"]
    for q in QUERIES:
        query = get_query(q)
        write_if_changed(root / "queries" / f"{q}.sql", " ".join(query.sql.split()) + "\n")
        lines += ["", f"[queries.{q}]", f'sql = "queries/{q}.sql"', f"description = {_toml_string(query.description)}"]
    write_if_changed(root / MANIFEST, "\n".join(lines) + "\n")
    write_if_changed(root / DATAFRAMES, IMPLEMENTATIONS.read_text())
    return root


def resolve(workload: Path, settings) -> Path:
    """`--workload social` names the built-in workload on the main settings' dataset (generated when missing);
    any other value is a folder."""
    if str(workload) != NAME or workload.exists():
        return workload
    from bench_pipeline import state
    from bench_pipeline.datagen import ensure_dataset

    state.check_datasets(settings.home, {settings.data_dir: settings.rows})
    state.prepare(settings.home, settings.store_path)
    return write(settings.home, ensure_dataset(settings.data_dir, settings.rows, settings.seed))


def engine_code(tables, query: str, api: str = "dataframe"):
    """The registered engine's own implementation of a catalogue query (what the grid suite runs), on the
    workload's posts and users."""
    from bench_pipeline.engines.base import Engine
    from bench_pipeline.workloads.engines import WorkloadMixin

    engine = tables.engine
    engine.api = api
    data = Dataset(Path(tables.paths["posts"]).parent)
    return super(WorkloadMixin, engine).run(query, data) if isinstance(engine, WorkloadMixin) \
        else Engine.run(engine, query, data)
