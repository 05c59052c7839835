"""Shared fixtures: small datasets made once per test session, real engines on them."""

from __future__ import annotations

import shutil

import pytest

from bench_pipeline.data.datagen import generate
from bench_pipeline.data.dataset import open_dataset
from bench_pipeline.data.labgen import generate_lab_posts

SMALL_ROWS = 20_000

pytest_plugins = ["bench_pipeline_tests.layers"]


@pytest.fixture(scope="session", autouse=True)
def own_measurement_lock(tmp_path_factory):
    """The tests' own machine-wide measurement lock, so that a benchmark running beside them on this machine
    neither waits for them nor makes them wait (every process the tests start inherits it); no noisy re-runs."""
    path = tmp_path_factory.mktemp("lock") / "measurement.lock"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("BENCH_LOCK_FILE", str(path))
        # What the tests count must not depend on the machine's load: no noisy re-measures
        # (test_runner's noise test turns them back on).
        mp.setenv("BENCH_NOISY_RETRIES", "0")
        # One fresh process per query, as a run whose comparisons are all decided at once: the rows the tests
        # count do not depend on how the rounds' comparisons came out (test_stats tests the rounds themselves).
        mp.setenv("BENCH_MAX_PROCESSES", "1")
        # The machine's calibration is the tests' own: none of the user's, and nothing written beside it.
        mp.setenv("BENCH_CALIBRATION_DIR", str(tmp_path_factory.mktemp("calibration")))
        yield path


@pytest.fixture(scope="session")
def small_data(tmp_path_factory):
    """A generated dataset, small enough for every engine in a second or two."""
    return generate(SMALL_ROWS, tmp_path_factory.mktemp("small"), seed=7, chunk_rows=7_000)


@pytest.fixture(scope="session")
def lab_data(tmp_path_factory, small_data):
    """posts written the lab's way (pandas, large_string, lab column order) beside our users."""
    root = tmp_path_factory.mktemp("lab")
    generate_lab_posts(5_000, root / "posts.parquet", seed=3)
    shutil.copy(small_data.users, root / "users.parquet")
    return open_dataset(root)


@pytest.fixture(scope="session")
def started_engines():
    """Engines started once in this process and shared (one Spark session for the whole run)."""
    from bench_pipeline.engines import engine_class

    cache = {}

    def get(name: str):
        if name not in cache:
            engine = engine_class(name)()
            engine.configure(2)
            engine.start()
            cache[name] = engine
        return cache[name]

    yield get
    for engine in cache.values():
        engine.close()
