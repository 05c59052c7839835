"""What every suite's Dagster module shares: the cell asset's body (measure under the lock or reuse, then the
outcome), its checks, and "open the data or fail"."""


from collections.abc import Callable

import dagster as dg

from bench_pipeline import suites
from bench_pipeline.analysis import history
from bench_pipeline.defs.runs import DECIDED_AT, RECORDED
from bench_pipeline.defs.staleness import changed, recorded_with
from bench_pipeline.harness.machine_lock import measurement_lock
from bench_pipeline.harness.rounds import PENDING
from bench_pipeline.report import fmt
from bench_pipeline.report.images import data_uri
from bench_pipeline.results.fields import columns

# Statuses that make a cell a failed cell (red in the grid). A `skipped` cell
# (no Java) materializes with its reason; like a failed one it is not all_ok,
# so it is tried again next time.
FAILED_STATUSES = ("error", "timeout", "oom")
# An output asset refreshes when cells land, without waiting for every partition to exist.
AFTER_UPSTREAM = dg.AutomationCondition.eager().without(~dg.AutomationCondition.any_deps_missing())


def pictures(paths) -> dg.MetadataValue:
    """PNG files as markdown the UI shows inline (data URIs: the UI serves no files)."""
    return dg.MetadataValue.md("\n\n".join(f"![{p.stem}]({data_uri(p)})" for p in paths if p)
        or "nothing to draw yet")


def open_or_fail(opener: Callable, what: str, then: str):
    """opener() or a dg.Failure naming the data that is not there and what makes it."""
    try:
        return opener()
    except ValueError as exc:  # DatasetError, WarsDataError
        raise dg.Failure(f"{what} is not there ({exc}); {then}") from None


def cell_checks(asset: str) -> list[dg.AssetCheckSpec]:
    return [
        dg.AssetCheckSpec("answers_valid", asset=asset, blocking=True,
                          description="Every query's answer equals the reference answer."),
        dg.AssetCheckSpec("threads_verified", asset=asset,
                          description="The engine reports the thread count (cores) that was asked."),
        dg.AssetCheckSpec("no_regression", asset=asset,
                          description="No query is slower than the previous comparable measurement by the verdict's "
                                      "rule and the regression threshold (a warning: a slower engine is a finding)."),
    ]


def cell_asset(context: dg.AssetExecutionContext, bench, suite: str, measured: dict,
               expected_failures: tuple[str, ...] = (), extra: Callable = lambda result, store: {},
               name: str | None = None, run=None) -> dg.MaterializeResult:
    """The body of every cell asset: the cell measured by the one instrument (`suites.measure_alone`: every
    query once, then more processes while its questions with the stored cells are open, within its share of the
    suite's budget) under the measurement lock, unless another run measured it meanwhile, or recorded when the
    command's rounds measured it already (tag bench/recorded_cell); then its outcome. `extra(result, store)`:
    more metadata (plans, the zero-copy check); `name`: the cell's name in a failure (the key); `run`: the
    suite's settings when they are not the resource's as they stand (another workload than the current one)."""
    store = bench.store()
    threshold = bench.settings().regression_threshold
    key = context.partition_key
    if recorded := context.run.tags.get(RECORDED):
        result = recorded_cell(context, store, recorded)
        return cell_outcome(name or key, result, store, measured, expected_failures, extra(result, store), threshold)

    def measure() -> dg.MaterializeResult:
        result = suites.measure_alone(suites.get(suite), run or bench.config(suite), context.asset_key.to_user_string(),
                                      key, store, context.run.run_id)
        return cell_outcome(name or key, result, store, measured, expected_failures, extra(result, store), threshold)

    return measure_cell(context, store, measured, measure)


