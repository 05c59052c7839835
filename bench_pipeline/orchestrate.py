"""`bench-pipeline run`: the whole benchmark through Dagster on the persistent instance.

Observe engine versions, materialize the dataset if it is missing, materialize
each stale or missing cell among those asked (one run per cell, as a backfill
would), then metrics, plots and report. Every run lands in the same instance
the UI reads, so the UI shows them.
"""

import contextlib
import fcntl
import os
import sys
import time
from dataclasses import dataclass, field

import dagster as dg

from bench_pipeline.defs.partitions import add_thread_partitions, grid_keys
from bench_pipeline.defs.resources import BenchSettings
from bench_pipeline.defs.runs import DECIDED_AT, owner_tags, pool_holders, reap_dead_runs
from bench_pipeline.defs.staleness import cell_staleness, current_dataset_version, grid_staleness
from bench_pipeline.dataset import DatasetError, open_dataset
from bench_pipeline.harness import interrupt
from bench_pipeline.queries import QUERY_NAMES
from bench_pipeline.settings import Settings

_MARK = "# Written by bench_pipeline."
DAGSTER_YAML = f"""\
{_MARK} One benchmark cell at a time per machine (pool
# `bench_cells`, every pool limited to 1) and one run at a time from the queue.
# Run monitoring lets the daemon fail runs stuck starting and free the slots of
# ended runs; runs whose process died are failed by bench_pipeline's reaper.
concurrency:
  pools:
    default_limit: 1
  runs:
    max_concurrent_runs: 1
run_monitoring:
  enabled: true
  start_timeout_seconds: 300
  free_slots_after_run_end_seconds: 30
telemetry:
  enabled: false
"""
# Dagster's console logger stays silent: the CLI draws progress and prints each failed cell in one line.
QUIET = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}


class DatasetBuildError(RuntimeError):
    pass


class Observer:
    """What a pipeline command tells its display (the CLI's progress bars); every method may be left as is."""

    def step(self, what: str) -> None:
        """A step that is not a cell starts: building a dataset, the plots and report."""

    def cells(self, names: list[str], estimates: dict[str, float]) -> None:
        """The stale cells about to be measured, and for some of them the seconds their last measurement took."""

    def cell_start(self, name: str, reason: str, queries: int) -> None:
        """A cell starts: why it is measured, and how many queries it runs."""


_observers: list[Observer] = []


@contextlib.contextmanager
def observing(observer: Observer):
    _observers.append(observer)
    try:
        yield
    finally:
        _observers.remove(observer)


def _tell() -> Observer:
    return _observers[-1] if _observers else Observer()


@dataclass
class PipelineResult:
    cells_run: list[str] = field(default_factory=list)
    cells_fresh: list[str] = field(default_factory=list)
    cells_failed: list[str] = field(default_factory=list)
    stale_reasons: dict[str, str] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)  # failed cell -> why, in a line
    plots: list[str] = field(default_factory=list)
    report: str | None = None
    outputs_error: str | None = None
    # When the cells' staleness was decided: a cell another run measures after this is not measured again.
    decided_at: float = field(default_factory=time.time)


def prepare_instance(settings: Settings) -> dg.DagsterInstance:
    """The persistent instance under settings.dagster_home, with the pool limits in place, its dead runs
    reaped. Two commands starting at once on a new state folder create its storage one after the other."""
    home = settings.dagster_home.resolve()
    home.mkdir(parents=True, exist_ok=True)
    os.environ["DAGSTER_HOME"] = str(home)
    with open(home / ".bench-init.lock", "w") as guard:
        fcntl.flock(guard, fcntl.LOCK_EX)
        config = home / "dagster.yaml"
        if not config.exists() or (config.read_text().startswith(_MARK) and config.read_text() != DAGSTER_YAML):
            tmp = config.with_suffix(".tmp")
            tmp.write_text(DAGSTER_YAML)
            tmp.replace(config)
        instance = dg.DagsterInstance.get()
        instance.get_run_records(limit=1)  # creates the run storage while the guard is held
        instance.event_log_storage.get_concurrency_keys()
        reap_dead_runs(instance)
    return instance


def _resources(settings: Settings, spark_cluster: dict | None = None, wars=None) -> dict:
    import dataclasses

    from bench_pipeline.defs.cluster import SparkCluster
    from bench_pipeline.defs.wars import WarsConfig

    bench = BenchSettings(home=str(settings.home.resolve()), rows=settings.rows, seed=settings.seed,
                          repeats=settings.repeats, max_repeats=settings.max_repeats, precision=settings.precision,
                          query_budget_s=settings.query_budget_s, timeout_s=settings.timeout_s,
                          budget_mib=settings.budget_mib,
                          engines=list(settings.engines), threads=list(settings.threads),
                          sweep_rows=list(settings.sweep_rows), sweep_budget_mib=settings.sweep_budget_mib,
                          sweep_repeats=settings.sweep_repeats, modes_rows=settings.modes_rows)
    return {"bench": bench, "spark_cluster": SparkCluster(**(spark_cluster or {})),
            "wars": WarsConfig(**(dataclasses.asdict(wars) if wars else {}))}


