"""The built-in benchmark, a workload shipped in the package: `queries/<Q>.sql` and `dataframes.py`.

Every suite runs its queries L, A, B, C and F through the workload mechanism (workloads/execute.py): a dataset
folder (posts and users) is this workload bound to those files (`bound`). `run --workload social` (or
`query --workload social`) writes it as a workload folder under the state folder (`workloads/social_<rows>/`),
beside the data it names, and measures it cell for cell beside your own workloads: the same code either way.
"""

from __future__ import annotations

from pathlib import Path

from bench_pipeline.dataset import Dataset
from bench_pipeline.queries import ALL_QUERY_NAMES, get_query
from bench_pipeline.workloads.spec import DATAFRAMES, MANIFEST, Table, Workload, WorkloadQuery, write_if_changed

NAME = "social"
QUERIES = ALL_QUERY_NAMES
HERE = Path(__file__).resolve().parent
IMPLEMENTATIONS = HERE / DATAFRAMES


def bound(root: Path) -> Workload:
    """This workload on the dataset in `root` (posts.parquet and users.parquet, checked when it was opened)."""
    data = Dataset(root)
    tables = {name: Table(name, str(path), (path,), "parquet", path, str(path))
              for name, path in (("posts", data.posts), ("users", data.users))}
    queries = {q.name: WorkloadQuery(q.name, q.sql.strip().rstrip(";"), q.description) for q in map(get_query, QUERIES)}
    return Workload(HERE, NAME, "The built-in benchmark", tables, queries)


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
