"""Users' workloads in Dagster (group `workloads`): one cell per workload x engine x threads, and a summary.

The cells are one dynamic partition dimension, `workload_cells`, keyed `<workload>|<engine>|<threads>`;
`run --workload DIR` registers the workload (settings.json, section "workload": name -> folder) and adds
its keys, so the UI shows every registered workload's cells and the nightly schedule keeps them fresh.
They share the `bench_cells` pool and the checks of every other cell.
"""


import dagster as dg

from bench_pipeline.defs.common import AFTER_UPSTREAM, cell_asset, cell_checks, open_or_fail, pictures
from bench_pipeline.defs.resources import BenchSettings
from bench_pipeline.report import fmt
from bench_pipeline.results.fields import columns
from bench_pipeline.suites import draw_verdict
from bench_pipeline.suites.workload import SUITE as WORKLOAD
from bench_pipeline.suites.workload import cells, latest
from bench_pipeline.suites.workload.figures import draw_workload
from bench_pipeline.workloads.spec import WorkloadError, load_workload

WORKLOAD_CELLS = dg.DynamicPartitionsDefinition(name=cells.PARTITIONS)
_COLUMNS = columns("engine", "threads_asked", "query", "status", "median_seconds", "peak_rss_bytes")


def _workload(bench: BenchSettings, name: str):
    run = bench.config("workload")
    if name not in run.own.paths:
        raise dg.Failure(f"workload {name!r} is not registered here; run `bench-pipeline run --workload DIR` first")
    return run, open_or_fail(lambda: load_workload(run.own.paths[name]), f"workload {name}",
                             "fix its workload.toml or run `bench-pipeline query --workload` to see the problem")


@dg.asset(partitions_def=WORKLOAD_CELLS, group_name="workloads", pool="bench_cells", code_version=cells.code_version(),
          check_specs=cell_checks(cells.ASSET),
          description="One engine at one thread count on a user's workload: each query in a fresh process, cold "
                      "and warm runs, validated against DuckDB's answer to the workload's SQL.")
def workload_cells(context: dg.AssetExecutionContext, bench: BenchSettings) -> dg.MaterializeResult:
    name, engine, threads = cells.split_key(context.partition_key)
    run, w = _workload(bench, name)
    s = run.main
    if run.own.current != name:  # the suite measures its current workload: this cell's, for this step
        run = type(run)(s, run.own.model_copy(update={"current": name}))
    return cell_asset(context, bench, "workload",
                      cells.measured_with(w, engine, threads, s.repeats, s.repetition_settings),
                      extra=lambda result, store: {"workload": name, "folder": str(w.root)}, run=run)


@dg.asset(group_name="workloads", deps=[workload_cells],
          automation_condition=AFTER_UPSTREAM,
          description="The latest measurement per engine, threads and query of every registered workload.")
def workload_summary(bench: BenchSettings) -> dg.MaterializeResult:
    run, tables, plots, pictures_of = bench.config("workload"), {}, [], {}
    for name in sorted(run.own.paths):
        try:
            rows, w = latest(run, bench.store(), name)
        except WorkloadError as exc:
            tables[name] = f"not readable: {exc}"
            continue
        if rows:
            tables[name] = fmt.markdown(rows, _COLUMNS)
            plots.append(str(draw_workload(w.name, list(w.queries), rows, run.main.plots_dir)))
            one = type(run)(run.main, run.own.model_copy(update={"current": name}))
            pictures_of[name] = draw_verdict(WORKLOAD, one, f"workload_{name}",
                                             f"Workload {name}: every comparison of its verdict")
    if not plots:
        raise dg.Failure("no workload measured yet; run `bench-pipeline run --workload DIR`")
    return dg.MaterializeResult(metadata={**{name: dg.MetadataValue.md(t) for name, t in tables.items()},
                                          **{f"{name}_verdict": pictures([p]) for name, p in pictures_of.items()},
                                          "plots": dg.MetadataValue.json(plots)})


defs = dg.Definitions(assets=[workload_cells, workload_summary], jobs=[
    dg.define_asset_job("workload_cells_job", selection=[workload_cells],
                        description="Cells of users' workloads (one per workload x engine x threads)."),
])