def _materialize(instance, selection, settings: Settings, partition_key: str | None = None,
                 resources: dict | None = None, tags: dict | None = None):
    from bench_pipeline.definitions import defs

    assets = list(defs.assets)
    return dg.materialize(assets, selection=selection, partition_key=partition_key, instance=instance,
                          resources=resources or _resources(settings), run_config=QUIET, raise_on_error=False,
                          tags={"bench/source": "cli", **owner_tags(), **(tags or {})})


def _observe_engines(instance) -> None:
    from bench_pipeline.definitions import defs

    defs.resolve_job_def("observe_engine_versions").execute_in_process(instance=instance, run_config=QUIET)


def _dataset_is_current(instance, settings: Settings) -> bool:
    try:
        ds = open_dataset(settings.data_dir)
    except DatasetError:
        return False
    return current_dataset_version(instance) == ds.fingerprint()


def _prepare(settings: Settings) -> dg.DagsterInstance:
    """The instance, engine versions observed, and the dataset built if it is not current."""
    instance = prepare_instance(settings)
    _observe_engines(instance)
    if not _dataset_is_current(instance, settings):
        _tell().step(f"dataset: {settings.rows:,} rows (generated once, then reused)")
        r = _materialize(instance, ["dataset"], settings)
        if not r.success:
            raise DatasetBuildError(f"the dataset could not be built: {_failure_message(r)}")
    return instance


def _run_stale(instance, asset: str, stale: dict[str, str | None], settings: Settings, result: PipelineResult,
               resources: dict | None = None, queries: int = len(QUERY_NAMES), label=lambda key: key,
               estimate=lambda key: None) -> None:
    """Materialize each stale cell of `asset`, one run per cell, as a backfill would.

    The observer is told the stale cells first (with `estimate(key)`: seconds, from earlier
    measurements), then each cell as it starts; `label` names a partition key in the result
    (the Engine Wars: 'workload:engine')."""
    todo = [key for key, reason in stale.items() if reason is not None]
    _tell().cells([label(k) for k in todo], {label(k): e for k in todo if (e := estimate(k))})
    for key, reason in stale.items():
        if interrupt.requested():
            raise interrupt.Interrupted("between two cells")
        name = label(key)
        if reason is None:
            result.cells_fresh.append(name)
            continue
        if holders := pool_holders(instance):
            print(f"bench-pipeline: cell {name} waits for the bench_cells pool, held by {', '.join(holders)}",
                  file=sys.stderr, flush=True)
        _tell().cell_start(name, reason, queries)
        r = _materialize(instance, [asset], settings, partition_key=key, resources=resources,
                         tags={DECIDED_AT: f"{result.decided_at:.6f}"})
        if interrupt.requested():
            raise interrupt.Interrupted(
                f"after cell {name} was measured and stored" if r.success else
                f"while measuring cell {name}; nothing of that cell was stored, the next run measures it again")
        if r.success and _measured_by_another_run(r):
            result.cells_fresh.append(name)
            continue
        result.stale_reasons[name] = reason
        if r.success:
            result.cells_run.append(name)
        else:
            result.cells_failed.append(name)
            result.failures[name] = _failure_message(r)


def _measured_by_another_run(r) -> bool:
    """The cell step found the cell measured by a run that started after this one decided (see measure_cell)."""
    return any("measured_by_run" in (e.materialization.metadata or {}) for e in r.get_asset_materialization_events())


def _outputs(instance, settings: Settings, result: PipelineResult, selection: list[str],
             resources: dict | None = None) -> None:
    if not (result.cells_run or result.cells_failed) and _outputs_are_current(instance, settings):
        r = None
    else:
        _tell().step(f"outputs: {', '.join(selection)}")
        r = _materialize(instance, selection, settings, resources=resources)
    if r is None or r.success:
        result.plots = [str(p) for p in sorted(settings.plots_dir.resolve().glob("*.png"))]
        result.report = str(settings.report_path.resolve())
    else:
        result.outputs_error = _failure_message(r)


