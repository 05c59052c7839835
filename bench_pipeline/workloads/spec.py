"""A workload: a folder with a `workload.toml` naming tables (files) and SQL queries (docs/workloads.md, "The format").

    name = "taxi"
    description = "optional"
    [tables]
    trips = "data/trips.parquet"        # a Parquet file, a CSV file with a header, a folder of Parquet
    payments = "data/payments.csv"      # files (Hive partitions allowed) or a glob; relative to workload.toml
    [queries.busy_hours]
    sql = "queries/busy_hours.sql"      # a .sql file relative to workload.toml, or the SQL text itself
    description = "optional"
    title = "optional"                  # a short name for figures
    schema = { hour = "int64", trips = "int64" }   # optional: the answer's columns and types, checked
    [queries.busy_hours.overrides]      # optional: the SQL one engine runs instead (its dialect, a path or text)
    pyspark = "queries/busy_hours.spark.sql"

Everything is checked when the workload is loaded; a problem is one `WorkloadError` line naming the file and
what is wrong. Optional DataFrame implementations live in `dataframes.py` beside `workload.toml`.
"""

from __future__ import annotations

import glob
import hashlib
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

MANIFEST = "workload.toml"
DATAFRAMES = "dataframes.py"
EXPECTED_DIR = "expected"
_NAME = re.compile(r"^[A-Za-z0-9_-]+$")
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class WorkloadError(ValueError):
    """A workload that cannot be used: one line naming the file and the problem."""


@dataclass(frozen=True)
class Table:
    name: str
    source: str  # as written in workload.toml
    files: tuple[Path, ...]  # the files it reads (a folder: every Parquet file below it)
    kind: str  # "parquet" or "csv"
    root: Path  # the file, folder or glob's folder
    pattern: str  # what an engine reads: a file, a folder or a glob (absolute)
    hive: bool = False  # a folder whose subfolders are key=value partitions


@dataclass(frozen=True)
class WorkloadQuery:
    name: str
    sql: str
    description: str = ""
    overrides: dict[str, str] = field(default_factory=dict)  # engine -> its own SQL text
    title: str = ""
    schema: pa.Schema | None = None  # the answer's columns and types, when the workload gives them

    def sql_for(self, engine: str) -> str:
        return self.overrides.get(engine, self.sql)


