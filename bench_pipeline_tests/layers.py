"""The test layers: `slow` for tests that start processes (workers, Spark, Ray, Dagster runs), `cluster` for
started clusters; `python -m pytest -m "not slow"` is the fast layer.

Marks come from three places: a module's `pytestmark`, a test's own mark, and here, from the fixtures and
marks a test uses (SLOW_FIXTURES, `spark` and `cluster` imply `slow`). Whatever the marks say, every
process started during a test is counted (subprocess, multiprocessing, fork, posix_spawn): a test not marked
`slow` that starts one fails, so the fast layer stays fast by construction, and the summary prints how many
tests started a process.
"""

from __future__ import annotations

import _posixsubprocess
import os
import subprocess

import pytest

# Fixtures that start processes or Dagster runs: a test using one is slow.
SLOW_FIXTURES = {"started_engines", "home", "wars_home", "mode_rows", "limits_env"}
# Marks that imply slow.
SLOW_MARKS = {"spark", "cluster"}

_started = [0]  # processes started so far in this pytest process


def _counting(fn):
    def wrapper(*args, **kwargs):
        _started[0] += 1
        return fn(*args, **kwargs)

    wrapper.__wrapped__ = fn
    return wrapper


def pytest_configure(config):
    # subprocess binds fork_exec at import; multiprocessing's spawn calls it through the module.
    subprocess._fork_exec = _counting(subprocess._fork_exec)
    _posixsubprocess.fork_exec = _counting(_posixsubprocess.fork_exec)
    for name in ("fork", "posix_spawn", "posix_spawnp"):
        if hasattr(os, name):
            setattr(os, name, _counting(getattr(os, name)))
    config._processes_by_test = {}


def pytest_collection_modifyitems(config, items):
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        marks = {m.name for m in item.iter_markers()}
        if names & SLOW_FIXTURES or marks & SLOW_MARKS:
            item.add_marker(pytest.mark.slow)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item, nextitem):
    before = _started[0]
    item._processes_before = before
    try:
        return (yield)
    finally:
        started = _started[0] - before
        if started:
            item.config._processes_by_test[item.nodeid] = started


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if call.when == "teardown" and report.passed and item.get_closest_marker("slow") is None:
        started = _started[0] - item._processes_before
        if started:
            report.outcome = "failed"
            report.longrepr = (f"{item.nodeid} started {started} process(es) but is not marked slow: mark it "
                               "(or use a fixture in layers.SLOW_FIXTURES) so that the fast layer stays fast")
    return report


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    by_test = config._processes_by_test
    terminalreporter.write_line(f"tests that started a process: {len(by_test)} "
                                f"({sum(by_test.values())} processes started)")
