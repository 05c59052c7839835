"""The Engine Wars suite: every task answered as the reference does, the checks able to fail, the harness path."""

from __future__ import annotations

import json
import os
import urllib.request

import numpy as np
import pyarrow as pa
import pytest

from bench_pipeline.harness.instrument import run_cell
from bench_pipeline.harness.validate import AnswerMismatch
from bench_pipeline.results.store import ResultsStore
from bench_pipeline.suites.wars.cells import task_spec
from bench_pipeline.suites.wars.data import generate_wars, open_wars
from bench_pipeline.suites.wars.engines import IMAGES_URL_ENV
from bench_pipeline.suites.wars.server import ImageServer
from bench_pipeline.suites.wars.tasks import TASKS, reference, validate_task

IMAGES = 6


@pytest.fixture(scope="session")
def wars_data(tmp_path_factory):
    return generate_wars(tmp_path_factory.mktemp("wars") / "data", 20_000, 20_000, IMAGES, seed=3)


@pytest.fixture(scope="session")
def image_url(wars_data):
    """The images served for in-process engines, as the suite's runner serves them to its workers."""
    with ImageServer(wars_data.images) as server:
        os.environ[IMAGES_URL_ENV] = server.url
        yield server.url
        os.environ.pop(IMAGES_URL_ENV, None)


def _params():
    for name, w in TASKS.items():
        for engine, path in w.engines.items():
            marks = [pytest.mark.spark] if engine == "pyspark" else []
            yield pytest.param(name, path, id=f"{name}-{engine}", marks=marks)


@pytest.mark.parametrize("task,path", list(_params()))
def test_every_engine_answers_every_workload(started_engines, wars_data, image_url, task, path):
    engine = started_engines(path)
    result = engine.run(task, wars_data)
    answer = validate_task(task, engine.to_arrow(result), wars_data)
    engine.after_run(result)
    assert answer.num_rows == reference(task, wars_data).num_rows > 0


def test_data_is_reproducible_and_complete(wars_data, tmp_path):
    again = generate_wars(tmp_path / "again", 20_000, 20_000, IMAGES, seed=3)
    assert again.fingerprint() == wars_data.fingerprint()
    assert len(wars_data.image_names()) == IMAGES
    assert open_wars(wars_data.root, 20_000, 20_000, IMAGES, 3) == wars_data
    with pytest.raises(ValueError, match="images"):
        open_wars(wars_data.root, images=IMAGES + 1)


def test_server_serves_the_images_on_loopback(wars_data):
    from concurrent.futures import ThreadPoolExecutor

    with ImageServer(wars_data.images) as server:
        assert server.url.startswith("http://127.0.0.1:")
        names = wars_data.image_names() * 8

        def fetch(name):
            with urllib.request.urlopen(server.url + name, timeout=10) as response:
                return response.read() == (wars_data.images / name).read_bytes()

        # As many connections at once as Daft opens (32): every one is served.
        with ThreadPoolExecutor(32) as pool:
            assert all(pool.map(fetch, names))
        assert server._httpd.request_queue_size >= 32  # a smaller listen backlog stalls parallel clients


def test_validation_catches_wrong_answers(wars_data):
    etl = reference("etl", wars_data)
    spend = etl["total_spend"].to_numpy().copy()
    spend[3] *= 1.001
    with pytest.raises(AnswerMismatch, match="total_spend"):
        validate_task("etl", etl.set_column(1, "total_spend", pa.array(spend)), wars_data)
    with pytest.raises(AnswerMismatch, match="not sorted"):
        validate_task("etl", etl.take(list(range(1, etl.num_rows)) + [0]), wars_data)
    # A shuffled answer of near-equal floats is still the same answer, rows matched by key.
    assert validate_task("handoff", reference("handoff", wars_data), wars_data).num_rows > 0

    images = reference("images", wars_data)
    with pytest.raises(AnswerMismatch, match="missing"):
        validate_task("images", images.slice(1), wars_data)
    with pytest.raises(AnswerMismatch, match="width"):
        validate_task("images", images.set_column(1, "width", pa.array([223] * IMAGES, pa.int64())), wars_data)
    swapped = images["mean"].to_pylist()[::-1]
    with pytest.raises(AnswerMismatch, match="differ from their originals"):
        validate_task("images", images.set_column(4, "mean", pa.array(swapped)), wars_data)


def test_zero_copy_check_sees_a_copy():
    import polars as pl

    from bench_pipeline.suites.wars.engines.handoff import shared_columns

    batches = [pa.record_batch({"user": pa.array([f"u{i}" for i in range(k, k + 500)], pa.string_view()),
                                "n": pa.array(np.arange(k, k + 500))}) for k in (0, 500, 1000)]
    table = pa.Table.from_batches(batches)
    assert shared_columns(table, pl.from_arrow(table, rechunk=False)) == {"user": True, "n": True}
    # Concatenating the three batches (what rechunking does) is a copy, and the check says so.
    assert shared_columns(table, pl.from_arrow(table, rechunk=False).rechunk()) == {"user": False, "n": False}
    # Polars keeps strings as views: plain Arrow strings are converted on the way in.
    plain = table.set_column(0, "user", table["user"].cast(pa.string()))
    assert shared_columns(plain, pl.from_arrow(plain, rechunk=False)) == {"user": False, "n": True}


@pytest.mark.slow
def test_handoff_through_the_harness_is_zero_copy(wars_data, tmp_path):
    store = ResultsStore(tmp_path / "results.duckdb")
    result = run_cell(task_spec("handoff", "datafusion_polars", wars_data, threads=2, repeats=1), store)
    assert [r["status"] for r in result.rows] == ["ok", "ok"], result.rows
    checks = [json.loads(r["checks"]) for r in result.rows]
    assert all(c["zero_copy"] and c["shared_columns"] == {"user_id": True, "purchases": True} for c in checks)
    stored = store.query("SELECT suite, query, engine, checks FROM query_summary")
    assert stored == [{"suite": "wars", "query": "handoff", "engine": "datafusion_polars",
                       "checks": result.rows[-1]["checks"]}]


@pytest.mark.slow
def test_image_pipeline_through_the_harness_serves_itself(wars_data, monkeypatch):
    # No server from the test: the session fixture's URL is taken away, so only the runner's own can serve.
    monkeypatch.delenv(IMAGES_URL_ENV, raising=False)
    result = run_cell(task_spec("images", "daft", wars_data, threads=2, repeats=1))
    assert [r["status"] for r in result.rows] == ["ok", "ok"], result.rows
    assert result.rows[0]["answer_rows"] == IMAGES and result.rows[0]["threads_verified"] == 2
    assert all(r["peak_rss_bytes"] > 0 for r in result.rows)
