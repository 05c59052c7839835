"""The DuckDB results store: one file, one row per query run, append only.

Table `measurements` (one row per run of a query in a cell):

| column | meaning |
|---|---|
| cell_run_id | one id per invocation of a cell (all its queries and runs) |
| engine, engine_version | the engine name and its library's version |
| query | L, A, B or C |
| threads_asked, threads_verified | the thread setting asked and what the engine reported |
| oversubscribed | threads_asked > the machine's logical cores |
| run_index, run_kind | the run's number within the cell's query (unique), `cold` (each process's first run) or `warm` |
| process_index | which fresh process of the query ran it (0, 1, ...); NULL in rows from before: one process |
| seconds | the run's time; NULL when the run did not finish |
| status, message | ok, wrong_answer, timeout, oom, error, unsupported (query text rejected), skipped; why, if not ok |
| startup_seconds | engine start-up in this query's process (Spark's JVM), timed apart |
| baseline_rss_bytes | process-tree RSS after start-up, before the query |
| peak_rss_bytes | peak process-tree RSS during this run |
| processes | most processes in the tree during this run (2+ for Spark: Python and its JVM) |
| answer_rows | rows of the validated answer |
| timeout_seconds, budget_bytes | the limits the run was held to |
| dataset_fingerprint, dataset_rows | which data |
| python_version, cpu_model, logical_cores, total_memory_bytes, hostname | the machine |
| dagster_run_id | the Dagster run that asked for the cell, if any |
| measured_at | when the run ended (UTC) |
| master_url, executors, executor_cores, executor_memory | Spark on a cluster: where, with what (NULL: local) |
| data_layout | for cluster cells: `flat` (one posts file) or `partitioned` (Hive-style by category) |
| cluster_start_seconds | for a cluster started by the cell: master and workers up and registered |
| suite | `grid`, `cluster`, `modes` and `sweep` (limits), `wars` (query = workload), `workload`, `canary` |
| engine_limits | the engine's own memory limits set from the budget (DuckDB memory_limit, Spark heap), if any |
| plan | on the cold run's row: the optimized plan the engine printed for the query (NULL without a planner) |
| checks | JSON of facts an engine established about the run, untimed (e.g. which columns a hand-off shared) |
| background_cores | CPU the rest of the machine used during the run, in cores (harness/noise.py); NULL: unknown |
| load_avg | the machine's 1-minute load average when the run ended |
| noisy | other work took more than a quarter of a core during the run |
| kept | the run counts for the headline (FALSE: a noisy warm run that was measured again) |
| workload | for suite `workload`: the user workload's name (its folder's workload.toml); query = its query |

View `query_summary`: one row per cell_run_id and query: its status (the first
non-ok run's, else ok), cold time, median/min/max/coefficient of variation of
the kept warm runs and their times (`warm_list`, for intervals), how many runs
were noisy (`noisy_runs`, and `noisy` when a kept run was), peak and baseline
memory, limits and plan; `processes_measured` and `process_list`, the median of
each process's kept warm runs (what the verdict's rule compares: stats.py).

Rows are built by `measurement_row` (the runners' one way to a row): a column
not in this schema, or a NOT NULL column left out, is an error before anything
is written. Stores written before `suite` was always set are migrated in place
when opened for writing: NULL becomes `cluster` where a master URL was recorded,
else `grid` (the only two suites that left it NULL).

A cell's rows are inserted in one transaction, so a crash leaves either all
of them or none. DuckDB lets one process write a file at a time; a writer that
finds the file locked waits and tries again. A store that cannot be opened
(truncated, not a DuckDB file) is moved aside by `recover()`, never deleted.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import os
import random
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TypedDict

from bench_pipeline.workloads.social.catalogue import QUERY_NAMES
from bench_pipeline.workloads.spec import sql_string

COLUMNS: list[tuple[str, str]] = [
    ("cell_run_id", "VARCHAR NOT NULL"),
    ("engine", "VARCHAR NOT NULL"),
    ("engine_version", "VARCHAR"),
    ("query", "VARCHAR NOT NULL"),
    ("threads_asked", "INTEGER NOT NULL"),
    ("threads_verified", "INTEGER"),
    ("oversubscribed", "BOOLEAN NOT NULL"),
    ("run_index", "INTEGER NOT NULL"),
    ("run_kind", "VARCHAR NOT NULL"),
    ("seconds", "DOUBLE"),
    ("status", "VARCHAR NOT NULL"),
    ("message", "VARCHAR"),
    ("startup_seconds", "DOUBLE"),
    ("baseline_rss_bytes", "BIGINT"),
    ("peak_rss_bytes", "BIGINT"),
    ("processes", "INTEGER"),
    ("answer_rows", "BIGINT"),
    ("timeout_seconds", "DOUBLE"),
    ("budget_bytes", "BIGINT"),
    ("dataset_fingerprint", "VARCHAR"),
    ("dataset_rows", "BIGINT"),
    ("python_version", "VARCHAR"),
    ("cpu_model", "VARCHAR"),
    ("logical_cores", "INTEGER"),
    ("total_memory_bytes", "BIGINT"),
    ("hostname", "VARCHAR"),
    ("dagster_run_id", "VARCHAR"),
    ("measured_at", "TIMESTAMP NOT NULL"),
    ("master_url", "VARCHAR"),
    ("executors", "INTEGER"),
    ("executor_cores", "INTEGER"),
    ("executor_memory", "VARCHAR"),
    ("data_layout", "VARCHAR"),
    ("cluster_start_seconds", "DOUBLE"),
    ("suite", "VARCHAR"),
    ("engine_limits", "VARCHAR"),
    ("plan", "VARCHAR"),
    ("checks", "VARCHAR"),
    ("background_cores", "DOUBLE"),
    ("load_avg", "DOUBLE"),
    ("noisy", "BOOLEAN"),
    ("kept", "BOOLEAN"),
    ("workload", "VARCHAR"),
    ("process_index", "INTEGER"),
]
COLUMN_NAMES = [c for c, _ in COLUMNS]
_PYTHON = {"VARCHAR": str, "INTEGER": int, "BIGINT": int, "DOUBLE": float, "BOOLEAN": bool, "TIMESTAMP": dt.datetime}
# One run of one query as the store holds it, derived from COLUMNS (a key it does not list is no column).
MeasurementRow = TypedDict("MeasurementRow", {c: _PYTHON[t.split()[0]] | None for c, t in COLUMNS}, total=False)
_REQUIRED = {c for c, t in COLUMNS if t.endswith("NOT NULL")}
SUITES = ("grid", "cluster", "modes", "sweep", "wars", "workload", "canary")
STATUSES = ("ok", "wrong_answer", "timeout", "oom", "error", "unsupported", "skipped")

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS measurements ({", ".join(f"{c} {t}" for c, t in COLUMNS)});
{"".join(f"ALTER TABLE measurements ADD COLUMN IF NOT EXISTS {c} {t.replace(' NOT NULL', '')};" for c, t in COLUMNS)}
UPDATE measurements SET suite = CASE WHEN master_url IS NULL THEN 'grid' ELSE 'cluster' END WHERE suite IS NULL;
CREATE OR REPLACE VIEW query_summary AS
SELECT cell_run_id, engine, any_value(engine_version) AS engine_version, query,
       threads_asked, any_value(threads_verified) AS threads_verified,
       bool_or(oversubscribed) AS oversubscribed,
       coalesce(arg_min(status, run_index) FILTER (WHERE status <> 'ok'), 'ok') AS status,
       arg_min(message, run_index) FILTER (WHERE status <> 'ok') AS message,
       count(*) FILTER (WHERE run_kind = 'warm' AND status = 'ok' AND kept IS NOT false) AS warm_runs,
       median(seconds) FILTER (WHERE run_kind = 'cold') AS cold_seconds,
       median(seconds) FILTER (WHERE run_kind = 'warm' AND kept IS NOT false) AS median_seconds,
       min(seconds) FILTER (WHERE run_kind = 'warm' AND kept IS NOT false) AS min_seconds,
       max(seconds) FILTER (WHERE run_kind = 'warm' AND kept IS NOT false) AS max_seconds,
       stddev_samp(seconds) FILTER (WHERE run_kind = 'warm' AND kept IS NOT false)
         / avg(seconds) FILTER (WHERE run_kind = 'warm' AND kept IS NOT false) AS cv,
       list(seconds ORDER BY run_index) FILTER (WHERE run_kind = 'warm' AND kept IS NOT false
                                                AND seconds IS NOT NULL) AS warm_list,
       count(*) FILTER (WHERE noisy AND run_kind = 'warm') AS noisy_runs,
       coalesce(bool_or(noisy) FILTER (WHERE run_kind = 'warm' AND kept IS NOT false), false) AS noisy,
       max(background_cores) AS background_cores,
       median(startup_seconds) AS startup_seconds,
       max(peak_rss_bytes) AS peak_rss_bytes,
       max(processes) AS processes,
       min(baseline_rss_bytes) AS baseline_rss_bytes,
       any_value(answer_rows) AS answer_rows,
       any_value(dataset_fingerprint) AS dataset_fingerprint,
       any_value(dataset_rows) AS dataset_rows,
       any_value(dagster_run_id) AS dagster_run_id,
       any_value(master_url) AS master_url, any_value(executors) AS executors,
       any_value(executor_cores) AS executor_cores, any_value(executor_memory) AS executor_memory,
       any_value(data_layout) AS data_layout, any_value(cluster_start_seconds) AS cluster_start_seconds,
       any_value(suite) AS suite, any_value(budget_bytes) AS budget_bytes,
       any_value(engine_limits) AS engine_limits, any_value(plan) AS plan,
       arg_max(checks, run_index) AS checks, any_value(workload) AS workload,
       max(measured_at) AS measured_at,
       count(DISTINCT coalesce(process_index, 0)) AS processes_measured,
       any_value(p.process_list) AS process_list
FROM measurements m LEFT JOIN (
  -- One value per process: the median of its kept warm runs (processes are the unit of replication).
  SELECT cell_run_id, query, list(s ORDER BY pi) FILTER (WHERE s IS NOT NULL) AS process_list FROM (
    SELECT cell_run_id, query, coalesce(process_index, 0) AS pi,
           median(seconds) FILTER (WHERE run_kind = 'warm' AND kept IS NOT false) AS s
    FROM measurements GROUP BY ALL) GROUP BY ALL) p USING (cell_run_id, query)
GROUP BY cell_run_id, engine, query, threads_asked;
"""

