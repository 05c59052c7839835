"""The suites' shape: a registry the CLI, the orchestration and the Dagster layer read; no Dagster below it."""

from __future__ import annotations

import subprocess
import sys

from bench_pipeline import suites


def test_importing_every_suite_loads_no_dagster_module():
    code = ("import sys, bench_pipeline.suites as s\n"
            "for suite in s.all_suites():\n"
            "    for part in ('cells', 'metrics', 'figures'):\n"
            "        __import__(f'bench_pipeline.suites.{suite.name}.{part}')\n"
            "print(sorted(m for m in sys.modules if m == 'dagster' or m.startswith(('dagster.', 'dagster_'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_every_registered_suite_has_a_command_and_its_dagster_definitions():
    import bench_pipeline.definitions as d

    names = {k.to_user_string() for a in d.defs.assets for k in getattr(a, "keys", [a.key])}
    commands = [s.command for s in suites.all_suites()]
    assert len(set(commands)) == len(commands) == len(suites.NAMES)
    for suite in suites.all_suites():
        assert set(suite.outputs) <= names, suite.name


def test_an_unknown_suite_is_named():
    import pytest

    with pytest.raises(ValueError, match="unknown suite 'nope'"):
        suites.get("nope")
