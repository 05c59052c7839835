"""The HTML report: one section per suite, read from the results store after every suite's outputs.

It depends on every section's asset (the grid's plots, the workload's, the cluster's and the limits' analyses,
the Engine Wars' summary) through `deps`, not IO-manager inputs, so the UI shows where each section comes from,
the report is written from whatever was measured, and a suite not measured yet is listed, not fatal.
"""


import dagster as dg

from bench_pipeline.defs.cluster import cluster_analysis
from bench_pipeline.defs.common import AFTER_UPSTREAM
from bench_pipeline.defs.grid import speedup_plots
from bench_pipeline.defs.limits import limits_analysis
from bench_pipeline.defs.resources import BenchSettings
from bench_pipeline.defs.wars import wars_summary
from bench_pipeline.defs.workload import workload_summary
from bench_pipeline.harness import provenance
from bench_pipeline.report.page import sections, write_report
from bench_pipeline.results.versions import outputs_code_hash
from bench_pipeline.suites import ReportInputs


@dg.asset(group_name="analysis",
          deps=[speedup_plots, workload_summary, cluster_analysis, limits_analysis, wars_summary],
          automation_condition=AFTER_UPSTREAM, code_version=outputs_code_hash(),
          description="One self-contained HTML report: a section per suite (plots inline, tables, verdict).")
def benchmark_report(bench: BenchSettings) -> dg.MaterializeResult:
    inputs = ReportInputs(bench.config, bench.store(), provenance.logical_cores())
    shown, missing = sections(inputs)
    if not shown:
        raise dg.Failure("nothing measured yet to report on; run `bench-pipeline run` first")
    path = write_report(bench.settings().report_path, shown, provenance.machine(), missing)
    return dg.MaterializeResult(metadata={"report": dg.MetadataValue.path(str(path)),
                                          "sections": dg.MetadataValue.json([s.template.split("/")[0] for s in shown]),
                                          "not_measured_yet": dg.MetadataValue.json(missing)})
