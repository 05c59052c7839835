"""Execution models and limits in Dagster (group `limits`): Polars' modes, the size sweep under a memory budget,
analysis.

- `sweep_dataset`: posts of each sweep size (dynamic partitions: the sizes are settings, not code).
- `sweep_cells`: engine x rows (keys like 'duckdb|7000000'), the sweep queries at the machine's cores under the
  sweep budget. An `oom` or `timeout` under the budget is the measurement, not a broken step: the cell
  materializes with it (and stays fresh); an `error` or a wrong answer fails or flags it as usual.
- `polars_modes`: eager / lazy / streaming on the modes queries, no budget, with each mode's plan.
- `limits_analysis`: tables, plots, capability table and decision boundary for the report.
"""


import dagster as dg

from bench_pipeline.data.datagen import ensure_dataset
from bench_pipeline.data.dataset import open_dataset
from bench_pipeline.defs.common import FAILED_STATUSES, cell_asset, cell_checks, open_or_fail, pictures
from bench_pipeline.defs.resources import BenchSettings
from bench_pipeline.harness import provenance
from bench_pipeline.report.fmt import MiB
from bench_pipeline.results.versions import harness_code_hash
from bench_pipeline.suites import draw_verdict
from bench_pipeline.suites.limits import MODES_ASSET, SWEEP_ASSET
from bench_pipeline.suites.limits import SUITE as LIMITS
from bench_pipeline.suites.limits.cells import modes_cell, sweep_cell
from bench_pipeline.suites.limits.metrics import MODES, SWEEP_ENGINES
from bench_pipeline.suites.limits.section import analyse

SWEEP_ROWS = dg.DynamicPartitionsDefinition(name="sweep_rows")
# Dagster orders dimensions by name: keys read 'engine|rows'.
SWEEP_CELLS = dg.MultiPartitionsDefinition({
    "engine": dg.StaticPartitionsDefinition(list(SWEEP_ENGINES)), "rows": SWEEP_ROWS})
# Under a budget these end a query and are its result; anything else failing is the harness's problem.
LIMIT_STATUSES = ("oom", "timeout")


def _open(bench: BenchSettings, rows: int):
    return open_or_fail(lambda: open_dataset(bench.settings().data_dir_for(rows)), f"the {rows:,}-row dataset",
                        "materialize sweep_dataset first")


@dg.asset(partitions_def=SWEEP_ROWS, group_name="limits",
          description="posts + users with the partition's number of posts rows (same seed as the main dataset).")
def sweep_dataset(context: dg.AssetExecutionContext, bench: BenchSettings) -> dg.MaterializeResult:
    s = bench.settings()
    rows = int(context.partition_key)
    ds = ensure_dataset(s.data_dir_for(rows), rows, s.seed)
    return dg.MaterializeResult(data_version=dg.DataVersion(ds.fingerprint()),
                                metadata={"path": str(ds.root), "rows": rows, "fingerprint": ds.fingerprint(),
                                          "posts_arrow_mib": round(ds.posts_arrow_bytes() / MiB, 1)})


@dg.asset(
    partitions_def=SWEEP_CELLS, group_name="limits", pool="bench_cells", code_version=harness_code_hash(),
    deps=[dg.AssetDep(sweep_dataset, partition_mapping=dg.MultiToSingleDimensionPartitionMapping("rows"))],
    check_specs=cell_checks(SWEEP_ASSET),
    description="One engine on one posts size at the machine's cores, under the sweep's memory budget.",
)
def sweep_cells(context: dg.AssetExecutionContext, bench: BenchSettings) -> dg.MaterializeResult:
    run = bench.config("limits")
    rows = int(context.partition_key.keys_by_dimension["rows"])
    _, measured = sweep_cell(run, context.partition_key, _open(bench, rows))
    return cell_asset(context, bench, "limits", measured, expected_failures=LIMIT_STATUSES)


def _plans(result, store) -> dict:
    plans = {r["query"]: r["plan"] for r in store.summary(result.cell_run_id) if r.get("plan")}
    return {f"plan_{q}": dg.MetadataValue.md(f"```\n{p}\n```") for q, p in plans.items()}


@dg.asset(
    partitions_def=dg.StaticPartitionsDefinition(list(MODES)), group_name="limits", pool="bench_cells",
    code_version=harness_code_hash(), deps=[dg.AssetDep(sweep_dataset, partition_mapping=dg.AllPartitionMapping())],
    check_specs=cell_checks(MODES_ASSET),
    description="Polars in one execution mode (eager, lazy, streaming) on the modes queries; plans kept with the "
                "times.",
)
def polars_modes(context: dg.AssetExecutionContext, bench: BenchSettings) -> dg.MaterializeResult:
    run = bench.config("limits")
    _, measured = modes_cell(run, context.partition_key, _open(bench, run.own.modes_rows))
    return cell_asset(context, bench, "limits", measured, extra=_plans)


@dg.asset(group_name="limits", deps=[sweep_cells, polars_modes],
          description="Modes and sweep tables, their plots, the capability table and the decision boundary.")
def limits_analysis(bench: BenchSettings) -> dg.MaterializeResult:
    run = bench.config("limits")
    a = analyse(run.main, run.own, bench.store(), provenance.logical_cores())
    if not (a.metrics["metrics_sweep"] or a.metrics["metrics_modes"]):
        raise dg.Failure("no sweep or modes measured yet; run `bench-pipeline limits`")
    picture = draw_verdict(LIMITS, run, title="Execution models and sizes: lazy against eager, streaming against "
                                              "lazy, the engines at each size")
    return dg.MaterializeResult(metadata={
        "verdict_picture": pictures([picture]),
        "plots": dg.MetadataValue.json([str(p) for p in a.plots]),
        "decision": dg.MetadataValue.md("\n".join(f"- {line}" for line in a.decision)),
        "disagreements": dg.MetadataValue.md("\n".join(f"- {line}" for line in a.disagreements) or "none"),
        "sweep_failures": len([r for r in a.metrics["metrics_sweep"] if r["status"] in FAILED_STATUSES]),
    })


defs = dg.Definitions(
    assets=[sweep_dataset, sweep_cells, polars_modes, limits_analysis],
    jobs=[dg.define_asset_job("limits_sweep", selection=dg.AssetSelection.assets("sweep_cells"),
                              description="The engines on a size sweep under a memory budget."),
          dg.define_asset_job("limits_modes", selection=dg.AssetSelection.assets("polars_modes", "limits_analysis"),
                              description="Polars eager, lazy and streaming; then the limits analysis.")],
)
