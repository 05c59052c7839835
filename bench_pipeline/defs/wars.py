"""The Engine Wars suite in Dagster (group `engine_wars`): its data, one asset per workload partitioned by
engine, and a summary (table in the store, plots, the zero-copy check) that the report shows.

Workload cells share the `bench_cells` pool with every other cell (one
measurement at a time per machine) and the same stale-only rules: a cell is
measured again when it is missing or failed, or its engine, code, data,
repeats or thread count changed.
"""

from pathlib import Path

import dagster as dg

from bench_pipeline.defs.common import cell_checks, cell_outcome, measure_cell, measured_with
from bench_pipeline.defs.resources import BenchSettings
from bench_pipeline.harness.machine_lock import measurement_lock
from bench_pipeline.suites.wars.metrics import build_wars_metrics, draw_wars
from bench_pipeline.suites.wars.data import WarsData, WarsDataError, generate_wars, open_wars
from bench_pipeline.suites.wars.cells import (
    missing_engines,
    run_workload,
    suite_code_hash,
    wars_engine_path,
    wars_signature,
)
from bench_pipeline.suites.wars.settings import WarsSettings
from bench_pipeline.suites.wars.workloads import WORKLOAD_NAMES, WORKLOADS

GROUP = "engine_wars"
WARS_DATASET_KEY = dg.AssetKey("wars_dataset")
MiB = 2**20


def workload_key(workload: str) -> dg.AssetKey:
    return dg.AssetKey(f"wars_{workload}")


class WarsConfig(dg.ConfigurableResource):
    """Overrides of WarsSettings.from_env(); unset fields keep their BENCH_WARS_* / saved defaults."""

    events_rows: int | None = None
    sales_rows: int | None = None
    images: int | None = None
    threads: int | None = None

    def settings(self, home: Path) -> WarsSettings:
        return WarsSettings.from_env(home, events_rows=self.events_rows, sales_rows=self.sales_rows,
                                     images=self.images, threads=self.threads)


def _settings(bench: BenchSettings, wars: WarsConfig):
    s = bench.settings()
    return s, wars.settings(s.home)


def _open(bench: BenchSettings, wars: WarsConfig) -> WarsData:
    s, ws = _settings(bench, wars)
    try:
        return open_wars(ws.data_dir(s.home, s.seed), ws.events_rows, ws.sales_rows, ws.images, s.seed)
    except WarsDataError as exc:
        raise dg.Failure(f"the Engine Wars data is not there ({exc}); materialize wars_dataset first") from None


@dg.asset(group_name=GROUP, description="events.parquet, sales.csv and generated JPEGs with their manifest.")
def wars_dataset(context: dg.AssetExecutionContext, bench: BenchSettings, wars: WarsConfig) -> dg.MaterializeResult:
    s, ws = _settings(bench, wars)
    root = ws.data_dir(s.home, s.seed)
    try:
        data = open_wars(root, ws.events_rows, ws.sales_rows, ws.images, s.seed)
        context.log.info(f"Engine Wars data already at {root}; not regenerated")
    except WarsDataError:
        with measurement_lock("generating the Engine Wars data"):
            data = generate_wars(root, ws.events_rows, ws.sales_rows, ws.images, s.seed)
    return dg.MaterializeResult(
        data_version=dg.DataVersion(data.fingerprint()),
        metadata={"path": str(data.root), **{k: v for k, v in data.params().items()},
                  "events_mib": round(data.events.stat().st_size / MiB, 1),
                  "sales_csv_mib": round(data.sales.stat().st_size / MiB, 1)},
    )


def _zero_copy_metadata(result) -> dict:
    checks = [r["checks"] for r in result.rows if r.get("checks")]
    return {"zero_copy": checks[-1]} if checks else {}


def _workload_asset(name: str) -> dg.AssetsDefinition:
    w = WORKLOADS[name]
    key = workload_key(name).to_user_string()

    @dg.asset(name=key, partitions_def=dg.StaticPartitionsDefinition(list(w.engines)), group_name=GROUP,
              pool="bench_cells", code_version=suite_code_hash(), deps=[wars_dataset],
              check_specs=cell_checks(key), description=f"{w.title}: {w.description}")
    def _asset(context: dg.AssetExecutionContext, bench: BenchSettings, wars: WarsConfig) -> dg.MaterializeResult:
        s, ws = _settings(bench, wars)
        data = _open(bench, wars)
        engine = context.partition_key
        store = bench.store()
        path = wars_engine_path(name, engine)
        measured = measured_with(path, ws.thread_count, data, s.repeats, signature=wars_signature(path),
                                 harness_version=suite_code_hash())

        def measure() -> dg.MaterializeResult:
            result = run_workload(name, engine, data, ws.thread_count, store, repeats=s.repeats,
                                  timeout_s=s.timeout_s, budget_bytes=s.budget_bytes,
                                  dagster_run_id=context.run.run_id)
            return cell_outcome(f"{name}:{engine}", result, store, measured,
                                extra_metadata={"workload": name, **_zero_copy_metadata(result)})

        return measure_cell(context, store, measured, measure)

    return _asset


WORKLOAD_ASSETS = [_workload_asset(n) for n in WORKLOAD_NAMES]


@dg.asset(group_name=GROUP, deps=[wars_dataset, *WORKLOAD_ASSETS],
          automation_condition=dg.AutomationCondition.eager().without(~dg.AutomationCondition.any_deps_missing()),
          check_specs=[dg.AssetCheckSpec("handoff_zero_copy", asset="wars_summary",
                                         description="DataFusion's Arrow table reached Polars without a copy.")],
          description="Latest measurement per workload and engine (results store), one figure per workload.")
def wars_summary(bench: BenchSettings, wars: WarsConfig) -> dg.MaterializeResult:
    s, _ = _settings(bench, wars)
    data = _open(bench, wars)
    rows = build_wars_metrics(bench.store(), data.fingerprint())
    if not rows:
        raise dg.Failure("no Engine Wars measurements for this data yet; materialize the wars_* workloads first")
    paths = draw_wars(rows, s.plots_dir)
    handoff = next((r for r in rows if r["query"] == "handoff" and r["engine"] == "datafusion_polars"), None)
    zero_copy = handoff is not None and (handoff.get("zero_copy") or "").startswith("yes")
    table = "| workload | engine | status | median s | peak MiB |\n|---|---|---|---|---|" + "".join(
        f"\n| {r['query']} | {r['engine']} | {r['status']} | "
        f"{'-' if r['median_seconds'] is None else format(r['median_seconds'], '.4f')} | "
        f"{'-' if r['peak_mib'] is None else format(r['peak_mib'], ',.0f')} |" for r in rows)
    return dg.MaterializeResult(
        metadata={"results": dg.MetadataValue.md(table), "plots": dg.MetadataValue.json([str(p) for p in paths]),
                  "missing_engines": dg.MetadataValue.json(missing_engines())},
        check_results=[dg.AssetCheckResult(
            check_name="handoff_zero_copy", passed=zero_copy,
            metadata={"hand_off": (handoff or {}).get("zero_copy") or
                      ("not measured" if handoff is None else f"status {handoff['status']}")})],
    )
