"""The suites' shape: a registry the CLI, the orchestration and the Dagster layer read; no Dagster below it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import bench_pipeline
from bench_pipeline import suites


@pytest.mark.slow
def test_importing_every_suite_loads_no_dagster_module():
    code = ("import sys, bench_pipeline.suites as s\n"
            "for suite in s.all_suites():\n"
            "    for part in ('cells', 'metrics', 'figures'):\n"
            "        __import__(f'bench_pipeline.suites.{suite.name}.{part}')\n"
            "print(sorted(m for m in sys.modules if m == 'dagster' or m.startswith(('dagster.', 'dagster_'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_every_registered_suite_has_a_command_and_its_dagster_definitions():
    import dagster as dg

    import bench_pipeline.defs.definitions as d

    names = {k.to_user_string() for a in d.defs.assets for k in getattr(a, "keys", [a.key])}
    commands = [s.command for s in suites.all_suites()]
    assert len(set(commands)) == len(commands) == len(suites.NAMES)
    for suite in suites.all_suites():
        assert set(suite.outputs) <= names, suite.name
    # Every job, schedule and sensor resolves as the UI and `dagster asset materialize` load them (a job mixing
    # two partitions definitions fails only here, not when the assets are materialized by name).
    dg.Definitions.validate_loadable(d.defs)


def test_an_unknown_suite_is_named():
    import pytest

    with pytest.raises(ValueError, match="unknown suite 'nope'"):
        suites.get("nope")


def test_suites_name_no_engine_and_no_query_list_of_their_own():
    """Engines and query sets come from the registry's traits and the catalogue: a suite (wars excepted, it
    has its own engines) that spells an engine name or a list of query names would drift from them."""
    import ast

    from bench_pipeline.engines import ENGINE_NAMES, VARIANTS
    from bench_pipeline.workloads.social.catalogue import ALL_QUERY_NAMES

    engines = set(ENGINE_NAMES) | set(VARIANTS)
    package = Path(bench_pipeline.__file__).parent
    files = [p for p in (package / "suites").rglob("*.py") if "wars" not in p.parts]
    files += [package / "report" / "page.py", package / "analysis" / "verdict.py", *(package / "defs").glob("*.py")]
    found = []
    for path in files:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and node.value in engines:
                found.append(f"{path.name}:{node.lineno} {node.value!r}")
            if (isinstance(node, ast.Tuple | ast.List) and len(node.elts) > 1
                    and all(isinstance(e, ast.Constant) and e.value in ALL_QUERY_NAMES for e in node.elts)):
                found.append(f"{path.name}:{node.lineno} a list of query names")
    assert found == []


def test_the_store_suite_values_map_onto_the_registry():
    """Every `suite` value the store accepts is a registered suite's (limits stores `modes` and `sweep`), or the
    history's canary; and no two suites claim one value."""
    from bench_pipeline.results.store import SUITES

    claimed = [v for s in suites.all_suites() for v in s.store_suites]
    assert len(claimed) == len(set(claimed))
    assert set(SUITES) == {*claimed, "canary"}
    assert suites.get("limits").store_suites == ("modes", "sweep") and suites.get("grid").store_suites == ("grid",)