_LOCK_WAIT_S = 120.0
# DuckDB files carry this magic at byte 8 (after a checksum).
_MAGIC = (8, b"DUCK")


def measurement_row(values: MeasurementRow | Mapping) -> tuple:
    """One row of `measurements`, in the schema's column order: every key a documented column, every NOT NULL
    column given, `suite` one of SUITES (a ValueError names what is wrong, before anything is written)."""
    if unknown := set(values) - set(COLUMN_NAMES):
        raise ValueError(f"not columns of measurements: {', '.join(sorted(unknown))}")
    if missing := sorted(c for c in _REQUIRED | {"suite"} if values.get(c) is None):
        raise ValueError(f"measurement row without {', '.join(missing)}")
    if values["suite"] not in SUITES:
        raise ValueError(f"measurement row of unknown suite {values['suite']!r}; the store knows {', '.join(SUITES)}")
    return tuple(values.get(c) for c in COLUMN_NAMES)


class StoreError(RuntimeError):
    """The store cannot be used (its folder not writable, a file that is not a store): one line, exit 2."""


def _is_lock_error(exc: Exception) -> bool:
    """DuckDB's words for a file another process holds (not "block", which its corruption errors say)."""
    text = str(exc).lower()
    return "could not set lock" in text or "conflicting lock" in text


