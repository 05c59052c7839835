"""The state folder checked before anything is measured: usable, with room, its store openable.

Every command that keeps state calls `prepare()` first, after its arguments
are parsed and before its first measurement, so a state folder that is a file,
is not writable or is full, and a dataset that would not fit on the disk, each
end in one line (exit 2) instead of a traceback half-way through a run. A store
that cannot be opened is moved aside (see `ResultsStore.recover`), and the
scratch folders of workers that died are removed.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from bench_pipeline.harness import scratch
from bench_pipeline.report import fmt
from bench_pipeline.report.fmt import MiB
from bench_pipeline.results.store import ResultsStore, StoreError, disk_of, existing_ancestor, probe_writable

# Room kept free beyond the data: the store, plots, Dagster's records, engines' spill files.
MIN_FREE_BYTES = 256 * MiB
# posts.parquet measured at 105 bytes a row (200,000 rows, zstd); users.parquet about 1 MiB.
POSTS_BYTES_PER_ROW = 110
USERS_BYTES = 2 * MiB


class StateError(ValueError):
    """The state folder or the room on its disk cannot hold the run: one line, exit 2."""


def free_bytes(path: Path) -> int:
    return shutil.disk_usage(existing_ancestor(path)).free


def dataset_bytes(rows: int) -> int:
    """About how much disk a generated posts + users dataset of `rows` posts takes."""
    return rows * POSTS_BYTES_PER_ROW + USERS_BYTES


def check_room(where: Path, need: int, what: str) -> None:
    """`what` (e.g. 'argument --rows: 5,000,000 rows') needs about `need` bytes more under `where`."""
    free = free_bytes(where)
    if need + MIN_FREE_BYTES > free:
        raise StateError(f"{what} need about {fmt.size(need)} on disk (and {fmt.size(MIN_FREE_BYTES)} to spare); "
                         f"{existing_ancestor(where)} has {fmt.size(free)} free")


def check_datasets(where: Path, rows_by_folder: dict[Path, int], what: str = "argument --rows") -> None:
    """Room for every dataset not generated yet (folders that exist need nothing)."""
    todo = {folder: rows for folder, rows in rows_by_folder.items() if not folder.exists()}
    if todo:
        rows_text = " + ".join(f"{n:,}" for n in todo.values())
        check_room(where, sum(dataset_bytes(n) for n in todo.values()), f"{what}: {rows_text} rows")


def check_home(home: Path) -> None:
    """Writable, with room for the state (that it is a folder, Settings checked when it read settings.json)."""
    try:
        probe_writable(home)
    except OSError as exc:
        raise StateError(f"BENCH_HOME {home} is not writable ({exc.strerror or exc})") from None
    free = free_bytes(home)
    if free < MIN_FREE_BYTES:
        raise StateError(f"BENCH_HOME {home}: its disk ({disk_of(home)}) is full, {fmt.size(free)} free; the "
                         f"store and the state need at least {fmt.size(MIN_FREE_BYTES)}")


def open_store(store_path: Path) -> ResultsStore:
    """The store, moved aside and started anew if it cannot be opened, checked writable (StoreError if not)."""
    store = ResultsStore(store_path)
    store.recover()
    store.check_writable()
    return store


def prepare(home: Path, store_path: Path) -> ResultsStore:
    """Check the state folder and the store, before the first measurement; return the store."""
    check_home(home)
    try:
        store = open_store(store_path)
    except StoreError as exc:
        raise StateError(str(exc)) from None
    scratch.remove_dead()
    return store
