"""The self-contained HTML report: one section per suite, rendered from Jinja2 templates with autoescaping.

The page is `templates/report.html.j2` (head, the sections, the machine) with the
shared macros of `templates/macros.html.j2` (tables, facts, figures). Each suite
writes its own section: `suites/<name>/section.py` gathers what it shows and
`suites/<name>/report.html.j2` lays it out. Figures are inlined as data URIs, so
the file can be mailed or attached on its own.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
from collections.abc import Sequence
from pathlib import Path

import jinja2

from bench_pipeline import suites
from bench_pipeline.analysis.history.section import section as history_section
from bench_pipeline.report import fmt
from bench_pipeline.report.images import data_uri
from bench_pipeline.results import fields
from bench_pipeline.suites import ReportInputs, Section

_HERE = Path(__file__).resolve().parent
_PACKAGE = _HERE.parent


def _facts(items: dict) -> list[tuple[str, str]]:
    """(name, text) pairs: names without `_bytes`, byte counts as MiB/GiB, counts with thousands separators."""
    out = []
    for k, v in items.items():
        text = (fmt.size(v) if k.endswith("_bytes") and isinstance(v, int) else
                f"{v:,}" if isinstance(v, int) and not isinstance(v, bool) and k != "logical_cores" else
                fmt.value(v))
        out.append((k.removesuffix("_bytes").replace("_", " "), text))
    return out


@functools.cache
def environment() -> jinja2.Environment:
    """The page's templates, each suite's as `<suite>/report.html.j2`; every value escaped unless marked safe."""
    loader = jinja2.ChoiceLoader([
        jinja2.FileSystemLoader(_HERE / "templates"),
        jinja2.PrefixLoader({name: jinja2.FileSystemLoader(_PACKAGE / "suites" / name) for name in suites.NAMES}
                            | {"history": jinja2.FileSystemLoader(_PACKAGE / "analysis" / "history")}),
    ])
    env = jinja2.Environment(loader=loader, autoescape=True, undefined=jinja2.StrictUndefined,
                             trim_blocks=True, lstrip_blocks=True)
    env.filters.update(v=fmt.value, mark=fmt.mark, facts=_facts, data_uri=data_uri)
    env.globals.update(columns=fields.columns)  # a table's columns from the one vocabulary (fields.py)
    return env


def sections(inputs: ReportInputs) -> tuple[list[Section], list[str]]:
    """Every suite's section, in the registry's order, and the suites with nothing measured yet."""
    shown, missing = [], []
    for suite in suites.all_suites():
        section = suite.section(inputs)
        if section is None:
            missing.append(f"{suite.name} (bench-pipeline {suite.command})")
        else:
            shown.append(section)
    if (history := history_section(inputs)) is not None:  # across suites: after them
        shown.append(history)
    return shown, missing


def render(sections: Sequence[Section], machine: dict, missing: Sequence[str] = ()) -> str:
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return environment().get_template("report.html.j2").render(sections=sections, machine=machine,
                                                               missing=missing, generated=now)


def write_report(path: Path, sections: Sequence[Section], machine: dict, missing: Sequence[str] = ()) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")  # two commands may write it at once
    tmp.write_text(render(sections, machine, missing))
    tmp.replace(path)
    return path