def recorded_cell(context: dg.AssetExecutionContext, store, cell_run_id: str):
    """A cell the command's rounds measured already in this process (harness.rounds.PENDING), its rows stored
    here: its materialization gets the same outcome and checks as a cell measured here."""
    result = PENDING.pop(cell_run_id, None)
    if result is None:
        raise dg.Failure(f"cell {context.partition_key}: cell run {cell_run_id} was not measured by this process's "
                         "rounds (the tag bench/recorded_cell is set by bench-pipeline's commands only)")
    store.append(result.rows)
    return result


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
        done = measured_since(instance, context.asset_key, context.partition_key, since, store, measured)
        if done is not None:
            context.log.info(f"measured meanwhile by run {done.metadata['measured_by_run']}; not measured again")
            return done
        return measure()


def measured_since(instance, asset_key, partition: str, since: float, store,
                    measured: dict) -> dg.MaterializeResult | None:
    """The latest whole, ok measurement of the cell if it landed after `since` and was measured as this run
    would measure it (at least as many warm runs), as this run's result."""
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=asset_key, asset_partitions=[partition]), limit=1).records
    if not records or records[0].timestamp <= since:
        return None
    metadata = dict(records[0].asset_materialization.metadata)
    md = recorded_with(records[0])
    if not (changed(md, measured) is None and md.get("all_ok") and md.get("cell_run_id") in store.cell_run_ids()):
        return None
    reused = {"measured_by_run": records[0].run_id}
    return dg.MaterializeResult(metadata={**metadata, **reused},
                                check_results=_check_results([], md.get("threads_asked"),
                                                             str(md.get("threads_verified")), reused))


def _check_results(wrong: list[str], threads, verified: str, extra: dict | None = None, changes=()) -> list:
    regressions = [c.line() for c in changes if c.kind == "regression"]
    return [
        dg.AssetCheckResult(check_name="answers_valid", passed=not wrong,
                            metadata={"wrong_answers": ", ".join(wrong) or "none", **(extra or {})}),
        dg.AssetCheckResult(check_name="threads_verified", passed=verified == str(threads),
                            metadata={"asked": threads, "reported": verified, **(extra or {})}),
        dg.AssetCheckResult(check_name="no_regression", passed=not regressions,
                            severity=dg.AssetCheckSeverity.WARN,
                            metadata={"changes": dg.MetadataValue.md("\n".join(f"- {c.line()}" for c in changes)
                                                                     or "none"), **(extra or {})}),
    ]


def cell_outcome(key: str, result, store, measured: dict, expected_failures: tuple[str, ...] = (),
                 extra_metadata: dict | None = None, threshold: float = 0.05) -> dg.MaterializeResult:
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
        # `unsupported` is a settled answer too: it changes only with the engine or the SQL, which make it stale.
        "all_ok": all(st in ("ok", "unsupported") or st in expected_failures for st in statuses.values()),
        "engine_version": summary[0]["engine_version"] if summary else None,
        **measured,
        "threads_verified": ", ".join(str(v) for v in sorted(verified, key=str)),
        "summary": dg.MetadataValue.md(_summary_markdown(summary)),
        **(extra_metadata or {}),
    }
    failed = {q: st for q, st in statuses.items() if st in FAILED_STATUSES and st not in expected_failures}
    if failed:
        messages = "; ".join(f"{r['query']}: {r['status']} ({r['message']})" for r in summary
                             if r["message"] and r["query"] in failed)  # the failures, not the settled answers
        raise dg.Failure(f"cell {key} failed: {messages}", metadata=metadata)
    wrong = [q for q, st in statuses.items() if st == "wrong_answer"]
    return dg.MaterializeResult(metadata=metadata, check_results=_check_results(
        wrong, measured["threads_asked"], metadata["threads_verified"],
        changes=history.changes(store, threshold, {result.cell_run_id})))


_SUMMARY_MD = columns("query", "status", "median_seconds", "cold_seconds", "cv", "peak_rss_bytes", "startup_seconds")


def _summary_markdown(summary: list[dict]) -> str:
    return fmt.markdown(summary, _SUMMARY_MD)
