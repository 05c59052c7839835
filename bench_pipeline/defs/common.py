"""The measured part of the graph: engine versions, the dataset, the engine x threads cells."""


from collections.abc import Callable

import dagster as dg

from bench_pipeline.defs.partitions import CELLS, ENGINES, split_key
from bench_pipeline.defs.resources import BenchSettings
from bench_pipeline.defs.runs import DECIDED_AT
from bench_pipeline.datagen import generate
from bench_pipeline.dataset import DatasetError, open_dataset
from bench_pipeline.harness.machine_lock import measurement_lock
from bench_pipeline.harness.runner import CellSpec, run_cell
from bench_pipeline.versions import engine_signature, harness_code_hash

MiB = 2**20
# Statuses that make a cell a failed cell (red in the grid). A `skipped` cell
# (no Java) materializes with its reason; like a failed one it is not all_ok,
# so it is tried again next time.
FAILED_STATUSES = ("error", "timeout", "oom")


@dg.observable_source_asset(partitions_def=ENGINES, group_name="benchmark",
                            description="Engine library version + hash of the engine's code, per engine.")
def engine_versions() -> dg.DataVersionsByPartition:
    return dg.DataVersionsByPartition({e: dg.DataVersion(engine_signature(e)) for e in ENGINES.get_partition_keys()})


@dg.asset(group_name="benchmark", description="posts.parquet + users.parquet generated from settings (rows, seed).")
def dataset(context: dg.AssetExecutionContext, bench: BenchSettings) -> dg.MaterializeResult:
    s = bench.settings()
    try:
        ds = open_dataset(s.data_dir)
        context.log.info(f"dataset already at {ds.root}; not regenerated")
    except DatasetError:
        with measurement_lock(f"generating {s.rows:,} rows"):  # the CPU it takes would slow a measurement
            ds = generate(s.rows, s.data_dir, seed=s.seed)
    # The fingerprint is the data version: the same rows and seed regenerate the
    # same bytes, so a regenerated dataset does not make the cells stale.
    return dg.MaterializeResult(
        data_version=dg.DataVersion(ds.fingerprint()),
        metadata={"path": str(ds.root), "rows": ds.posts_rows(), "seed": s.seed, "fingerprint": ds.fingerprint(),
                  "posts_mib": round(ds.posts.stat().st_size / MiB, 1)},
    )


def cell_checks(asset: str) -> list[dg.AssetCheckSpec]:
    return [
        dg.AssetCheckSpec("answers_valid", asset=asset, blocking=True,
                          description="Every query's answer equals the reference answer."),
        dg.AssetCheckSpec("threads_verified", asset=asset,
                          description="The engine reports the thread count (cores) that was asked."),
    ]


@dg.asset(
    partitions_def=CELLS,
    group_name="benchmark",
    pool="bench_cells",  # one cell at a time per machine, across runs and processes
    code_version=harness_code_hash(),
    deps=[
        dataset,
        dg.AssetDep(engine_versions, partition_mapping=dg.MultiToSingleDimensionPartitionMapping("engine")),
    ],
    check_specs=cell_checks("benchmark_cells"),
    description="One engine at one thread count: L, A, B, C each in a fresh process, cold + warm runs.",
)
def benchmark_cells(context: dg.AssetExecutionContext, bench: BenchSettings) -> dg.MaterializeResult:
    s = bench.settings()
    engine, threads = split_key(context.partition_key)
    try:
        data = open_dataset(s.data_dir)
    except DatasetError as exc:
        raise dg.Failure(f"the dataset is not there ({exc}); materialize `dataset` first") from None
    store = bench.store()
    measured = measured_with(engine, threads, data, s.repeats, s.grid_cell_settings)

    def measure() -> dg.MaterializeResult:
        result = run_cell(CellSpec(engine, threads, data, repeats=s.repeats, timeout_s=s.timeout_s,
                                   budget_bytes=s.budget_bytes, dagster_run_id=context.run.run_id,
                                   max_repeats=s.max_repeats, precision=s.precision,
                                   query_budget_s=s.query_budget_s), store)
        return cell_outcome(context.partition_key, result, store, measured)

    return measure_cell(context, store, measured, measure)


def measured_with(engine: str, threads: int, data, repeats: int, settings: dict | None = None,
                  signature: str | None = None, harness_version: str | None = None) -> dict:
    """What a cell is measured with: its engine signature (library version and code), the dataset's
    version, the harness's code, the thread count, the warm runs asked and the cell's own `settings` (a
    memory budget). A cell records it in its metadata; `staleness.py` and `measure_cell` compare it. A
    suite with its own engines and code (the Engine Wars) passes its own signature and harness version."""
    return {"engine_signature": signature or engine_signature(engine), "dataset_version": data.fingerprint(),
            "harness_version": harness_version or harness_code_hash(), "threads_asked": threads,
            "repeats": repeats, **(settings or {})}


