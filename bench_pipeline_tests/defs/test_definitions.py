"""The Dagster definitions as the UI sees them, and asset bodies called directly (no run, no process)."""

from __future__ import annotations

import warnings

import dagster as dg
import pytest

import bench_pipeline.defs.definitions as d
from bench_pipeline.config.settings import Settings
from bench_pipeline.defs.report import benchmark_report
from bench_pipeline.defs.resources import SECTIONS, BenchSettings
from bench_pipeline.suites import SuiteConfig
from bench_pipeline.suites.cluster.settings import ClusterSettings


def test_the_report_depends_on_every_section_it_shows():
    parents = d.defs.resolve_asset_graph().get(dg.AssetKey("benchmark_report")).parent_keys
    assert {k.to_user_string() for k in parents} == {"speedup_plots", "workload_summary", "cluster_analysis",
                                                      "limits_analysis", "wars_summary"}


def test_the_settings_resource_has_a_typed_field_per_setting(tmp_path):
    """The launchpad shows each setting with its type; a value given there wins over BENCH_* and settings.json."""
    schema = BenchSettings.to_config_schema().as_field().config_type.fields
    assert set(schema) == {"home", *SECTIONS}
    main = schema["main"].config_type.inner_type.fields  # optional: a section left out keeps every default
    assert set(main) == set(Settings.model_fields) - {"home"}
    assert [main[k].config_type.key for k in ("rows", "engines", "machine_prices")] == [
        "Noneable.IntSourceType", "Noneable.Array.StringSourceType", "Noneable.Map.String.Float"]
    bench = BenchSettings(home=str(tmp_path), cluster={"executors": [2, 5], "master": "spark://h:7077"})
    assert bench.settings(ClusterSettings).executors == (2, 5) and bench.config("cluster").own.master == \
        "spark://h:7077"
    assert bench.settings().rows == Settings.model_fields["rows"].default  # the main section was left out
    run = SuiteConfig(Settings.from_env(tmp_path, rows=1234, threads=(1, 3)), ClusterSettings.from_env(tmp_path))
    again = BenchSettings.for_run(run).config("cluster")
    assert (again.main.rows, again.main.threads, again.own.executors) == (1234, (1, 3), (2, 3, 4))


def test_only_the_beta_apis_used_are_silenced_by_name():
    from bench_pipeline.defs import BETA_APIS, silence_beta_apis

    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        silence_beta_apis()
        for api in (*BETA_APIS, "some_new_api"):
            warnings.warn(f"Function `{api}` is currently in beta, and may have breaking changes", dg.BetaWarning,
                          stacklevel=1)
    assert [str(w.message).split("`")[1] for w in seen] == ["some_new_api"]


def test_the_report_asset_fails_with_what_to_run_when_nothing_was_measured(tmp_path):
    with pytest.raises(dg.Failure, match="nothing measured yet to report on; run `bench-pipeline run` first"):
        benchmark_report(dg.build_asset_context(), BenchSettings(home=str(tmp_path / "home")))


def test_two_ticks_on_one_day_each_launch_their_cells():
    """A run key names its tick, not its date: with the soak's every-minute cron (or a missed night caught up on
    the same day) the second tick's stale cells are launched, not deduplicated against the first's."""
    import datetime as dt

    from bench_pipeline.defs.automation import nightly_cron, tick_key

    first, second = dt.datetime(2026, 12, 7, 2, 0), dt.datetime(2026, 12, 7, 2, 1)
    assert tick_key(first) != tick_key(second) and tick_key(first) == tick_key(first.replace(second=30))
    assert nightly_cron() == "0 2 * * *"  # the users' night; BENCH_NIGHTLY_CRON is the soak's


def test_a_bad_soak_cron_is_named(monkeypatch):
    from bench_pipeline.defs.automation import nightly_cron

    monkeypatch.setenv("BENCH_NIGHTLY_CRON", "every minute")
    from bench_pipeline.config.settings import SettingsError

    with pytest.raises(SettingsError, match="BENCH_NIGHTLY_CRON='every minute' is not a cron expression"):
        nightly_cron()


def test_a_cell_already_queued_or_running_is_not_requested_again():
    """Found by the soak: an engine hanging until its timeout made a night outlast the every-minute tick, and
    each tick queued the same stale cell once more. A cell with a pending run is left to that run."""
    from bench_pipeline.defs.automation import CELL_ASSET, pending_partitions

    with dg.DagsterInstance.ephemeral() as instance:
        for run_id, status, key in [("a", dg.DagsterRunStatus.NOT_STARTED, "duckdb|1"),
                                    ("b", dg.DagsterRunStatus.STARTED, "polars|2"),
                                    ("c", dg.DagsterRunStatus.FAILURE, "pandas|1")]:
            instance.add_run(dg.DagsterRun(job_name="benchmark_cells_job", run_id=run_id, status=status,
                                           tags={CELL_ASSET: "benchmark_cells", "dagster/partition": key}))
        assert pending_partitions(instance) == {("benchmark_cells", "duckdb|1"), ("benchmark_cells", "polars|2")}
