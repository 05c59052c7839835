"""The package's import graph, read from the source (imports inside functions included): no cycle, and the
Dagster-free core never imports the Dagster package (bench_pipeline.defs) nor Dagster itself."""

from __future__ import annotations

import ast
from pathlib import Path

import bench_pipeline

ROOT = Path(bench_pipeline.__file__).parent
DAGSTER_PACKAGE = "bench_pipeline.defs"


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _ancestors(module: str) -> set[str]:
    parts = module.split(".")
    return {".".join(parts[:i]) for i in range(1, len(parts))}


def import_graph() -> dict[str, set[str]]:
    """module -> the bench_pipeline modules it imports, as Python runs them: importing `a.b.c` runs `a/__init__`
    and `a/b/__init__` first, so each target's packages count too (except the importer's own, already run)."""
    modules = {_module_name(p): p for p in ROOT.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                targets |= {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + [base]).strip(".")
                # `from pkg import mod` imports pkg.mod when it is a module, else a name of pkg
                targets |= {f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names}
        targets |= {a for t in targets for a in _ancestors(t)}
        graph[name] = {t for t in targets if t in modules and t != name and t not in _ancestors(name)}
    return graph


def dagster_imports() -> dict[str, bool]:
    """module -> whether its source imports dagster (at any level)."""
    out = {}
    for path in ROOT.rglob("*.py"):
        tree = ast.parse(path.read_text())
        out[_module_name(path)] = any(
            (isinstance(n, ast.Import) and any(a.name.split(".")[0] == "dagster" for a in n.names))
            or (isinstance(n, ast.ImportFrom) and not n.level and (n.module or "").split(".")[0] == "dagster")
            for n in ast.walk(tree))
    return out


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def _in_dagster_package(module: str) -> bool:
    return module == DAGSTER_PACKAGE or module.startswith(DAGSTER_PACKAGE + ".")


def test_the_package_has_no_import_cycle():
    assert cycles(import_graph()) == []


# Above both: the package's __init__ reaches the definitions lazily (for `dagster ... -m bench_pipeline`), and the
# CLI calls the orchestration for its pipeline commands. Nothing else outside the Dagster package may import it.
ENTRY_POINTS = {"bench_pipeline": {DAGSTER_PACKAGE, f"{DAGSTER_PACKAGE}.definitions"},
                "bench_pipeline.cli.commands": {DAGSTER_PACKAGE, f"{DAGSTER_PACKAGE}.orchestrate"}}


def test_the_core_never_imports_the_dagster_package_nor_dagster():
    graph = import_graph()
    upward = sorted(f"{m} -> {t}" for m, ts in graph.items() if not _in_dagster_package(m)
                    for t in ts if _in_dagster_package(t) and t not in ENTRY_POINTS.get(m, ()))
    assert upward == []
    outside = sorted(m for m, uses in dagster_imports().items() if uses and not _in_dagster_package(m))
    assert outside == []


def test_nothing_outside_the_cli_imports_it():
    cli = "bench_pipeline.cli"
    upward = sorted(f"{m} -> {t}" for m, ts in import_graph().items() if not (m == cli or m.startswith(cli + "."))
                    for t in ts if t == cli or t.startswith(cli + "."))
    assert upward == []


def test_the_graph_counts_the_packages_python_runs():
    # defs/automation.py imports bench_pipeline.suites.grid's cells module; Python runs suites/grid/ first
    assert {"bench_pipeline.suites", "bench_pipeline.suites.grid", "bench_pipeline.suites.grid.cells"} <= \
        import_graph()["bench_pipeline.defs.automation"]


def test_few_modules_sit_loose_at_the_top_of_the_package():
    loose = sorted(p.name for p in ROOT.glob("*.py"))
    assert len(loose) <= 5, loose


def test_no_private_dagster_module_is_imported():
    private = []
    for path in ROOT.rglob("*.py"):
        for n in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in n.names] if isinstance(n, ast.Import) else \
                [n.module or ""] if isinstance(n, ast.ImportFrom) else []
            private += [f"{_module_name(path)}: {m}" for m in names if m.startswith("dagster._")]
    assert private == []


def test_the_graph_reader_sees_a_cycle_and_an_upward_import():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []
