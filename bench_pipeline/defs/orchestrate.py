"""What the CLI drives: a suite through Dagster on the persistent instance (public API: `run_suite`).

For any suite (its descriptor in `suites/`): observe engine versions, build
the data that is not current, measure the stale or missing cells among those
asked with the one instrument (every group of the suite together, in
interleaved rounds under the command's time budget: harness/instrument.py),
record each whole cell as its own Dagster run of its partition, then the
suite's outputs (analysis, plots, report). Every run lands in the same instance
the UI reads, so the UI shows them. `materialize` is the one way this package
starts a run.
"""

import contextlib
import fcntl
import os
import sys
import time
from dataclasses import dataclass, field

import dagster as dg

from bench_pipeline import suites
from bench_pipeline.analysis import calibration, history
from bench_pipeline.config.settings import Settings
from bench_pipeline.defs.common import measured_since
from bench_pipeline.defs.definitions import defs
from bench_pipeline.defs.partitions import add_partitions
from bench_pipeline.defs.resources import BenchSettings, resources
from bench_pipeline.defs.runs import DECIDED_AT, POOL, RECORDED, owner_tags, reap_dead_runs
from bench_pipeline.defs.staleness import CODE_VERSION_TAG, current_data_version, stale
from bench_pipeline.harness import interrupt, rounds
from bench_pipeline.harness.instrument import measure_cells
from bench_pipeline.harness.machine_lock import measurement_lock, this_command
from bench_pipeline.results.store import ResultsStore
from bench_pipeline.suites import BuildFailed, CellGroup, SuiteConfig

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


class Observer:
    """What a pipeline command tells its display (the CLI's progress bars); every method may be left as is."""

    def step(self, what: str) -> None:
        """A step that is not a cell starts: building a dataset, the plots and report."""

    def rounds_observer(self) -> rounds.Observer | None:
        """What is told about interleaved rounds (None: nothing)."""
        return None


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
class SuiteResult:
    cells_run: list[str] = field(default_factory=list)
    cells_fresh: list[str] = field(default_factory=list)
    cells_failed: list[str] = field(default_factory=list)
    stale_reasons: dict[str, str] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)  # failed cell -> why, in a line
    plots: list[str] = field(default_factory=list)
    report: str | None = None
    outputs_error: str | None = None
    changes: list[str] = field(default_factory=list)  # regressions and improvements the cells run here showed
    # When the cells' staleness was decided: a cell another run measures after this is not measured again.
    decided_at: float = field(default_factory=time.time)
    # The interleaved rounds (groups measured in rounds): how they ended, what stayed open.
    round_outcome: rounds.Outcome | None = None
    cells_left: list[str] = field(default_factory=list)  # stale cells the budget left unmeasured (still stale)
    budget_note: str | None = None


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


def fail_my_runs(settings: Settings) -> None:
    """Mark this process's runs failed and free their pool slots (a command stopping without waiting)."""
    reap_dead_runs(prepare_instance(settings), owned_by_me=True)


def materialize(instance, selection: list[str], run: SuiteConfig, partition_key: str | None = None,
                tags: dict | None = None):
    """Materialize `selection` (asset names) of the one Definitions in this process, with the run's settings
    as the `bench` resource, quietly, owned by this process; the result says whether it succeeded."""
    return dg.materialize(list(defs.assets), selection=selection, partition_key=partition_key, instance=instance,
                          resources=resources(BenchSettings.for_run(run)),
                          run_config=QUIET, raise_on_error=False,
                          tags={"bench/source": "cli", **owner_tags(), **(tags or {})})


def _observe_engines(instance) -> None:
    defs.resolve_job_def("observe_engine_versions").execute_in_process(instance=instance, run_config=QUIET)


def run_suite(name: str, run: SuiteConfig) -> SuiteResult:
    """One suite: its data where not current, its stale cells measured together in rounds, then its outputs."""
    suite = suites.get(name)
    deadline = time.monotonic() + run.time_budget_s  # the rounds' budget counts from here, data included
    instance = prepare_instance(run.main)
    _observe_engines(instance)
    for step in suite.data(run):
        if step.fingerprint() is None or current_data_version(instance, step.asset, step.partition) \
                != step.fingerprint():
            _tell().step(step.what)
            add_partitions(instance, {_partitions_name(step.asset): [step.partition]} if step.partition else {})
            r = materialize(instance, [step.asset], run, partition_key=step.partition)
            if not r.success:
                raise BuildFailed(f"{step.what.split(' (')[0]} could not be built: {_failure_message(r)}")
    result = SuiteResult()
    store = ResultsStore(run.main.store_path)
    in_store = store.cell_run_ids()  # read once: a group's cells are its own
    groups = suite.cells(run)
    _measure(instance, suite, groups, {g.asset: stale(instance, g, run, in_store) for g in groups}, run, result,
             deadline)
    if measured := store.cell_run_ids() - in_store:
        result.changes = [c.line() for c in history.changes(store, run.main.regression_threshold, measured)]
    _outputs(instance, run, result, [*suite.outputs, "history"])
    return result


