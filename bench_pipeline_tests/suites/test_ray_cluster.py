"""A real Ray cluster started by the project: a head and worker raylets on 127.0.0.1, Daft on it through the same
instrument as every cell, and no Ray process left behind, also after its owner is killed with SIGKILL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import psutil
import pytest

pytest.importorskip("ray", reason="the `ray` extra is not installed")
pytest.importorskip("daft", reason="the `engines` extra is not installed")

from bench_pipeline.harness.instrument import run_cell  # noqa: E402
from bench_pipeline.suites.cluster.ray_cluster import ray_spec  # noqa: E402


def _ray_processes() -> set[int]:
    """Every Ray process on the machine: launchers, raylets, GCS, object stores, reapers, workers."""
    found = set()
    for p in psutil.process_iter(["cmdline", "name", "status"]):
        text = " ".join(p.info["cmdline"] or []) + " " + (p.info["name"] or "")
        if p.info["status"] != psutil.STATUS_ZOMBIE and ("ray" in text and ("raylet" in text or "gcs_server" in text
                                                                             or "ray start" in text
                                                                             or "ray::" in text
                                                                             or "ray/_private" in text)):
            found.add(p.pid)
    return found


def _gone(pids, timeout: float = 60) -> set[int]:
    """The pids among `pids` still alive (not zombies) after waiting up to `timeout` seconds."""
    def running(pid: int) -> bool:
        try:
            return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            return False

    deadline = time.monotonic() + timeout
    while True:
        alive = {pid for pid in pids if running(pid)}
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.5)


@pytest.mark.cluster
def test_a_two_worker_cluster_answers_a_and_c_through_daft_counting_every_ray_process(small_data):
    before = _ray_processes()
    # The partitioned layout: Daft reads the Hive folders (category=<value>/) Spark wrote, and still answers right.
    result = run_cell(ray_spec(small_data, 2, "partitioned", repeats=3, queries=("A", "C")))
    statuses = result.statuses()
    assert statuses == {"A": "ok", "C": "ok"}, [r["message"] for r in result.rows if r["status"] != "ok"]
    rows = [r for r in result.rows if r["run_kind"] == "warm"]
    assert {r["data_layout"] for r in rows} == {"partitioned"}
    assert {r["threads_verified"] for r in result.rows} == {2}  # two worker CPUs alive
    assert {r["master_url"].split(":")[0] for r in rows} == {"ray"} and {r["executors"] for r in rows} == {2}
    # The driver alone is one or two processes; with the cluster's: three launchers, raylets, GCS, workers...
    assert min(r["processes"] for r in rows) >= 8
    assert result.rows[0]["cluster_start_seconds"] > 0
    assert _gone(_ray_processes() - before, timeout=30) == set()


@pytest.mark.cluster
def test_no_ray_process_is_left_when_the_owner_is_killed(tmp_path):
    code = ("from bench_pipeline.suites.cluster.ray_cluster import RayCluster\n"
            "import time\n"
            "c = RayCluster(1)\nc.start()\n"
            "print(' '.join(str(p.pid) for p in c.processes()), flush=True)\n"
            "time.sleep(600)\n")
    owner = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        pids = {int(p) for p in owner.stdout.readline().split()}
        assert len(pids) >= 6, pids
        os.kill(owner.pid, signal.SIGKILL)
        owner.wait(timeout=30)
        assert _gone(pids, timeout=15) == set()
    finally:
        if owner.poll() is None:
            owner.kill()


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    from bench_pipeline.suites.wars.data import generate_wars

    return generate_wars(tmp_path_factory.mktemp("wars") / "data", 1_000, 1_000, 12, seed=5)


@pytest.mark.cluster
def test_ray_data_and_daft_run_the_image_pipeline_on_an_existing_ray_cluster(images):
    """--ray-address: the cells use the cluster they are given (started here) and start none of their own."""
    from bench_pipeline.suites.cluster.image_cells import IMAGES, image_spec
    from bench_pipeline.suites.cluster.ray_cluster import RayCluster

    with RayCluster(2) as cluster:
        launchers = set(cluster.pids())
        for engine in ("ray-data", "daft-ray"):
            result = run_cell(image_spec(images, engine, 2, repeats=1, ray_address=cluster.address))
            assert result.statuses() == {IMAGES: "ok"}, [r["message"] for r in result.rows]
            for r in result.rows:
                assert r["engine"] == engine and r["suite"] == "cluster" and r["data_layout"] == IMAGES
                assert r["master_url"] == f"ray://{cluster.address}" and r["cluster_start_seconds"] is None
                assert r["threads_verified"] == 2 and r["dataset_rows"] == 12
            assert set(cluster.pids()) == launchers  # no node started or lost by the cell


def test_cells_given_an_address_where_nothing_listens_fail_at_once_and_write_nothing(small_data, images, tmp_path):
    """A wrong --ray-address fails the cell in seconds (not after its start-up timeout), and the store stays empty."""
    from bench_pipeline.results.store import ResultsStore
    from bench_pipeline.suites.cluster.image_cells import image_spec
    from bench_pipeline.suites.cluster.ray_cluster import RayClusterError

    store = ResultsStore(tmp_path / "r.duckdb")
    started = time.monotonic()
    with pytest.raises(RayClusterError, match="nothing listens at 127.0.0.1:1"):
        run_cell(ray_spec(small_data, 2, queries=("A",), address="127.0.0.1:1"), store)
    with pytest.raises(RayClusterError, match="nothing listens at 127.0.0.1:1"):
        run_cell(image_spec(images, "ray-data", 2, ray_address="127.0.0.1:1"), store)
    assert time.monotonic() - started < 30
    assert store.query("SELECT count(*) AS n FROM measurements") == [{"n": 0}]
