"""The built-in benchmark, a workload shipped in the package and read as any workload is: `workload.toml` (its
queries' titles, descriptions and answer schemas), `queries/<Q>.sql` and `dataframes.py`; `catalogue.py` holds the
query sets the suites measure and the parameters the DataFrame code shares.

Every suite runs its queries L, A, B, C and F through the workload mechanism (workloads/execute.py): a dataset
folder (posts and users) is this workload bound to those files (`bound`). `run --workload social` (or
`query --workload social`) writes it as a workload folder under the state folder (`workloads/social_<rows>/`),
beside the data it names, and measures it cell for cell beside your own workloads: the same code either way.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from bench_pipeline.data.dataset import Dataset
from bench_pipeline.harness.validate import compare, conform
from bench_pipeline.workloads.reference import reference_answer
from bench_pipeline.workloads.social.catalogue import get_query
from bench_pipeline.workloads.spec import DATAFRAMES, MANIFEST, Workload, load_workload, write_if_changed

NAME = "social"
REFERENCE_DIR = ".reference"  # beside the data: DIR/.reference/<data fingerprint>/<query>-<hash>.parquet
HERE = Path(__file__).resolve().parent
# The shipped manifest's tables, relative to the dataset folder it is bound to.
TABLES = {"posts": 'posts = "posts.parquet"', "users": 'users = "users.parquet"'}


def bound(root: Path) -> Workload:
    """This workload on the dataset in `root` (posts.parquet and users.parquet, checked when it was opened)."""
    data = Dataset(root)
    return load_workload(HERE, tables_from=data.root)


def reference(query: str, data: Dataset) -> pa.Table:
    """The reference answer of a built-in query on `data`, in the contract's types, kept beside the data."""
    answer = reference_answer(bound(data.root), query, cache=data.root / REFERENCE_DIR / data.fingerprint())
    return conform(answer, get_query(query).schema)


def validate(query: str, answer: pa.Table, data: Dataset) -> pa.Table:
    """`answer` in the contract's types; AnswerMismatch unless it is the reference answer (rows in order)."""
    conformed = conform(answer, get_query(query).schema)
    compare(conformed, reference(query, data))
    return conformed


def folder(home: Path, rows: int) -> Path:
    return home / "workloads" / f"{NAME}_{rows}"


def _toml_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def write(home: Path, data: Dataset) -> Path:
    """The shipped workload as a folder of its own for this dataset: the same manifest, SQL and DataFrame code,
    its tables naming the dataset's files (written when it differs: unchanged files keep the cells fresh)."""
    rows = data.posts_rows()
    root = folder(home, rows)
    (root / "queries").mkdir(parents=True, exist_ok=True)
    manifest = (HERE / MANIFEST).read_text().replace(f'name = "{NAME}"', f'name = "{NAME}_{rows}"', 1)
    for name, line in TABLES.items():
        manifest = manifest.replace(line, f"{name} = {_toml_string(str(getattr(data, name)))}", 1)
    for sql in sorted((HERE / "queries").glob("*.sql")):
        write_if_changed(root / "queries" / sql.name, sql.read_text())
    write_if_changed(root / MANIFEST, manifest)
    write_if_changed(root / DATAFRAMES, (HERE / DATAFRAMES).read_text())
    return root