def refresh_outputs(settings: Settings) -> str:
    """The history and the report rebuilt from the store as it is (after `import`); the report's path."""
    r = materialize(prepare_instance(settings), ["history", "benchmark_report"], SuiteConfig(settings))
    if not r.success:
        raise BuildFailed(f"the report could not be written: {_failure_message(r)}")
    return str(settings.report_path.resolve())


def _partitions_name(asset: str) -> str:
    """The dynamic partitions of a partitioned data asset (the sweep's sizes)."""
    return defs.get_assets_def(asset).partitions_def.name


# Seconds kept back from the budget per cell measured, for recording it in Dagster, and for the outputs.
_RECORD_S, _OUTPUTS_S = 3.0, 45.0


def _measure(instance, suite, groups: list[CellGroup], stale: dict[str, dict[str, str | None]], run: SuiteConfig,
             result: SuiteResult, deadline: float) -> None:
    """The suite's stale cells, every group's together, measured in interleaved rounds until their questions are
    decided or the budget is spent (harness/rounds.py); then each whole cell recorded as its own Dagster run (its
    partition's materialization, checks and metadata, as a cell measured alone has). A cell the budget left
    with a query unmeasured is not recorded: it stays stale, and is named."""
    by_asset = {g.asset: g for g in groups}
    todo = {(g.asset, k): why for g in groups for k, why in stale[g.asset].items() if why is not None}
    result.cells_fresh += [g.label(k) for g in groups for k, why in stale[g.asset].items() if why is None]
    if not todo:
        return
    # The measuring and the recording under the machine's lock, so that a second command waiting for it finds the
    # cells measured and recorded, and measures none of them again (as a cell measured alone: measure_cell).
    with measurement_lock(this_command()):
        store = ResultsStore(run.main.store_path)
        store.check_writable()  # before measuring: the rows go there when each cell is recorded
        for cell in list(todo):
            group = by_asset[cell[0]]
            if measured_since(instance, dg.AssetKey(cell[0]), cell[1], result.decided_at, store,
                              group.measured_with(cell[1])) is not None:
                del todo[cell]
                result.cells_fresh.append(group.label(cell[1]))
        if todo:
            _measure_and_record(instance, suite, by_asset, todo, run, result, deadline, store)


def _measure_and_record(instance, suite, by_asset: dict[str, CellGroup], todo: dict[tuple[str, str], str],
                        run: SuiteConfig, result: SuiteResult, deadline: float, store: ResultsStore) -> None:
    """The rounds over the stale cells, then each whole cell recorded (and stored) as its own Dagster run."""
    def label(cell):
        return by_asset[cell[0]].label(cell[1])

    context = [r for g in by_asset.values() for r in g.context([k for k in g.keys if (g.asset, k) not in todo])]
    specs = {cell: by_asset[cell[0]].spec(cell[1]) for cell in todo}
    estimates = {cell: e for cell in todo if (e := by_asset[cell[0]].estimate(cell[1]))}
    labels = {(g.asset, k): g.titled(k) for g in by_asset.values() for k in g.keys}
    prior, _ = calibration.prior(run.main.home)
    reserve = _OUTPUTS_S + _RECORD_S * len(todo)
    outcome, measured = measure_cells(specs, context, None, deadline - reserve, prior,
                                      lambda ms, noise: suite.questions(run, ms, noise),
                                      previous=_previous(instance, specs, store), estimates=estimates, labels=labels,
                                      observer=_tell().rounds_observer(), most_processes=run.main.max_processes)
    result.round_outcome = outcome
    result.cells_left = [label(c) for c in outcome.unmeasured]
    if outcome.unmeasured:
        result.budget_note = (f"the time budget ({run.time_budget_s:g} s) did not reach every stale cell, the "
                              f"recommendation's first: {len(outcome.unmeasured)} cells left stale "
                              f"({', '.join(result.cells_left)}); the next run measures them")
    # Each whole cell is recorded, even after an interrupt: its Dagster run's step stores its rows (PENDING), so a
    # kill leaves a cell both stored and materialized, or neither.
    for cell, cell_result in measured.items():
        name = label(cell)
        result.stale_reasons[name] = todo[cell]
        rounds.PENDING[cell_result.cell_run_id] = cell_result
        r = materialize(instance, [cell[0]], run, partition_key=cell[1],
                        tags={DECIDED_AT: f"{result.decided_at:.6f}", RECORDED: cell_result.cell_run_id})
        if r.success:
            result.cells_run.append(name)
        else:
            result.cells_failed.append(name)
            result.failures[name] = _failure_message(r)
    if outcome.interrupted is not None or interrupt.requested():
        kept = ", ".join(label(c) for c in measured)
        where = "in round 1" if not outcome.later else "after round 1"
        raise interrupt.Interrupted(
            f"{where} of the measurements; " + (
                f"the whole cells were stored ({kept}); the next run measures the rest" if measured else
                "no cell had every query measured, nothing was stored; the next run measures them again"))


