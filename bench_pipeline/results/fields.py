"""The one column vocabulary: every field a table shows, with its header, unit and format.

The terminal's tables, the Dagster UI's markdown, the report's templates and the JSON output all name a value
by its key here, so a median is "median s" to four decimals wherever it is shown. A table is `columns(...)`
of keys; where a table's rows hold something else under a key (the Engine Wars' `query` is the workload), a
(key, header) pair renames that column and keeps its unit and format. Formats are those of fmt.value.
"""

from __future__ import annotations

from dataclasses import dataclass

from bench_pipeline.report.fmt import Column
from bench_pipeline.workloads.social.catalogue import SUMMED_QUERIES


@dataclass(frozen=True)
class Field:
    key: str
    header: str  # without the unit
    unit: str = ""  # "s", "MiB", "x", ...: written after the header
    spec: str = ""  # fmt.value's format: a format() spec, "MiB" for a byte count, "" for text

    def column(self, header: str | None = None) -> Column:
        name = header or self.header
        return self.key, f"{name} {self.unit}" if self.unit else name, self.spec


_S4 = ".4f"  # seconds of a query
_R2 = ".2f"  # ratios

FIELDS: dict[str, Field] = {f.key: f for f in (
    # What was measured.
    Field("suite", "suite"), Field("workload", "workload"), Field("engine", "engine"), Field("query", "query"),
    Field("mode", "mode"), Field("version", "version"), Field("engine_version", "version"),
    Field("threads", "threads", spec=">"), Field("threads_asked", "threads", spec=">"),
    Field("threads_label", "threads", spec=">"), Field("threads_verified", "verified", spec=">"),
    Field("dataset_rows", "rows", spec=","), Field("machine", "machine"),
    Field("executors", "workers", spec=">"), Field("executor_memory", "executor memory"),
    Field("data_layout", "layout"), Field("master_url", "master"),
    # How it went.
    Field("status", "status"), Field("status_text", "status"), Field("message", "message"),
    Field("answer_rows", "answer rows", spec=">"), Field("flags", "flags"), Field("suspect", "suspect"),
    Field("noisy", "noisy"), Field("noise", "noise"), Field("noisy_label", "noise"),
    Field("zero_copy", "zero-copy hand-off"), Field("how", "completed by"),
    Field("engine_limits", "engine's own limits"),
    # Times.
    Field("cold_seconds", "cold", "s", _S4), Field("median_seconds", "median", "s", _S4),
    Field("min_seconds", "min", "s", _S4), Field("max_seconds", "max", "s", _S4),
    Field("ci_low", "95 % low", "s", _S4), Field("ci_high", "95 % high", "s", _S4),
    Field("load_seconds", "load (L)", "s", _S4), Field("queries_seconds", "+".join(SUMMED_QUERIES), "s", _S4),
    Field("valid_queries", f"valid of {','.join(SUMMED_QUERIES)}", spec=">"),
    Field("startup_seconds", "start-up", "s", ".2f"), Field("cluster_start_seconds", "cluster start", "s", ".1f"),
    Field("best_single", "best single-node"), Field("best_single_seconds", "best single-node", "s", _S4),
    Field("cluster_config", "cluster best at"), Field("cluster_seconds", "cluster best", "s", _S4),
    Field("spark_local_seconds", "Spark local", "s", _S4),
    Field("cv", "cv", spec=".3f"), Field("warm_runs", "warm runs", spec=">"),
    Field("processes", "processes", spec=">"), Field("processes_measured", "processes", spec=">"),
    # Memory.
    Field("peak_rss_bytes", "peak", "MiB", "MiB"), Field("peak_to_budget", "peak / budget", spec=_R2),
    # Ratios and comparisons.
    Field("speedup", "speedup", spec=_R2), Field("speedup_low", "95 % low", spec=_R2),
    Field("speedup_high", "95 % high", spec=_R2), Field("ideal_speedup", "ideal", spec=_R2),
    Field("efficiency", "efficiency", spec=_R2), Field("ratio", "ratio", spec=_R2),
    Field("ratio_low", "95 % low", spec=_R2), Field("ratio_high", "95 % high", spec=_R2),
    Field("interval", "95 % interval", spec=">"), Field("what", "comparison"), Field("answer", "answer"),
    Field("why", "open because"), Field("differs", "by the rule"), Field("cost_per_query", "cost per run", spec=".6f"),
)}


def columns(*keys: str | tuple[str, str]) -> list[Column]:
    """A table's columns, in order: a key of FIELDS, or (key, header) for a column this table names otherwise."""
    out = []
    for k in keys:
        key, header = (k, None) if isinstance(k, str) else k
        out.append(FIELDS[key].column(header))
    return out
