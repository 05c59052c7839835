"""The self-contained HTML report: plots inline, tables, machine, versions, dataset, statuses."""

from __future__ import annotations

import base64
import datetime as dt
import html
import os
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from bench_pipeline.queries import SUMMED_QUERIES

MiB = 2**20


def _table(rows: list[dict], columns: Sequence[tuple[str, str, str]]) -> str:
    """columns: (key, header, format spec) triples; None shows as '-'."""
    head = "".join(f"<th>{html.escape(h)}</th>" for _, h, _ in columns)
    body = []
    for r in rows:
        cells = []
        for key, _, fmt in columns:
            v = r.get(key)
            text = "-" if v is None else (format(v, fmt) if fmt else str(v))
            cls = ' class="bad"' if key == "status" and v not in ("ok", None) else ""
            cells.append(f"<td{cls}>{html.escape(text)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def _facts(items: dict) -> str:
    """A two-column table of facts, names as row headers (no empty header row); byte counts as MiB/GiB."""
    from bench_pipeline.state import size_text

    rows = []
    for k, v in items.items():
        text = (size_text(v) if k.endswith("_bytes") and isinstance(v, int) else
                f"{v:,}" if isinstance(v, int) and not isinstance(v, bool) and k != "logical_cores" else
                "-" if v is None else str(v))
        rows.append(f"<tr><th>{html.escape(k.removesuffix('_bytes').replace('_', ' '))}</th>"
                    f"<td style='text-align:left'>{html.escape(text)}</td></tr>")
    return f"<table>{''.join(rows)}</table>"


def _verdict_section(verdict) -> str:
    """At the top of the report: the answer, with the rule that decided it and its caveats."""
    if verdict is None or not verdict.queries:
        return ""
    from bench_pipeline.queries import QUERIES
    from bench_pipeline.verdict import rule

    rows = []
    for q, v in verdict.queries.items():
        memory = (f"{v.smallest_memory[0]} ({v.smallest_memory[1] / MiB:,.0f} MiB)" if v.smallest_memory else "-")
        scaling = "<br>".join(f"{html.escape(s.engine)}: {html.escape(s.text())}" for s in v.scaling) or "-"
        rows.append(f"<tr><th>{html.escape(q)}</th><td style='text-align:left'>{html.escape(QUERIES[q].title)}: "
                    f"{html.escape(QUERIES[q].description)}</td><td>{v.threads}</td>"
                    f"<td><b>{html.escape(v.fastest or 'none valid')}</b></td>"
                    f"<td style='text-align:left'>{html.escape(', '.join(v.tied_with) or '-')}</td>"
                    f"<td style='text-align:left'>{scaling}</td><td>{html.escape(memory)}</td></tr>")
    items = "".join(f"<li>{html.escape(line)}</li>" for line in verdict.recommendation)
    caveats = "".join(f"<li>{html.escape(line)}</li>" for line in verdict.caveats)
    return (f'<section id="verdict"><h2>Verdict</h2><ul>{items}</ul>'
            f"<table><tr><th>query</th><th>what it does</th><th>threads</th><th>fastest</th>"
            f"<th>cannot be told apart from it</th><th>speedup from 1 thread (95 % interval)</th>"
            f"<th>smallest memory</th></tr>{''.join(rows)}</table>"
            f"<p><small>The rule: {html.escape(rule())}.</small></p><p>Caveats:</p><ul>{caveats}</ul></section>")


def _plot_order(path: Path) -> tuple:
    """Per query: speedup, then time, then memory."""
    kind, _, query = path.stem.partition("_")
    return (query, {"speedup": 0, "time": 1, "memory": 2}.get(kind, 3), path.name)


def _img(path: Path) -> str:
    data = base64.b64encode(path.read_bytes()).decode()
    return f'<figure><img alt="{html.escape(path.stem)}" src="data:image/png;base64,{data}"></figure>'


def _cluster_section(cluster: dict | None, findings: Sequence[str], plots: Sequence[Path]) -> str:
    if not cluster or not cluster["metrics_cluster"]:
        return ""
    for r in cluster["metrics_cluster"]:
        r["peak_mib"] = r["peak_rss_bytes"] / MiB if r.get("peak_rss_bytes") else None
    cols = [
        ("executors", "executors", ""), ("data_layout", "layout", ""), ("query", "query", ""),
        ("status", "status", ""), ("median_seconds", "median s", ".4f"), ("cold_seconds", "cold s", ".4f"),
        ("speedup", "speedup", ".2f"), ("ideal_speedup", "ideal", ".2f"), ("peak_mib", "peak MiB (all JVMs)", ",.0f"),
        ("processes", "processes", ""), ("startup_seconds", "session start s", ".1f"),
        ("cluster_start_seconds", "cluster start s", ".1f"), ("master_url", "master", ""),
        ("executor_memory", "executor memory", ""), ("message", "message", ""),
    ]
    compare_cols = [
        ("query", "query", ""), ("cluster_seconds", "cluster best s", ".4f"), ("cluster_config", "cluster best at", ""),
        ("spark_local_seconds", "Spark local s", ".4f"), ("best_single_seconds", "best single-node s", ".4f"),
        ("best_single", "best single-node", ""),
    ]
    items = "".join(f"<li>{html.escape(f)}</li>" for f in findings)
    return (f"<h2>Spark on a cluster</h2><p>Computed from the measurements below; rerun on another machine "
            f"and these sentences follow its numbers.</p><ul>{items}</ul>"
            f"{''.join(_img(p) for p in plots)}"
            f"<h3>Cluster, Spark local and the best single-node engine</h3>"
            f"{_table(cluster['metrics_cluster_compare'], compare_cols)}"
            f"<h3>Every cluster cell (latest)</h3>{_table(cluster['metrics_cluster'], cols)}")


def _wars_section(rows: Sequence[dict] | None, plots: Sequence[Path], missing: dict[str, str] | None,
                  data: dict | None) -> str:
    if not rows and not missing:
        return ""
    cols = [
        ("query", "workload", ""), ("engine", "engine", ""), ("threads_asked", "threads", ""),
        ("status", "status", ""), ("cold_seconds", "cold s", ".4f"), ("median_seconds", "median s", ".4f"),
        ("cv", "cv", ".3f"), ("peak_mib", "peak MiB", ",.0f"), ("startup_seconds", "start-up s", ".2f"),
        ("answer_rows", "answer rows", ""), ("zero_copy", "zero-copy hand-off", ""), ("message", "message", ""),
    ]
    gone = "".join(f"<li>{html.escape(e)}: {html.escape(r)}</li>" for e, r in sorted((missing or {}).items()))
    return ("<h2>The Engine Wars workloads</h2><p>The article's workloads on their own generated data, each "
            "engine's answer checked against a reference; images served over HTTP on 127.0.0.1 by the project. "
            "Peak memory is the whole process tree's (Spark's JVM and Python workers included).</p>"
            + (f"<p>Engines that cannot run here (measured as <em>skipped</em>):</p><ul>{gone}</ul>" if gone else "")
            + (_facts(data) if data else "")
            + "".join(_img(p) for p in plots)
            + _table(list(rows or []), cols))


def _mark(value: object) -> str:
    return {True: "yes", False: "no", None: "-"}.get(value, str(value)) if isinstance(value, bool | None) \
        else str(value)


def _limits_section(limits) -> str:
    """Polars' modes, the budget table, the size sweep, the capability table, the decision boundary."""
    if limits is None or limits.empty:
        return ""
    budget_mib = limits.budget_bytes / MiB
    for table in (limits.metrics["metrics_modes"], limits.metrics["metrics_sweep"], limits.budget_rows):
        for r in table:
            r["peak_mib"] = r["peak_rss_bytes"] / MiB if r.get("peak_rss_bytes") else None
    plots = {p.stem: p for p in limits.plots}
    mode_cols = [("mode", "mode", ""), ("query", "query", ""), ("status", "status", ""),
                 ("median_seconds", "median s", ".4f"), ("cold_seconds", "cold s", ".4f"), ("cv", "cv", ".3f"),
                 ("peak_mib", "peak MiB", ",.0f"), ("dataset_rows", "rows", ","), ("warm_runs", "warm runs", "")]
    plans = "".join(
        f"<details><summary>{html.escape(r['mode'])} plan of query {html.escape(r['query'])}</summary>"
        f"<pre>{html.escape(r['plan'] or 'no plan: eager operations run as they are called')}</pre></details>"
        for r in limits.metrics["metrics_modes"])
    budget_cols = [("engine", "engine", ""), ("query", "query", ""), ("status", "status", ""),
                   ("median_seconds", "median s", ".3f"), ("peak_mib", "peak MiB", ",.0f"),
                   ("peak_to_budget", "peak / budget", ".2f"), ("how", "completed by", ""),
                   ("engine_limits", "engine's own limits", ""), ("message", "message", "")]
    sweep_cols = [("engine", "engine", ""), ("query", "query", ""), ("dataset_rows", "rows", ","),
                  ("status", "status", ""), ("median_seconds", "median s", ".3f"), ("cold_seconds", "cold s", ".3f"),
                  ("warm_runs", "warm runs", ""), ("peak_mib", "peak MiB", ",.0f")]
    sizes = "".join(f"<li>{n:,} rows: {b / MiB:,.0f} MiB in memory ({b / limits.budget_bytes:.2f}x the budget)</li>"
                    for n, b in sorted(limits.arrow_bytes.items()))
    engines = list(dict.fromkeys(e.engine for e in limits.capabilities))
    caps = list(dict.fromkeys(e.capability for e in limits.capabilities))
    cell = {(e.engine, e.capability): e for e in limits.capabilities}
    from bench_pipeline.suites.limits.metrics import CAPABILITY_TITLES

    head = "".join(f"<th>{html.escape(CAPABILITY_TITLES[c])}</th>" for c in caps)
    body = ""
    for engine in engines:
        tds = ""
        for c in caps:
            e = cell[(engine, c)]
            measured = "not measured" if e.measured is None else ("yes" if e.measured else "no")
            cls = ' class="bad"' if e.disagrees else ""
            tds += (f"<td{cls} style='text-align:left'>lab: {html.escape(_mark(e.claim))}<br>measured: "
                    f"{html.escape(measured)}<br><small>{html.escape(e.evidence)}</small></td>")
        body += f"<tr><th>{html.escape(engine)}</th>{tds}</tr>"
    disagreements = "".join(f"<li>{html.escape(d)}</li>" for d in limits.disagreements) or \
        "<li>none where a measurement was possible</li>"

    def items(lines):
        return "".join(f"<li>{html.escape(x)}</li>" for x in lines)

    def img(stem):
        return _img(plots[stem]) if stem in plots else f"<p class='bad'>{stem}: not drawn (nothing measured)</p>"

    return (f"<h2>Execution models and limits</h2>"
            f"<h3>Polars: eager, lazy, streaming</h3><ul>{items(limits.modes)}</ul>{img('limits_modes')}"
            f"{_table(limits.metrics['metrics_modes'], mode_cols)}{plans}"
            f"<h3>Under a memory budget of {budget_mib:,.0f} MiB (largest sweep size)</h3>"
            f"<p>The budget is enforced on the whole process tree (the worker is killed the moment its RSS "
            f"exceeds it: status oom) and passed to the engines' own limits. Data sizes:</p><ul>{sizes}</ul>"
            f"{_table(limits.budget_rows, budget_cols)}"
            f"<h3>Size sweep</h3>{img('limits_sweep_time')}{img('limits_sweep_memory')}"
            f"{_table(limits.metrics['metrics_sweep'], sweep_cols)}"
            f"<h3>Capabilities: the lab's table and what was measured</h3>"
            f"<table><tr><th>engine</th>{head}</tr>{body}</table>"
            f"<p>Where the lab's table and the measurement disagree:</p><ul>{disagreements}</ul>"
            f"<h3>Decision boundary: single node or Spark</h3><p>Computed from the sweep and the budget runs "
            f"above; rerun on another machine and these sentences follow its numbers.</p>"
            f"<ul>{items(limits.decision)}</ul>")


def render(metrics: dict[str, list[dict]], plots: Sequence[Path], machine: dict, dataset: dict,
           cores: int, cluster: dict | None = None, cluster_findings: Sequence[str] = (),
           cluster_plots: Sequence[Path] = (), limits=None, wars: Sequence[dict] | None = None,
           wars_plots: Sequence[Path] = (), wars_missing: dict[str, str] | None = None,
           wars_data: dict | None = None, verdict=None) -> str:
    latest = metrics["metrics_latest"]
    for r in latest:
        r["peak_mib"] = r["peak_rss_bytes"] / MiB if r.get("peak_rss_bytes") else None
    for table, key in (("metrics_latest", "threads_asked"), ("metrics_speedup", "threads"),
                       ("metrics_load_vs_query", "threads")):
        for r in metrics[table]:
            r["threads_label"] = f"{r[key]}" + (" (oversubscribed)" if r[key] > cores else "")
    statuses = Counter(r["status"] for r in latest)
    versions = sorted({(r["engine"], r["engine_version"]) for r in latest})
    for r in latest:
        r["noisy_label"] = "noisy" if r.get("noisy") else ""
    for r in metrics["metrics_speedup"]:
        r["flags"] = ", ".join(f for f, on in (("suspect: above ideal", r.get("suspect")), ("noisy", r.get("noisy")))
                               if on)
    summary_cols = [
        ("engine", "engine", ""), ("threads_label", "threads", ""), ("threads_verified", "verified", ""),
        ("query", "query", ""), ("status", "status", ""), ("cold_seconds", "cold s", ".4f"),
        ("median_seconds", "median s", ".4f"), ("ci_low", "95 % low (own runs)", ".4f"),
        ("ci_high", "95 % high", ".4f"),
        ("min_seconds", "min s", ".4f"), ("max_seconds", "max s", ".4f"), ("warm_runs", "warm runs", ""),
        ("cv", "cv", ".3f"), ("noisy_label", "noise", ""), ("peak_mib", "peak MiB", ",.0f"),
        ("startup_seconds", "start-up s", ".2f"), ("message", "message", ""),
    ]
    speedup_cols = [
        ("engine", "engine", ""), ("query", "query", ""), ("threads_label", "threads", ""), ("status", "status", ""),
        ("median_seconds", "median s", ".4f"), ("speedup", "speedup", ".2f"), ("speedup_low", "95 % low", ".2f"),
        ("speedup_high", "95 % high", ".2f"), ("efficiency", "efficiency", ".2f"), ("flags", "flags", ""),
    ]
    load_cols = [
        ("engine", "engine", ""), ("threads_label", "threads", ""), ("load_seconds", "load (L) s", ".4f"),
        ("queries_seconds", f"{'+'.join(SUMMED_QUERIES)} s", ".4f"),
        ("valid_queries", f"valid of {','.join(SUMMED_QUERIES)}", ""),
    ]
    from bench_pipeline.queries import QUERIES

    queries = "".join(f"<li><b>{q.name}</b> ({html.escape(q.title)}): {html.escape(q.description)}</li>"
                      for q in QUERIES.values() if any(r["query"] == q.name for r in latest))
    plots = sorted(plots, key=_plot_order)
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>bench_pipeline report</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em; max-width: 1200px; }}
table {{ border-collapse: collapse; margin: 1em 0; font-size: 0.85em; }}
td, th {{ border: 1px solid #ccc; padding: 3px 8px; text-align: right; }}
th {{ background: #f0f0f0; }}
td.bad {{ color: #b00; font-weight: bold; }}
th {{ text-align: left; }}
#verdict {{ border: 2px solid #2a6; padding: 0 1em; background: #f6fff8; }}
figure {{ display: inline-block; margin: 0.5em; }}
img {{ max-width: 560px; }}
</style></head><body>
<h1>bench_pipeline report</h1>
<p>Generated {now}. Status counts over the latest cell of each engine, thread count and query:
{html.escape(", ".join(f"{k}: {v}" for k, v in sorted(statuses.items())) or "no cells yet")}.
Failed and missing cells are shown as such, never as zero.</p>
{_verdict_section(verdict)}
<h2>The queries</h2><ul>{queries}</ul>
<h2>Machine</h2>{_facts(machine)}
<h2>Dataset</h2>{_facts(dataset)}
<h2>Engine versions</h2>{_table([{"e": e, "v": v} for e, v in versions], [("e", "engine", ""), ("v", "version", "")])}
<h2>Plots</h2>{"".join(_img(p) for p in plots)}
<h2>Speedup and parallel efficiency</h2>{_table(metrics["metrics_speedup"], speedup_cols)}
<h2>Load versus query time</h2>{_table(metrics["metrics_load_vs_query"], load_cols)}
<h2>Every cell (latest measurement)</h2>{_table(latest, summary_cols)}
{_cluster_section(cluster, cluster_findings, cluster_plots)}
{_limits_section(limits)}
{_wars_section(wars, wars_plots, wars_missing, wars_data)}
</body></html>
"""


def write_report(path: Path, **kwargs) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")  # two commands may write it at once
    tmp.write_text(render(**kwargs))
    tmp.replace(path)
    return path