def _previous(instance, specs: dict, store: ResultsStore) -> dict[tuple[str, str], list[dict]]:
    """Each stale cell's previous measurement on the same data (summary rows of its latest materialization that
    the store holds): the history's question asks whether the new one differs."""
    out = {}
    for (asset, key), spec in specs.items():
        records = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=dg.AssetKey(asset), asset_partitions=[key]), limit=1).records
        if not records:
            continue
        meta = records[0].asset_materialization.metadata.get("cell_run_id")
        cell_run_id = getattr(meta, "value", meta)
        rows = store.summary(cell_run_id) if cell_run_id else []
        fingerprint = spec.data.fingerprint()
        if rows := [r for r in rows if r["dataset_fingerprint"] == fingerprint]:
            out[(asset, key)] = rows
    return out


def _outputs(instance, run: SuiteConfig, result: SuiteResult, selection: list[str]) -> None:
    s = run.main
    if not (result.cells_run or result.cells_failed) and _outputs_are_current(instance, s):
        r = None
    else:
        _tell().step(f"outputs: {', '.join(selection)}")
        r = materialize(instance, selection, run)
    if r is None or r.success:
        result.plots = [str(p) for p in sorted(s.plots_dir.resolve().glob("*.png"))]
        result.report = str(s.report_path.resolve())
    else:
        result.outputs_error = _failure_message(r)


def _outputs_are_current(instance, settings: Settings) -> bool:
    """The report exists, was materialized after the latest cell of every suite, and by the code there is now
    (its Dagster code version: an edited figure, table or sentence is drawn again)."""
    key = dg.AssetKey("benchmark_report")
    report = instance.get_latest_materialization_event(key)
    code = defs.get_assets_def(key).code_versions_by_key[key]
    cells = [instance.get_latest_materialization_event(a.key) for a in defs.assets
             if isinstance(a, dg.AssetsDefinition) and a.is_executable and a.op.pool == POOL]
    return (settings.report_path.exists() and report is not None
            and (report.asset_materialization.tags or {}).get(CODE_VERSION_TAG) == code
            and all(c is None or report.timestamp > c.timestamp for c in cells))


def _failure_message(r) -> str:
    for event in r.all_events:
        if event.is_step_failure:
            err = event.step_failure_data.error
            if err is None:
                return "step failed"
            # An asset's own dg.Failure is a sentence for the user: without Dagster's class path before it.
            return err.message.strip().split(": ", 1)[-1] if err.cls_name == "Failure" else err.message.strip()
    return "run failed"


def ui_command(settings: Settings, host: str, port: int) -> list[str]:
    """`dagster dev` on the state, with the partitions the saved settings ask for (so the UI shows them)."""
    instance = prepare_instance(settings)
    for suite in suites.all_suites():
        run = SuiteConfig(settings, suite.settings.from_env(settings.home) if suite.settings else None)
        for group in suite.cells(run):  # opens no data until a cell's measured_with is asked
            add_partitions(instance, group.dynamic_partitions)
    return [sys.executable, "-m", "dagster", "dev", "-m", "bench_pipeline.defs.definitions", "-h", host,
            "-p", str(port)]