def probe_writable(folder: Path) -> None:
    """Create and remove a file in `folder` (OSError when that cannot be done): the one writability check."""
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=folder, prefix=".write-probe-"):
        pass


def existing_ancestor(path: Path) -> Path:
    """`path`, or its nearest folder that exists (where a file not made yet would go)."""
    path = Path(path).resolve()
    return next(p for p in [path, *path.parents] if p.exists())


def disk_of(path: Path) -> str:
    """The filesystem holding `path`, as `df` shows it: its device and where it is mounted."""
    import psutil  # keeps psutil off the import path of the settings

    where = existing_ancestor(path)
    mount = next(p for p in [where, *where.parents] if p.is_mount() or p == p.parent)
    device = next((d.device for d in psutil.disk_partitions(all=True) if Path(d.mountpoint) == mount), "?")
    return f"{device} mounted at {mount}"


def _is_full_disk(exc: Exception) -> bool:
    text = str(exc).lower()
    return "no space left" in text or "disk is full" in text or "disk full" in text


def is_duckdb_file(path: Path) -> bool:
    try:
        with open(path, "rb") as f:
            head = f.read(_MAGIC[0] + len(_MAGIC[1]))
    except OSError:
        return False
    return head[_MAGIC[0]:] == _MAGIC[1]