def measure_cell(context: dg.AssetExecutionContext, store, measured: dict,
                 measure: Callable[[], dg.MaterializeResult]) -> dg.MaterializeResult:
    """Every cell asset's body: `measure()` under the machine's measurement lock, unless another run
    measured this cell, with what this run would measure it with, after this run's launcher decided it
    was stale (two `run`s at once, the schedule beside the CLI): then that measurement is this
    materialization too, and nothing is measured twice."""
    instance = context.instance
    what = f"dagster run {context.run_id[:8]} ({context.asset_key.to_user_string()} {context.partition_key})"
    with measurement_lock(what):
        decided = context.run.tags.get(DECIDED_AT)
        since = float(decided) if decided else instance.get_run_record_by_id(context.run_id).create_timestamp \
            .timestamp()
        done = _measured_since(instance, context.asset_key, context.partition_key, since, store, measured)
        if done is not None:
            context.log.info(f"measured meanwhile by run {done.metadata['measured_by_run']}; not measured again")
            return done
        return measure()


def _measured_since(instance, asset_key, partition: str, since: float, store,
                    measured: dict) -> dg.MaterializeResult | None:
    """The latest whole, ok measurement of the cell if it landed after `since` and was measured as this run
    would measure it (at least as many warm runs), as this run's result."""
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=asset_key, asset_partitions=[partition]), limit=1).records
    if not records or records[0].timestamp <= since:
        return None
    metadata = dict(records[0].asset_materialization.metadata)
    md = {k: getattr(v, "value", v) for k, v in metadata.items()}
    same = all(md.get(k) == v for k, v in measured.items() if k != "repeats")
    if not (same and md.get("all_ok") and md.get("repeats", 0) >= measured["repeats"]
            and md.get("cell_run_id") in store.cell_run_ids()):
        return None
    reused = {"measured_by_run": records[0].run_id}
    return dg.MaterializeResult(metadata={**metadata, **reused},
                                check_results=_check_results([], md.get("threads_asked"),
                                                             str(md.get("threads_verified")), reused))


def _check_results(wrong: list[str], threads, verified: str, extra: dict | None = None) -> list:
    return [
        dg.AssetCheckResult(check_name="answers_valid", passed=not wrong,
                            metadata={"wrong_answers": ", ".join(wrong) or "none", **(extra or {})}),
        dg.AssetCheckResult(check_name="threads_verified", passed=verified == str(threads),
                            metadata={"asked": threads, "reported": verified, **(extra or {})}),
    ]


def cell_outcome(key: str, result, store, measured: dict, expected_failures: tuple[str, ...] = (),
                 extra_metadata: dict | None = None) -> dg.MaterializeResult:
    """The materialization of a measured cell, or dg.Failure when a query failed.

    The metadata records what the cell was measured with (`measured_with`) and
    `extra_metadata` (plans, ...). Statuses in `expected_failures` (oom under a
    budget) are results: the cell materializes with them and counts as complete.
    """
    summary = store.summary(result.cell_run_id)
    statuses = result.statuses()
    verified = {r["threads_verified"] for r in summary}
    metadata = {
        "cell_run_id": result.cell_run_id,
        "statuses": ", ".join(f"{q}={st}" for q, st in statuses.items()),
        "all_ok": all(st == "ok" or st in expected_failures for st in statuses.values()),
        "engine_version": summary[0]["engine_version"] if summary else None,
        **measured,
        "threads_verified": ", ".join(str(v) for v in sorted(verified, key=str)),
        "summary": dg.MetadataValue.md(_summary_markdown(summary)),
        **(extra_metadata or {}),
    }
    failed = {q: st for q, st in statuses.items() if st in FAILED_STATUSES and st not in expected_failures}
    if failed:
        messages = "; ".join(f"{r['query']}: {r['status']} ({r['message']})" for r in summary if r["message"])
        raise dg.Failure(f"cell {key} failed: {messages}", metadata=metadata)
    wrong = [q for q, st in statuses.items() if st == "wrong_answer"]
    return dg.MaterializeResult(metadata=metadata, check_results=_check_results(
        wrong, measured["threads_asked"], metadata["threads_verified"]))


def _summary_markdown(summary: list[dict]) -> str:
    lines = ["| query | status | median s | cold s | cv | peak MiB | start-up s |", "|---|---|---|---|---|---|---|"]

    def f(v, fmt):
        return "-" if v is None else format(v, fmt)

    for r in summary:
        lines.append(
            f"| {r['query']} | {r['status']} | {f(r['median_seconds'], '.4f')} | {f(r['cold_seconds'], '.4f')} "
            f"| {f(r['cv'], '.3f')} | {f(r['peak_rss_bytes'] and r['peak_rss_bytes'] / MiB, ',.0f')} "
            f"| {f(r['startup_seconds'], '.2f')} |"
        )
    return "\n".join(lines)
