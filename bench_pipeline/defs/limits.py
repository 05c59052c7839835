"""Execution models and limits (group `limits`): Polars' modes, the size sweep under a memory budget, analysis.

- `sweep_dataset`: posts of each sweep size (dynamic partitions: the sizes are settings, not code).
- `sweep_cells`: engine x rows (keys like 'duckdb|7000000'), L, A, B, C at the machine's cores under the
  sweep budget. An `oom` or `timeout` under the budget is the measurement, not a broken step: the cell
  materializes with it (and stays fresh); an `error` or a wrong answer fails or flags it as usual.
- `polars_modes`: eager / lazy / streaming on F, A, B, C, no budget, with each mode's plan.
- `limits_analysis`: tables, plots, capability table and decision boundary for the report.
"""

import dagster as dg

from bench_pipeline.defs.common import FAILED_STATUSES, cell_checks, cell_outcome, measure_cell, measured_with
from bench_pipeline.defs.resources import BenchSettings
from bench_pipeline.datagen import generate
from bench_pipeline.dataset import DatasetError, open_dataset
from bench_pipeline.harness import provenance
from bench_pipeline.harness.machine_lock import measurement_lock
from bench_pipeline.harness.runner import CellSpec, run_cell
from bench_pipeline.suites.limits.metrics import MODE_QUERIES, MODES, SWEEP_ENGINES, SWEEP_QUERIES
from bench_pipeline.suites.limits.report import analyse
from bench_pipeline.versions import harness_code_hash

SWEEP_ROWS = dg.DynamicPartitionsDefinition(name="sweep_rows")
# Dagster orders dimensions by name: keys read 'engine|rows'.
SWEEP_CELLS = dg.MultiPartitionsDefinition({
    "engine": dg.StaticPartitionsDefinition(list(SWEEP_ENGINES)), "rows": SWEEP_ROWS})
MODE_PARTITIONS = dg.StaticPartitionsDefinition(list(MODES))
SWEEP_KEY = dg.AssetKey("sweep_cells")
MODES_KEY = dg.AssetKey("polars_modes")
SWEEP_DATASET_KEY = dg.AssetKey("sweep_dataset")
# Under a budget these end a query and are its result; anything else failing is the harness's problem.
LIMIT_STATUSES = ("oom", "timeout")


def _open(bench: BenchSettings, rows: int):
    try:
        return open_dataset(bench.settings().data_dir_for(rows))
    except DatasetError as exc:
        raise dg.Failure(f"the {rows:,}-row dataset is not there ({exc}); materialize sweep_dataset first") from None


@dg.asset(partitions_def=SWEEP_ROWS, group_name="limits",
          description="posts + users with the partition's number of posts rows (same seed as the main dataset).")
def sweep_dataset(context: dg.AssetExecutionContext, bench: BenchSettings) -> dg.MaterializeResult:
    s = bench.settings()
    rows = int(context.partition_key)
    try:
        ds = open_dataset(s.data_dir_for(rows))
    except DatasetError:
        with measurement_lock(f"generating {rows:,} rows"):
            ds = generate(rows, s.data_dir_for(rows), seed=s.seed)
    return dg.MaterializeResult(data_version=dg.DataVersion(ds.fingerprint()),
                                metadata={"path": str(ds.root), "rows": rows, "fingerprint": ds.fingerprint(),
                                          "posts_arrow_mib": round(ds.posts_arrow_bytes() / 2**20, 1)})


@dg.asset(
    partitions_def=SWEEP_CELLS, group_name="limits", pool="bench_cells", code_version=harness_code_hash(),
    deps=[dg.AssetDep(sweep_dataset, partition_mapping=dg.MultiToSingleDimensionPartitionMapping("rows"))],
    check_specs=cell_checks("sweep_cells"),
    description="One engine on one posts size at the machine's cores, under the sweep's memory budget.",
)
def sweep_cells(context: dg.AssetExecutionContext, bench: BenchSettings) -> dg.MaterializeResult:
    s = bench.settings()
    keys = context.partition_key.keys_by_dimension
    engine, rows = keys["engine"], int(keys["rows"])
    data = _open(bench, rows)
    cores = provenance.logical_cores()
    store = bench.store()
    measured = measured_with(engine, cores, data, s.sweep_repeats, {"budget_bytes": s.sweep_budget_bytes})

    def measure() -> dg.MaterializeResult:
        result = run_cell(CellSpec(engine, cores, data, SWEEP_QUERIES, repeats=s.sweep_repeats,
                                   timeout_s=s.timeout_s, budget_bytes=s.sweep_budget_bytes,
                                   dagster_run_id=context.run.run_id, context={"suite": "sweep"}), store)
        return cell_outcome(context.partition_key, result, store, measured, expected_failures=LIMIT_STATUSES)

    return measure_cell(context, store, measured, measure)


@dg.asset(
    partitions_def=MODE_PARTITIONS, group_name="limits", pool="bench_cells", code_version=harness_code_hash(),
    deps=[dg.AssetDep(sweep_dataset, partition_mapping=dg.AllPartitionMapping())],
    check_specs=cell_checks("polars_modes"),
    description="Polars in one execution mode (eager, lazy, streaming) on F, A, B, C; plans kept with the times.",
)
def polars_modes(context: dg.AssetExecutionContext, bench: BenchSettings) -> dg.MaterializeResult:
    s = bench.settings()
    engine = MODES[context.partition_key]
    data = _open(bench, s.modes_rows)
    cores = provenance.logical_cores()
    store = bench.store()
    measured = measured_with(engine, cores, data, s.repeats, {"modes_rows": s.modes_rows})

    def measure() -> dg.MaterializeResult:
        result = run_cell(CellSpec(engine, cores, data, MODE_QUERIES, repeats=s.repeats, timeout_s=s.timeout_s,
                                   dagster_run_id=context.run.run_id, context={"suite": "modes"}), store)
        plans = {r["query"]: r["plan"] for r in store.summary(result.cell_run_id) if r.get("plan")}
        return cell_outcome(context.partition_key, result, store, measured,
                            extra_metadata={f"plan_{q}": dg.MetadataValue.md(f"```\n{p}\n```")
                                            for q, p in plans.items()})

    return measure_cell(context, store, measured, measure)


@dg.asset(group_name="limits", deps=[sweep_cells, polars_modes],
          description="Modes and sweep tables, their plots, the capability table and the decision boundary.")
def limits_analysis(bench: BenchSettings) -> dg.MaterializeResult:
    s = bench.settings()
    a = analyse(s, bench.store(), provenance.logical_cores())
    if not (a.metrics["metrics_sweep"] or a.metrics["metrics_modes"]):
        raise dg.Failure("no sweep or modes measured yet; run `bench-pipeline limits`")
    return dg.MaterializeResult(metadata={
        "plots": dg.MetadataValue.json([str(p) for p in a.plots]),
        "decision": dg.MetadataValue.md("\n".join(f"- {line}" for line in a.decision)),
        "disagreements": dg.MetadataValue.md("\n".join(f"- {line}" for line in a.disagreements) or "none"),
        "sweep_failures": len([r for r in a.metrics["metrics_sweep"] if r["status"] in FAILED_STATUSES]),
    })