@dataclass(frozen=True)
class Workload:
    root: Path
    name: str
    description: str
    tables: dict[str, Table]
    queries: dict[str, WorkloadQuery]

    @property
    def dataframes(self) -> Path | None:
        path = self.root / DATAFRAMES
        return path if path.is_file() else None

    def expected(self, query: str) -> Path | None:
        path = self.root / EXPECTED_DIR / f"{query}.parquet"
        return path if path.is_file() else None

    def query(self, name: str) -> WorkloadQuery:
        try:
            return self.queries[name]
        except KeyError:
            raise WorkloadError(f"{self.root / MANIFEST}: no query {name!r}; it has "
                                f"{', '.join(self.queries)}") from None

    def fingerprint(self) -> str:
        """The data's version (a measurement's dataset_fingerprint): every table file's path, size and
        modification time, so a changed file changes it."""
        h = hashlib.sha256()
        for t in self.tables.values():
            for f in t.files:
                st = f.stat()
                h.update(f"{t.name}\0{f}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
        return h.hexdigest()[:16]

    def query_fingerprint(self, query: str, engine: str | None = None) -> str:
        """The query's SQL (the engine's override, if any), its schema and the DataFrame code: what makes its
        cells stale."""
        q = self.query(query)
        h = hashlib.sha256((q.sql_for(engine) if engine else q.sql).encode())
        if q.schema is not None:  # it decides which answers are valid
            h.update(str(q.schema).encode())
        if self.dataframes is not None:
            h.update(self.dataframes.read_bytes())
        if (expected := self.expected(query)) is not None:
            h.update(expected.read_bytes())
        return h.hexdigest()[:16]


def _fail(manifest: Path, problem: str) -> WorkloadError:
    return WorkloadError(f"{manifest}: {problem}")


def _table(manifest: Path, name: str, source: object, base: Path) -> Table:
    if not _IDENT.match(name):
        raise _fail(manifest, f"table name {name!r}: use letters, digits and '_', not starting with a digit")
    if not isinstance(source, str) or not source:
        raise _fail(manifest, f"table {name!r}: give a file, a folder or a glob as a string")
    path = Path(source) if Path(source).is_absolute() else base / source
    if any(ch in source for ch in "*?["):
        files = tuple(sorted(Path(p) for p in glob.glob(str(path), recursive=True) if Path(p).is_file()))
        if not files:
            raise _fail(manifest, f"table {name!r}: no file matches {source!r}")
        kinds = {_kind_of(f) for f in files}
        if len(kinds) != 1 or None in kinds:
            raise _fail(manifest, f"table {name!r}: {source!r} must match only Parquet or only CSV files")
        return Table(name, source, files, kinds.pop(), path.parent, str(path))
    if path.is_dir():
        files = tuple(sorted(p for p in path.rglob("*.parquet") if not any(part.startswith((".", "_"))
                                                                           for part in p.relative_to(path).parts)))
        if not files:
            raise _fail(manifest, f"table {name!r}: folder {source!r} holds no Parquet file")
        hive = any("=" in part for f in files for part in f.relative_to(path).parts[:-1])
        return Table(name, source, files, "parquet", path, str(path), hive)
    if not path.is_file():
        raise _fail(manifest, f"table {name!r}: {source!r} does not exist")
    kind = _kind_of(path)
    if kind is None:
        raise _fail(manifest, f"table {name!r}: {source!r} is neither .parquet nor .csv")
    return Table(name, source, (path,), kind, path, str(path))


def _kind_of(path: Path) -> str | None:
    suffix = path.suffix.lower()
    return "parquet" if suffix in (".parquet", ".pq") else "csv" if suffix == ".csv" else None


def _sql(manifest: Path, where: str, value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _fail(manifest, f"{where}: give the SQL text or a .sql file")
    text = value.strip()
    if text.lower().endswith(".sql") and "\n" not in text and " " not in text:
        path = Path(text) if Path(text).is_absolute() else manifest.parent / text
        try:
            text = path.read_text().strip()
        except OSError as exc:
            raise _fail(manifest, f"{where}: cannot read {value!r} ({exc.strerror or exc})") from None
        if not text:
            raise _fail(manifest, f"{where}: {value!r} is empty")
    return text.rstrip(";").strip()


def _query(manifest: Path, name: str, entry: object) -> WorkloadQuery:
    if not _IDENT.match(name):
        raise _fail(manifest, f"query name {name!r}: use letters, digits and '_', not starting with a digit")
    if isinstance(entry, str):
        entry = {"sql": entry}
    if not isinstance(entry, dict) or "sql" not in entry:
        raise _fail(manifest, f"query {name!r}: needs `sql` (a .sql file or the SQL text)")
    unknown = set(entry) - {"sql", "description", "overrides", "title", "schema"}
    if unknown:
        raise _fail(manifest, f"query {name!r}: unknown keys {', '.join(sorted(unknown))}")
    overrides = entry.get("overrides", {})
    if not isinstance(overrides, dict):
        raise _fail(manifest, f"query {name!r}: `overrides` maps engine names to SQL")
    return WorkloadQuery(name, _sql(manifest, f"query {name!r}", entry["sql"]), str(entry.get("description", "")),
                         {e: _sql(manifest, f"query {name!r} override for {e}", v) for e, v in overrides.items()},
                         str(entry.get("title", "")), _schema(manifest, name, entry.get("schema")))


def _schema(manifest: Path, query: str, columns: object) -> pa.Schema | None:
    """`schema = { column = "type", ... }` (Arrow's type names: int64, double, string, timestamp[us], ...)."""
    if columns is None:
        return None
    if not isinstance(columns, dict) or not columns:
        raise _fail(manifest, f"query {query!r}: `schema` maps each answer column to its type")
    fields = []
    for column, name in columns.items():
        try:
            fields.append((column, pa.type_for_alias(name)))
        except (ValueError, TypeError):
            raise _fail(manifest, f"query {query!r}: column {column!r}: unknown type {name!r} (use int64, double, "
                                  "string, bool, date32, timestamp[us], ...)") from None
    return pa.schema(fields)


def load_workload(folder: str | Path, tables_from: Path | None = None) -> Workload:
    """The workload in `folder` (or named by its workload.toml), checked; WorkloadError says what is wrong.
    tables_from: the folder its relative table paths are read from (default: the manifest's own)."""
    manifest, doc = _manifest(folder)
    tables = doc["tables"]
    base = Path(tables_from) if tables_from is not None else manifest.parent
    return Workload(manifest.parent.resolve(), doc["name"], str(doc.get("description", "")),
                    {t: _table(manifest, t, s, base) for t, s in tables.items()},
                    {q: _query(manifest, q, e) for q, e in doc["queries"].items()})


def read_queries(folder: str | Path) -> dict[str, WorkloadQuery]:
    """The queries of the workload in `folder`, checked, without its tables (which may name files elsewhere)."""
    manifest, doc = _manifest(folder)
    return {q: _query(manifest, q, e) for q, e in doc["queries"].items()}


def _manifest(folder: str | Path) -> tuple[Path, dict]:
    folder = Path(folder)
    manifest = folder if folder.name == MANIFEST else folder / MANIFEST
    if not manifest.is_file():
        raise WorkloadError(f"{manifest}: no such file (a workload is a folder with a {MANIFEST})")
    try:
        doc = tomllib.loads(manifest.read_text())
    except (OSError, UnicodeDecodeError) as exc:
        raise _fail(manifest, f"cannot be read ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise _fail(manifest, f"is not valid TOML ({exc})") from None
    unknown = set(doc) - {"name", "description", "tables", "queries"}
    if unknown:
        raise _fail(manifest, f"unknown keys {', '.join(sorted(unknown))}")
    name = doc.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        raise _fail(manifest, f"name {name!r}: give a name of letters, digits, '-' and '_'")
    tables, queries = doc.get("tables"), doc.get("queries")
    if not isinstance(tables, dict) or not tables:
        raise _fail(manifest, "no [tables]: name at least one table and its file")
    if not isinstance(queries, dict) or not queries:
        raise _fail(manifest, "no [queries]: name at least one query and its SQL")
    return manifest, doc


def sql_string(value) -> str:
    """A value (a file path) as a SQL string literal, quotes doubled."""
    return "'" + str(value).replace("'", "''") + "'"


def has_top_level_order(sql: str) -> bool:
    """Whether the query's answer has a defined row order: a top-level ORDER BY (DuckDB's dialect)."""
    import sqlglot  # sqlglot: only where it is used

    try:
        tree = sqlglot.parse_one(sql, read="duckdb")
    except sqlglot.errors.ParseError:
        return "order by" in sql.lower().rsplit(")", 1)[-1]  # the reference will say whether it parses
    return bool(tree.args.get("order"))


def write_if_changed(path: Path, text: str) -> None:
    """Write a file of a generated workload folder; an unchanged file keeps its bytes (the cells' staleness reads
    them)."""
    if not path.is_file() or path.read_text() != text:
        path.write_text(text)