def _grid_estimate(settings: Settings):
    """key -> seconds the cell's latest measurement on data of this size took (from the store), or None."""
    from bench_pipeline.store import ResultsStore

    store = ResultsStore(settings.store_path)
    # Runs, engine start-ups, and about 1.5 s a query to start its worker and check its answer.
    rows = store.query(
        "WITH cells AS (SELECT engine, threads_asked, cell_run_id, max(measured_at) AS t1, "
        "  sum(coalesce(seconds, 0)) + sum(coalesce(startup_seconds, 0)) FILTER (WHERE run_index = 0) "
        "  + 1.5 * count(DISTINCT query) AS s "
        "  FROM measurements WHERE suite IS NULL AND master_url IS NULL AND dataset_rows = ? GROUP BY ALL) "
        "SELECT engine, threads_asked, arg_max(s, t1) AS seconds FROM cells GROUP BY ALL", [settings.rows]) \
        if store.path.exists() else []
    seen = {f"{r['engine']}|{r['threads_asked']}": r["seconds"] for r in rows}
    return lambda key: seen.get(key)


def run_pipeline(settings: Settings) -> PipelineResult:
    keys = grid_keys(settings.engines, settings.threads)  # before anything is written
    instance = _prepare(settings)
    add_thread_partitions(instance, settings.threads)
    result = PipelineResult()
    _run_stale(instance, "benchmark_cells", grid_staleness(instance, keys, settings), settings, result,
               estimate=_grid_estimate(settings))
    _outputs(instance, settings, result, ["metrics", "speedup_plots", "benchmark_report"])
    return result


def run_cluster(settings: Settings, executors: list[int], layouts: list[str], spark_cluster: dict) -> PipelineResult:
    """The cluster cells asked for, plus the local cells they are compared with, then analysis and report.

    The comparison needs Spark local[n] and the single-node engines at the
    machine's cores on the same data: their stale cells are measured too.
    """
    from bench_pipeline.defs.cluster import CLUSTER_CELLS, CLUSTER_KEY
    from bench_pipeline.harness import provenance

    keys = [f"{n}|{layout}" for n in executors for layout in layouts]
    outside = [k for k in keys if k not in set(CLUSTER_CELLS.get_partition_keys())]
    if outside:
        raise ValueError(f"cluster cells {', '.join(outside)} are outside the grid "
                         f"{', '.join(CLUSTER_CELLS.get_partition_keys())} (BENCH_CLUSTER_EXECUTORS sets it)")
    cores = provenance.logical_cores()
    local_keys = grid_keys(settings.engines, [cores])
    instance = _prepare(settings)
    add_thread_partitions(instance, [cores])
    result = PipelineResult()
    resources = _resources(settings, spark_cluster)
    if any(k.endswith("|partitioned") for k in keys):
        _tell().step("posts partitioned by category (for the cluster)")
        r = _materialize(instance, ["posts_partitioned"], settings)
        if not r.success:
            raise DatasetBuildError(f"the partitioned copy could not be written: {_failure_message(r)}")
    _run_stale(instance, "spark_cluster_cells",
               cell_staleness(instance, keys, settings.repeats, CLUSTER_KEY, engine_of=lambda key: "pyspark"),
               settings, result, resources)
    _run_stale(instance, "benchmark_cells", grid_staleness(instance, local_keys, settings), settings,
               result, estimate=_grid_estimate(settings))
    _outputs(instance, settings, result, ["cluster_analysis", "metrics", "speedup_plots", "benchmark_report"])
    return result


def wars_staleness(instance, wars, repeats: int) -> dict[str, dict[str, str | None]]:
    """workload -> engine -> why its cell is stale, or None (the same rules as the engine x threads cells)."""
    from bench_pipeline.defs.wars import WARS_DATASET_KEY, workload_key
    from bench_pipeline.suites.wars.cells import suite_code_hash, wars_engine_path, wars_signature
    from bench_pipeline.suites.wars.workloads import WORKLOADS

    return {name: cell_staleness(instance, list(w.engines), repeats, workload_key(name),
                                 engine_of=lambda key, n=name: wars_engine_path(n, key), signature_of=wars_signature,
                                 dataset_key=WARS_DATASET_KEY, harness_version=suite_code_hash,
                                 expected={"threads_asked": wars.thread_count})
            for name, w in WORKLOADS.items()}


def run_wars(settings: Settings, wars) -> PipelineResult:
    """The Engine Wars suite: its data if not current, each workload's stale cells, then summary and report.

    Cell names in the result read 'workload:engine'. Engines that are not
    installed materialize as `skipped` with the reason (and count as run).
    """
    from bench_pipeline.defs.wars import WARS_DATASET_KEY, workload_key
    from bench_pipeline.suites.wars.data import WarsDataError, open_wars

    instance = prepare_instance(settings)
    resources = _resources(settings, wars=wars)
    try:
        data = open_wars(wars.data_dir(settings.home, settings.seed), wars.events_rows, wars.sales_rows,
                         wars.images, settings.seed)
        current = current_dataset_version(instance, WARS_DATASET_KEY) == data.fingerprint()
    except WarsDataError:
        current = False
    if not current:
        _tell().step("Engine Wars data: events, sales.csv, images")
        r = _materialize(instance, ["wars_dataset"], settings, resources=resources)
        if not r.success:
            raise DatasetBuildError(f"the Engine Wars data could not be built: {_failure_message(r)}")
    result = PipelineResult()
    for name, stale in wars_staleness(instance, wars, settings.repeats).items():
        _run_stale(instance, workload_key(name).to_user_string(), stale, settings, result, resources,
                   queries=1, label=lambda engine, name=name: f"{name}:{engine}")
    _outputs(instance, settings, result, ["wars_summary", "benchmark_report"], resources)
    return result


