"""History figures: time against date, one panel per query, one line per series (history/__init__.py).

A point is a measurement's median warm time with its 95 % interval as the bar. Only the points of one series
(same data, machine, thread setting) are joined; a point where the engine's version changed is ringed and
labelled with the new version, so a step in a line can be read against the release that made it.
"""

from __future__ import annotations

from pathlib import Path

from bench_pipeline.analysis import stats
from bench_pipeline.analysis.history import machine_name


def _label(row: dict, several_machines: bool) -> str:
    text = f"{row['engine']} {row['threads']} thr"
    return f"{text}, {machine_name(row)}" if several_machines else text


MAX_PANELS = 6  # a 22-query workload would be a metre-tall figure: its flagged queries first, then the others


def draw_history(rows: list[dict], path: Path, title: str, first: set[str] = frozenset()) -> Path | None:
    """The figure of these measurements (one suite or workload), or None when no series has two points yet;
    at most MAX_PANELS queries, those in `first` (with a flagged change) before the others."""
    import matplotlib  # matplotlib: only where it is used

    matplotlib.use("Agg")
    import matplotlib.dates as mdates  # matplotlib: only where it is used
    import matplotlib.pyplot as plt  # matplotlib: only where it is used

    valid = [r for r in rows if r["status"] == "ok" and r["median_seconds"]]
    series: dict[str, list[dict]] = {}
    for r in valid:
        series.setdefault(r["series"], []).append(r)
    series = {k: sorted(v, key=lambda r: r["measured_at"]) for k, v in series.items() if len(v) >= 2}
    if not series:
        return None
    every = sorted({s[0]["query"] for s in series.values()}, key=lambda q: (q not in first, q))
    queries = every[:MAX_PANELS]
    if len(every) > len(queries):
        title = f"{title} ({len(queries)} of {len(every)} queries, flagged ones first; all in table `history`)"
    several_machines = len({machine_name(s[0]) for s in series.values()}) > 1
    fig, axes = plt.subplots(len(queries), 1, figsize=(11, 3.2 * len(queries)), squeeze=False, layout="constrained")
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    labels = sorted({_label(s[0], several_machines) for s in series.values()})
    colour = {label: colours[i % len(colours)] for i, label in enumerate(labels)}
    for ax, query in zip(axes[:, 0], queries, strict=True):
        for points in series.values():
            if points[0]["query"] != query:
                continue
            label = _label(points[0], several_machines)
            x = [p["measured_at"] for p in points]
            y = [p["median_seconds"] for p in points]
            intervals = [stats.typical(p["warm_list"] or []) for p in points]
            low = [v - (i.low if i else v) for v, i in zip(y, intervals, strict=True)]
            high = [(i.high if i else v) - v for v, i in zip(y, intervals, strict=True)]
            ax.errorbar(x, y, yerr=[low, high], marker="o", ms=4, capsize=3, color=colour[label], label=label)
            for before, after in zip(points, points[1:], strict=False):
                if before["engine_version"] != after["engine_version"]:
                    ax.plot([after["measured_at"]], [after["median_seconds"]], "o", ms=11, mfc="none",
                            mec=colour[label], mew=1.5)
                    ax.annotate(str(after["engine_version"]),
                                (after["measured_at"], after["median_seconds"]), textcoords="offset points",
                                xytext=(6, 8), fontsize=8, color=colour[label])
        locator = mdates.AutoDateLocator()
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
        ax.margins(x=0.08)
        ax.set_title(f"query {query}", fontsize=10)
        ax.set_ylabel("median warm time (s, log)\nbar: 95 % interval", fontsize=8)
        ax.set_yscale("log")  # engines 30x apart on one panel: each line's own steps stay visible
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="upper left")
    axes[-1, 0].set_xlabel("measured at (UTC); ringed and labelled: the engine's version changed there")
    fig.suptitle(f"History of {title}", fontsize=11)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def draw_all(rows: list[dict], plots_dir: Path, changes=()) -> list[Path]:
    """One figure per suite (and per workload) that has a series of two or more measurements; `changes` (the
    flagged ones) choose which queries come first."""
    flagged = {(c.suite, c.workload, c.query) for c in changes}
    groups: dict[tuple[str, str], list[dict]] = {}
    for r in rows:
        groups.setdefault((r["suite"], r["workload"]), []).append(r)
    drawn = []
    for (suite, workload), group in sorted(groups.items()):
        name = f"history_{suite}" + (f"_{workload}" if workload else "")
        title = f"workload {workload}" if workload else f"suite {suite}"
        first = {q for s, w, q in flagged if (s, w) == (suite, workload)}
        if (p := draw_history(group, plots_dir / f"{name}.png", title, first)) is not None:
            drawn.append(p)
    return drawn
