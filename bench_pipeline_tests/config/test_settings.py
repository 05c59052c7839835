"""Settings precedence (defaults < settings.json < BENCH_* < options) and each bad value refused in one line.

No process is started and nothing is measured: these run in well under a second."""

from __future__ import annotations

import json

import pytest

from bench_pipeline.config.settings import Settings, SettingsError


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    """No BENCH_* variable of the test session leaks in; BENCH_HOME is a fresh folder."""
    import os

    for k in [k for k in os.environ if k.startswith("BENCH_")]:
        monkeypatch.delenv(k)
    monkeypatch.setenv("BENCH_HOME", str(tmp_path))
    return monkeypatch, tmp_path


def test_each_source_overrides_the_one_below(clean_env):
    mp, home = clean_env
    assert Settings.from_env().rows == 5_000_000 and Settings.from_env().max_processes == 20  # the defaults
    (home / "settings.json").write_text(json.dumps({"rows": 1000, "repeats": 4, "time_budget_s": 300.0}))
    s = Settings.from_env()
    assert (s.rows, s.repeats, s.time_budget_s) == (1000, 4, 300.0)  # the file over the defaults
    mp.setenv("BENCH_ROWS", "2000")
    mp.setenv("BENCH_THREADS", "1,2")
    s = Settings.from_env()
    assert (s.rows, s.repeats, s.threads) == (2000, 4, (1, 2))  # BENCH_* over the file
    s = Settings.from_env(rows=3000, repeats=None)
    assert (s.rows, s.repeats) == (3000, 4)  # an option over everything; None is "not given"


def test_saved_choices_are_read_back_and_keep_the_rest(clean_env):
    _, home = clean_env
    (home / "settings.json").write_text(json.dumps({"limits": {"sweep_budget_mib": 300}}))
    Settings.from_env(rows=1234, engines="duckdb,polars").save()
    data = json.loads((home / "settings.json").read_text())
    assert data["limits"] == {"sweep_budget_mib": 300} and data["rows"] == 1234
    assert Settings.from_env().engines == ("duckdb", "polars")


@pytest.mark.parametrize("source, value, words", [
    ("env", ("BENCH_ROWS", "0"), ["BENCH_ROWS", "rows"]),
    ("env", ("BENCH_ROWS", "ten"), ["BENCH_ROWS"]),
    ("env", ("BENCH_ENGINES", "sqlite"), ["BENCH_ENGINES", "sqlite"]),
    ("env", ("BENCH_MAX_PROCESSES", "21"), ["BENCH_MAX_PROCESSES"]),
    ("env", ("BENCH_TIME_BUDGET_S", "-5"), ["BENCH_TIME_BUDGET_S"]),
    ("file", {"rows": "many"}, ["settings.json", "'rows'"]),
    ("file", {"color": "blue"}, ["settings.json", "unknown key 'color'"]),
    ("option", {"query_budget_s": 0}, ["query_budget_s"]),
    ("option", {"threads": (0,)}, ["threads"]),
])
def test_a_bad_value_is_one_line_naming_its_source(clean_env, source, value, words):
    mp, home = clean_env
    explicit = {}
    if source == "env":
        mp.setenv(*value)
    elif source == "file":
        (home / "settings.json").write_text(json.dumps(value))
    else:
        explicit = value
    with pytest.raises(SettingsError) as err:
        Settings.from_env(**explicit)
    text = str(err.value)
    assert "\n" not in text and all(w in text for w in words), text


def test_a_corrupt_settings_file_or_a_home_that_is_a_file_is_refused(clean_env, tmp_path):
    _, home = clean_env
    (home / "settings.json").write_text("{not json")
    with pytest.raises(SettingsError, match="not valid JSON"):
        Settings.from_env()
    a_file = tmp_path / "home-file"
    a_file.write_text("")
    with pytest.raises(SettingsError, match="is a file, not a folder"):
        Settings.from_env(home=a_file)
