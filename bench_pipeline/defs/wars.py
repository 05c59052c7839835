"""The Engine Wars suite in Dagster (group `engine_wars`): its data, one asset per task partitioned by
engine, and a summary (table in the store, plots, the zero-copy check) that the report shows.

Task cells share the `bench_cells` pool with every other cell (one
measurement at a time per machine) and the same stale-only rules: a cell is
measured again when it is missing or failed, or its engine, code, data,
repeats or thread count changed.
"""


import dagster as dg

from bench_pipeline.defs.common import AFTER_UPSTREAM, cell_asset, cell_checks, open_or_fail, pictures
from bench_pipeline.defs.resources import BenchSettings
from bench_pipeline.harness.machine_lock import measurement_lock
from bench_pipeline.report import fmt
from bench_pipeline.report.fmt import MiB
from bench_pipeline.results.fields import columns
from bench_pipeline.suites import draw_verdict
from bench_pipeline.suites.wars import SUITE as WARS
from bench_pipeline.suites.wars import measured_with, open_data, task_asset
from bench_pipeline.suites.wars.cells import missing_engines, suite_code_hash
from bench_pipeline.suites.wars.data import WarsData, WarsDataError, generate_wars, open_wars
from bench_pipeline.suites.wars.figures import draw_wars
from bench_pipeline.suites.wars.metrics import build_wars_metrics
from bench_pipeline.suites.wars.tasks import TASK_NAMES, TASKS

GROUP = "engine_wars"


def open_wars_data(bench: BenchSettings) -> WarsData:
    return open_or_fail(lambda: open_data(bench.config("wars")), "the Engine Wars data",
                        "materialize wars_dataset first")


@dg.asset(group_name=GROUP, description="events.parquet, sales.csv and generated JPEGs with their manifest.")
def wars_dataset(context: dg.AssetExecutionContext, bench: BenchSettings) -> dg.MaterializeResult:
    run = bench.config("wars")
    s, ws = run.main, run.own
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


def _task_asset(name: str) -> dg.AssetsDefinition:
    w = TASKS[name]
    key = task_asset(name)

    @dg.asset(name=key, partitions_def=dg.StaticPartitionsDefinition(list(w.engines)), group_name=GROUP,
              pool="bench_cells", code_version=suite_code_hash(), deps=[wars_dataset],
              check_specs=cell_checks(key), description=f"{w.title}: {w.description}")
    def _asset(context: dg.AssetExecutionContext, bench: BenchSettings) -> dg.MaterializeResult:
        run = bench.config("wars")
        data = open_wars_data(bench)
        engine = context.partition_key
        return cell_asset(context, bench, "wars", measured_with(run, name, engine, data),
                          extra=lambda result, store: {"task": name, **_zero_copy_metadata(result)},
                          name=f"{name}:{engine}")

    return _asset


TASK_ASSETS = [_task_asset(n) for n in TASK_NAMES]
JOBS = [dg.define_asset_job(f"wars_{w}_job", selection=dg.AssetSelection.assets(task_asset(w)),
                            description=f"The Engine Wars task {w}, one cell per engine.")
        for w in TASK_NAMES]


@dg.asset(group_name=GROUP, deps=[wars_dataset, *TASK_ASSETS],
          automation_condition=AFTER_UPSTREAM,
          check_specs=[dg.AssetCheckSpec("handoff_zero_copy", asset="wars_summary",
                                         description="DataFusion's Arrow table reached Polars without a copy.")],
          description="Latest measurement per task and engine (results store), one figure per task.")
def wars_summary(bench: BenchSettings) -> dg.MaterializeResult:
    s = bench.settings()
    data = open_wars_data(bench)
    rows = build_wars_metrics(bench.store(), data.fingerprint())
    if not rows:
        raise dg.Failure("no Engine Wars measurements for this data yet; materialize the wars_* tasks first")
    paths = draw_wars(rows, s.plots_dir)
    picture = draw_verdict(WARS, bench.config("wars"), title="Engine Wars: per task, the fastest engine against each "
                                                          "other")
    handoff = next((r for r in rows if r["query"] == "handoff" and r["engine"] == "datafusion_polars"), None)
    zero_copy = handoff is not None and (handoff.get("zero_copy") or "").startswith("yes")
    table = fmt.markdown(rows, columns(("query", "task"), "engine", "status", "median_seconds", "peak_rss_bytes"))
    return dg.MaterializeResult(
        metadata={"results": dg.MetadataValue.md(table), "plots": dg.MetadataValue.json([str(p) for p in paths]),
                  "verdict_picture": pictures([picture]),
                  "missing_engines": dg.MetadataValue.json(missing_engines())},
        check_results=[dg.AssetCheckResult(
            check_name="handoff_zero_copy", passed=zero_copy,
            metadata={"hand_off": (handoff or {}).get("zero_copy") or
                      ("not measured" if handoff is None else f"status {handoff['status']}")})],
    )


defs = dg.Definitions(assets=[wars_dataset, *TASK_ASSETS, wars_summary], jobs=JOBS)
