"""The grid's cells: one engine at one thread count (keys 'duckdb|4'), the catalogue's grid queries each in a
fresh process, cold and warm runs, into the results store."""

from __future__ import annotations

import functools

from bench_pipeline.config.settings import Settings
from bench_pipeline.data.dataset import DatasetError, open_dataset
from bench_pipeline.engines import default_engines
from bench_pipeline.harness.instrument import CellSpec
from bench_pipeline.results.store import ResultsStore
from bench_pipeline.results.versions import measured_with
from bench_pipeline.suites import CellGroup, DataStep
from bench_pipeline.workloads.social.catalogue import QUERY_NAMES

ASSET = "benchmark_cells"
DATASET = "dataset"


def cell_key(engine: str, threads: int) -> str:
    return f"{engine}|{threads}"


def split_key(key: str) -> tuple[str, int]:
    engine, threads = key.split("|")
    return engine, int(threads)


def grid_keys(engines, threads) -> list[str]:
    """The cell keys of an engines x threads selection; ValueError names an engine that is not installed."""
    valid = default_engines()
    outside = [e for e in engines if e not in valid]
    if outside:
        raise ValueError(f"engines {', '.join(outside)} are not installed here; the grid's engines are "
                         f"{', '.join(valid)}")
    return [cell_key(e, t) for e in engines for t in threads]


def fingerprint_of(path):
    """The fingerprint of the posts dataset in `path`, or None when it is not there."""
    try:
        return open_dataset(path).fingerprint()
    except DatasetError:
        return None


def dataset_step(s: Settings) -> DataStep:
    return DataStep(DATASET, f"dataset: {s.rows:,} rows (generated once, then reused)",
                    lambda: fingerprint_of(s.data_dir))


def cell_spec(s: Settings, key: str, data) -> CellSpec:
    engine, threads = split_key(key)
    return CellSpec(engine, threads, data, repeats=s.repeats, timeout_s=s.timeout_s, budget_bytes=s.budget_bytes,
                    query_budget_s=s.query_budget_s)


def cell_measured_with(s: Settings, key: str, data) -> dict:
    engine, threads = split_key(key)
    return measured_with(engine, threads, data, s.repeats, s.grid_cell_settings)


def group(s: Settings, threads=None) -> CellGroup:
    """The engine x threads cells of the settings (or of other thread counts: the cluster and limits suites
    compare with the grid's cells at the machine's cores)."""
    threads = tuple(threads or s.threads)
    data = functools.cache(lambda: open_dataset(s.data_dir))
    return CellGroup(ASSET, grid_keys(s.engines, threads), lambda key: cell_measured_with(s, key, data()),
                     queries=len(QUERY_NAMES), spec=lambda key: cell_spec(s, key, data()),
                     latest_rows=lambda keys: latest_rows(s, keys, data()), estimate=estimate(s),
                     dynamic_partitions={"threads": [str(t) for t in threads]})


def latest_rows(s: Settings, keys: list[str], data) -> list[dict]:
    """The latest grid measurement of each of these cells' queries on the dataset (summary rows, `key` added)."""
    rows = ResultsStore(s.store_path).latest("suite = 'grid' AND dataset_fingerprint = ?", [data.fingerprint()],
                                             "engine, threads_asked, query")
    wanted = set(keys)
    return [{**r, "key": k} for r in rows if (k := cell_key(r["engine"], r["threads_asked"])) in wanted]


def estimate(s: Settings):
    """key -> seconds the cell's latest measurement on data of this size took (from the store), or None."""
    store = ResultsStore(s.store_path)
    # Runs, engine start-ups, and about 1.5 s a query to start its worker and check its answer.
    rows = store.query(
        "WITH cells AS (SELECT engine, threads_asked, cell_run_id, max(measured_at) AS t1, "
        "  sum(coalesce(seconds, 0)) + sum(coalesce(startup_seconds, 0)) FILTER (WHERE run_index = 0) "
        "  + 1.5 * count(DISTINCT query) AS s "
        "  FROM measurements WHERE suite = 'grid' AND dataset_rows = ? GROUP BY ALL) "
        "SELECT engine, threads_asked, arg_max(s, t1) AS seconds FROM cells GROUP BY ALL", [s.rows]) \
        if store.path.exists() else []
    seen = {cell_key(r["engine"], r["threads_asked"]): r["seconds"] for r in rows}
    return lambda key: seen.get(key)