class ResultsStore:
    """The store at `path`. With `reader` (a factory of read-only connections as a context manager: the Dagster
    layer passes its DuckDBResource's `get_connection`), reads go through it and writes are refused."""

    def __init__(self, path: str | os.PathLike, reader: Callable[[], contextlib.AbstractContextManager] | None = None):
        self.path = Path(path)
        self.reader = reader

    def _refuse_if_read_only(self) -> None:
        if self.reader is not None:
            raise StoreError(f"results store {self.path} was opened read-only here; nothing can be written")

    def _connect(self, read_only: bool = False):
        import duckdb  # duckdb: only where it is used

        deadline = time.monotonic() + _LOCK_WAIT_S
        while True:
            try:
                if read_only and not self.path.exists():
                    self.path.parent.mkdir(parents=True, exist_ok=True)
                    self.init()
                if not read_only:
                    self.path.parent.mkdir(parents=True, exist_ok=True)
                return duckdb.connect(str(self.path), read_only=read_only)
            except duckdb.IOException as exc:
                if not _is_lock_error(exc):
                    raise
                if time.monotonic() > deadline:
                    raise StoreError(f"results store {self.path} is in use by another process for more than "
                                     f"{_LOCK_WAIT_S:.0f} s ({str(exc).splitlines()[0]})") from None
                time.sleep(0.05 + random.random() * 0.2)

    def check_writable(self) -> None:
        """Fail now, in one line, if rows could not be written later: a folder, an unwritable place."""
        if self.path.is_dir():
            raise StoreError(f"results store {self.path} is a folder, not a DuckDB file")
        try:
            probe_writable(self.path.parent)
        except OSError as exc:
            raise StoreError(f"results store {self.path}: its folder is not writable ({exc.strerror or exc})") \
                from None
        self.init()

    def recover(self, say=None) -> Path | None:
        """Open the store; if it cannot be opened (truncated, not a DuckDB file), move it aside and start anew.

        Returns where the old file went (it is kept, renamed with the time), or None when the store was fine.
        Cells whose rows were in the old file are stale from then on and measured again."""
        import duckdb  # duckdb: only where it is used

        say = say or (lambda line: print(line, file=sys.stderr, flush=True))
        if not self.path.exists():
            return None
        try:
            self.init()
            return None
        except duckdb.Error as exc:
            if _is_lock_error(exc):
                raise
        # Two commands finding the same broken store: one moves it aside, the other then finds the new one.
        with self._guard():
            try:
                self._init_schema()
                return None
            except duckdb.Error as exc:
                if _is_lock_error(exc):
                    raise
                problem = str(exc).splitlines()[0]
            return self._move_aside(problem, say)

    def _move_aside(self, problem: str, say) -> Path:
        stamp = dt.datetime.now().strftime("%Y%m%dT%H%M%S")
        aside = self.path.with_name(f"{self.path.name}.unreadable-{stamp}-{os.getpid()}")
        try:
            self.path.rename(aside)
            wal = self.path.with_name(self.path.name + ".wal")
            if wal.exists():
                wal.rename(aside.with_name(aside.name + ".wal"))
        except OSError as exc:
            raise StoreError(f"results store {self.path} cannot be opened ({problem}) nor moved aside "
                             f"({exc.strerror or exc})") from None
        say(f"bench-pipeline: results store {self.path} could not be opened ({problem}); moved aside to {aside}; "
            "a new store starts and the cells are measured again")
        self._init_schema()
        return aside

    def cell_run_ids(self) -> set[str]:
        """Every cell measured in this store (a cell's rows are written whole, so one id is one whole cell)."""
        if not self.path.exists():
            return set()
        return {r["cell_run_id"] for r in self.query("SELECT DISTINCT cell_run_id FROM measurements")}

    @contextlib.contextmanager
    def _guard(self):
        """Across processes: one creates or moves aside the file at a time, so no one opens a half-made one."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.with_name(f".{self.path.name}.guard"), "w") as guard:
            fcntl.flock(guard, fcntl.LOCK_EX)
            yield

    def _init_schema(self) -> None:
        con = self._connect()
        try:
            con.execute(_SCHEMA)
        finally:
            con.close()

    def init(self) -> None:
        if self.path.exists() and self.path.stat().st_size:
            self._init_schema()
            return
        with self._guard():  # a new store: created whole before anyone else opens it
            self._init_schema()

    def append(self, rows: Iterable[Mapping]) -> int:
        """Insert rows (each checked by `measurement_row`) in one transaction; return how many."""
        import duckdb  # duckdb: only where it is used

        rows = [measurement_row(r) for r in rows]
        if not rows:
            return 0
        self._refuse_if_read_only()
        con = self._connect()
        try:
            con.execute(_SCHEMA)
            con.execute("BEGIN TRANSACTION")
            con.executemany(
                f"INSERT INTO measurements ({', '.join(COLUMN_NAMES)}) "
                f"VALUES ({', '.join('?' for _ in COLUMN_NAMES)})",
                rows,
            )
            con.execute("COMMIT")
        except duckdb.Error as exc:
            if not _is_full_disk(exc):
                raise
            # The transaction is rolled back: the store keeps every earlier row and none of these.
            raise StoreError(f"results store {self.path}: its disk ({disk_of(self.path)}) is full; the cell's "
                             f"{len(rows)} rows were not written, and it is measured again") from None
        finally:
            con.close()
        return len(rows)

    def execute(self, statements: list[str], params: dict | None = None) -> None:
        """Run statements that write derived tables, in one transaction.

        Each statement gets only the named parameters it uses (DuckDB binds
        parameters per statement). `measurements` is only ever appended to.
        """
        self._refuse_if_read_only()
        con = self._connect()
        try:
            con.execute(_SCHEMA)
            con.execute("BEGIN TRANSACTION")
            for sql in statements:
                used = {k: v for k, v in (params or {}).items() if f"${k}" in sql}
                con.execute(sql, used)
            con.execute("COMMIT")
        finally:
            con.close()

    def query(self, sql: str, params: list | dict | None = None) -> list[dict]:
        """Run a read-only SQL query and return rows as dicts."""
        if self.reader is not None:
            with self.reader() as con:
                return _rows(con.execute(sql, params or []))
        con = self._connect(read_only=True)
        try:
            return _rows(con.execute(sql, params or []))
        finally:
            con.close()

    def import_from(self, other: Path) -> tuple[int, int]:
        """Append another store's measurements whose cell runs this store lacks: (rows, cell runs) added.

        Rows keep their own machine columns (hostname, CPU, cores, memory), so they stay that machine's. Importing
        twice adds nothing (a cell run is whole in a store, so its id says whether it is here). A file that is
        not a results store, or whose `measurements` lacks a column this store requires or has one it does not
        know, is refused with one line before anything is written."""
        import duckdb  # duckdb: only where it is used

        self._refuse_if_read_only()
        other = check_importable(Path(other), self.path)
        con = self._connect()
        try:
            con.execute(_SCHEMA)
            try:
                con.execute(f"ATTACH {sql_string(other)} AS other_store (READ_ONLY)")
            except duckdb.Error as exc:
                raise StoreError(f"{other}: cannot be opened ({str(exc).splitlines()[0]})") from None
            columns = {r[0] for r in con.execute(
                "SELECT column_name FROM duckdb_columns() WHERE database_name = 'other_store' "
                "AND table_name = 'measurements'").fetchall()}
            if not columns:
                raise StoreError(f"{other}: not a results store (no table measurements)")
            if missing := sorted(_REQUIRED - columns):
                raise StoreError(f"{other}: incompatible results store (no column {', '.join(missing)})")
            if unknown := sorted(columns - set(COLUMN_NAMES)):
                raise StoreError(f"{other}: incompatible results store (unknown column {', '.join(unknown)}; "
                                 "written by a newer bench_pipeline?)")
            shared = [c for c in COLUMN_NAMES if c in columns]
            new = "FROM other_store.measurements WHERE cell_run_id NOT IN (SELECT cell_run_id FROM measurements)"
            rows, cells = con.execute(f"SELECT count(*), count(DISTINCT cell_run_id) {new}").fetchone()
            con.execute("BEGIN TRANSACTION")
            con.execute(f"INSERT INTO measurements ({', '.join(shared)}) SELECT {', '.join(shared)} {new}")
            con.execute(_SCHEMA)  # an older store's NULL suites, migrated as this store's were
            con.execute("COMMIT")
            return rows, cells
        finally:
            con.close()

    def latest(self, where: str, params: list | dict, by: str) -> list[dict]:
        """The latest summary row (`query_summary`) of each `by` (columns that name a cell's query) among the
        rows `where` selects: what every suite's context and figures read ([] before anything was stored)."""
        if not self.path.exists():
            return []
        return self.query(latest_sql(by, where), params)

    def summary(self, cell_run_id: str) -> list[dict]:
        return self.query(
            "SELECT * FROM query_summary WHERE cell_run_id = ? ORDER BY list_position(?, query)",
            [cell_run_id, list(QUERY_NAMES)],
        )


def latest_sql(by: str, where: str) -> str:
    """The latest `query_summary` row of each `by` (the columns that name a cell's query) among the rows `where`
    selects: the one "latest per cell" query every suite's metrics and context read."""
    return (f"SELECT * EXCLUDE (rn) FROM (SELECT *, row_number() OVER (PARTITION BY {by} ORDER BY measured_at DESC)"
            f" AS rn FROM query_summary WHERE {where}) WHERE rn = 1")


def check_importable(other: Path, store_path: Path) -> Path:
    """StoreError unless `other` is a DuckDB file other than the store: checked before anything is created."""
    if not other.is_file():
        raise StoreError(f"{other}: no such file")
    if other.resolve() == store_path.resolve():
        raise StoreError(f"{other} is this results store")
    if not is_duckdb_file(other):
        raise StoreError(f"{other}: not a DuckDB file")
    return other


def _rows(cursor) -> list[dict]:
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