def run_limits(settings: Settings) -> PipelineResult:
    """The limits suite: Polars' modes, the size sweep under the budget, the cells that measure parallelism.

    From a fresh state: the sweep's datasets, the engine x {1, cores} threads cells
    (the capability table's "parallel" evidence), the three Polars modes, the
    engine x size cells under the budget; then analysis, plots and report. Each
    part is measured again only when stale.
    """
    from bench_pipeline.defs.limits import MODES_KEY, SWEEP_DATASET_KEY, SWEEP_KEY, SWEEP_ROWS
    from bench_pipeline.harness import provenance
    from bench_pipeline.suites.limits.metrics import MODE_QUERIES, MODES, SWEEP_QUERIES, sweep_engines

    cores = provenance.logical_cores()
    threads = sorted({1, cores})
    grid = grid_keys(settings.engines, threads)
    instance = _prepare(settings)
    add_thread_partitions(instance, threads)
    result = PipelineResult()
    sizes = [str(n) for n in settings.limits_rows]
    instance.add_dynamic_partitions(SWEEP_ROWS.name, [n for n in sizes if not instance.has_dynamic_partition(
        SWEEP_ROWS.name, n)])
    versions = {}
    for n in sizes:
        try:
            current = open_dataset(settings.data_dir_for(int(n))).fingerprint()
        except DatasetError:
            current = None
        versions[n] = current_dataset_version(instance, SWEEP_DATASET_KEY, n)
        if current is None or versions[n] != current:
            _tell().step(f"dataset: {int(n):,} rows for the sweep")
            r = _materialize(instance, ["sweep_dataset"], settings, partition_key=n)
            if not r.success:
                raise DatasetBuildError(f"the {int(n):,}-row dataset could not be built: {_failure_message(r)}")
            versions[n] = current_dataset_version(instance, SWEEP_DATASET_KEY, n)
    _run_stale(instance, "benchmark_cells", grid_staleness(instance, grid, settings), settings, result)
    if "polars" in settings.engines:
        modes = cell_staleness(instance, list(MODES), settings.repeats, MODES_KEY, engine_of=MODES.get,
                               dataset_version_of=lambda key: versions[str(settings.modes_rows)],
                               expected={"modes_rows": settings.modes_rows})
        _run_stale(instance, "polars_modes", modes, settings, result, queries=len(MODE_QUERIES))
    keys = [f"{e}|{n}" for e in sweep_engines(settings.engines) for n in settings.sweep_rows]
    sweep = cell_staleness(instance, keys, settings.sweep_repeats, SWEEP_KEY, engine_of=lambda k: k.split("|")[0],
                           dataset_version_of=lambda k: versions[k.split("|")[1]],
                           expected={"budget_bytes": settings.sweep_budget_bytes})
    _run_stale(instance, "sweep_cells", sweep, settings, result, queries=len(SWEEP_QUERIES))
    _outputs(instance, settings, result, ["limits_analysis", "metrics", "speedup_plots", "benchmark_report"])
    return result


_CELL_ASSETS = ("benchmark_cells", "spark_cluster_cells", "sweep_cells", "polars_modes")


def _outputs_are_current(instance, settings: Settings) -> bool:
    """The report exists and was materialized after the latest cell of every grid and workload."""
    from bench_pipeline.defs.wars import workload_key
    from bench_pipeline.suites.wars.workloads import WORKLOAD_NAMES

    report = instance.get_latest_materialization_event(dg.AssetKey("benchmark_report"))
    keys = [*(dg.AssetKey(k) for k in _CELL_ASSETS), *(workload_key(w) for w in WORKLOAD_NAMES)]
    cells = [instance.get_latest_materialization_event(k) for k in keys]
    return (settings.report_path.exists() and report is not None
            and all(c is None or report.timestamp > c.timestamp for c in cells))


def _failure_message(r) -> str:
    for event in r.all_events:
        if event.is_step_failure:
            err = event.step_failure_data.error
            return err.message.strip() if err else "step failed"
    return "run failed"


def ui_command(settings: Settings, host: str, port: int) -> list[str]:
    add_thread_partitions(prepare_instance(settings), settings.threads)  # the grid the settings ask for
    return [sys.executable, "-m", "dagster", "dev", "-m", "bench_pipeline.definitions", "-h", host, "-p", str(port)]

