"""Every engine answers every query as the reference does, on generated and lab-written data."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench_pipeline.engines import ENGINE_NAMES, VARIANTS, UnknownEngine, engine_class
from bench_pipeline.workloads.social import validate
from bench_pipeline.workloads.social.catalogue import ALL_QUERY_NAMES


def _params():
    for engine in (*ENGINE_NAMES, *VARIANTS):
        if engine_class(engine).needs_cluster:
            continue  # answered on a real cluster in test_ray_cluster.py
        marks = [pytest.mark.spark] if engine == "pyspark" else []
        for query in ALL_QUERY_NAMES:  # the grid's L, A, B, C and the limits suite's F
            yield pytest.param(engine, query, id=f"{engine}-{query}", marks=marks)


@pytest.mark.parametrize("engine,query", list(_params()))
@pytest.mark.parametrize("dataset", ["small_data", "lab_data"])
def test_answer_matches_reference(started_engines, request, engine, query, dataset):
    data = request.getfixturevalue(dataset)
    eng = started_engines(engine)
    result = eng.run(query, data)
    answer = eng.to_arrow(result)
    eng.after_run(result)
    validate(query, answer, data)
    assert answer.num_rows > 0


@pytest.mark.parametrize("engine,words", [("datafusion", ["Filter", "Join"]), ("daft", ["Filter", "Join"])])
def test_lazy_engines_show_the_plan_they_run(started_engines, small_data, engine, words):
    plan = started_engines(engine).plan("C", small_data)
    assert all(w in plan for w in words), plan


def test_unknown_engine_is_named():
    with pytest.raises(UnknownEngine, match="'sqlite'"):
        engine_class("sqlite")
    with pytest.raises(UnknownEngine, match="cannot be loaded"):
        engine_class("no.such.module:Engine")


def test_registry_names_its_engines():
    assert {engine_class(n).name for n in (*ENGINE_NAMES, *VARIANTS)} == {*ENGINE_NAMES, *VARIANTS}


def test_a_mode_variant_is_stale_when_its_base_engine_changes():
    """polars-streaming is PolarsEngine's plans with another collect: its hash covers both modules and the base."""
    from bench_pipeline.engines import base, polars_engine, polars_modes
    from bench_pipeline.results.versions import _hash_files, engine_code_hash

    files = sorted(Path(m.__file__).resolve() for m in (base, polars_engine, polars_modes))
    assert engine_code_hash("polars-streaming") == _hash_files(files)
    assert engine_code_hash("polars-streaming") != engine_code_hash("polars")


def test_engine_code_hash_follows_its_own_module(tmp_path, monkeypatch):
    from bench_pipeline.results.versions import engine_code_hash

    monkeypatch.syspath_prepend(str(tmp_path))
    module = tmp_path / "my_engine_mod.py"
    module.write_text("from bench_pipeline.engines.duckdb_engine import DuckDBEngine as MyEngine\n")
    before = engine_code_hash("my_engine_mod:MyEngine")
    assert before == engine_code_hash("my_engine_mod:MyEngine")
    module.write_text(module.read_text() + "# a changed line\n")
    assert engine_code_hash("my_engine_mod:MyEngine") != before
    assert engine_code_hash("polars") != engine_code_hash("duckdb")


def test_the_queries_sql_states_the_parameters_the_dataframe_code_uses():
    """The SQL files and the constants the DataFrame code shares (workloads/social/catalogue.py) say the same thing."""
    from bench_pipeline.workloads.social import catalogue as q

    b, c, f = (q.get_query(n).sql for n in ("B", "C", "F"))
    assert f"like_rank <= {q.B_TOP_N}" in b
    assert all(s in c for s in (f"p.device = '{q.C_DEVICE}'", f"p.error_rate < {q.C_MAX_ERROR_RATE}",
                                f"u.followers >= {q.C_MIN_FOLLOWERS}"))
    assert all(s in f for s in (f"SELECT {', '.join(q.F_COLUMNS)}", f"category = '{q.F_CATEGORY}'",
                                f"device = '{q.F_DEVICE}'", f"likes >= {q.F_MIN_LIKES}"))


def test_an_engine_holds_no_query():
    """One query mechanism: the built-in queries live in workloads/social/, not on the engine classes."""
    for name in (*ENGINE_NAMES, *VARIANTS):
        own = [m for m in dir(engine_class(name)) if m.startswith(("query_", "frame_"))]
        assert own == [], (name, own)
