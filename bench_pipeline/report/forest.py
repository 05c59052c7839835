"""The picture of a verdict: every comparison a suite's answer rests on, its ratio and its interval (a forest plot).

One panel per query (or task, or executor step); one row per comparison, named as the ratio it shows
('duckdb / polars': the time of the first over the time of the second, so left of 1 the first is faster). The
point is the ratio of typical times, the bar its interval at the rule's confidence per look, on a log axis; the
±10 % band where two engines count as equivalent is shaded. Colour and words say the rule's answer: a difference
(faster, slower, scales, slows down), equivalent (within the band), or undecided (hollow: more processes would
tell). The answer is written at the end of each row, so the picture reads without the table.

`points` turns questions into rows (pure, tested); `draw` draws them.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; no display on a server
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

from bench_pipeline.analysis import stats  # noqa: E402

DIFFERENT, EQUIVALENT, UNDECIDED = "different", "equivalent", "undecided"
COLORS = {DIFFERENT: "#1f5fa8", EQUIVALENT: "#2a9d4a", UNDECIDED: "#e07b00"}
_LEGEND = {DIFFERENT: "decided: different (faster, slower, scales, slows down)",
           EQUIVALENT: f"decided: equivalent (within ±{stats.MARGIN:.0%})",
           UNDECIDED: "undecided: more processes would tell"}
_ROW, _PANEL_TOP, _COLUMN = 0.34, 0.85, 7.9  # inches: a row, a panel's title and axis, a column's width
_LABEL_CHARS = 36  # a row label wider than its 2.3 inches wraps onto a second line


def _class(answer: str) -> str:
    if answer == stats.UNDECIDED:
        return UNDECIDED
    return EQUIVALENT if answer in ("equivalent", "does not scale") else DIFFERENT


def points(questions: Sequence) -> dict[str, list[dict]]:
    """panel -> its rows, in the order asked: what each row shows (`rounds.Question`s with a comparison)."""
    out: dict[str, list[dict]] = {}
    for q in questions:
        c = q.comparison
        if c is None:
            continue
        subject, reference = _names(q.label)
        speedup = q.kind in ("scaling", "executors")
        shown = f"{1 / c.ratio:.2f}x speedup" if speedup else f"{c.ratio:.2f}x"
        if q.answer == stats.UNDECIDED:
            shown += f", {c.processes[0]}+{c.processes[1]} processes"
        out.setdefault(q.panel, []).append({
            "label": f"{subject} / {reference}", "ratio": c.ratio, "low": c.low, "high": c.high,
            "answer": q.answer, "class": _class(q.answer), "processes": c.processes, "text": f"{q.answer} ({shown})",
        })
    return out


def _names(label: str) -> tuple[str, str]:
    """'pandas 2 vs 1 thread' -> ('pandas 2', '1 thread'); 'a vs b' -> ('a', 'b')."""
    subject, _, reference = label.partition(" vs ")
    return subject, reference or "?"


def draw(questions: Sequence, path: Path, title: str, caption: str = "", columns: int = 2) -> Path | None:
    """The forest plot of `questions` into `path` (PNG); None when no comparison has been measured."""
    panels = points(questions)
    if not panels:
        return None
    names = list(panels)
    columns = max(1, min(columns, len(names)))
    grid_rows = [names[i:i + columns] for i in range(0, len(names), columns)]
    heights = [max(len(panels[n]) for n in row) * _ROW + _PANEL_TOP for row in grid_rows]
    values = [v for rows in panels.values() for r in rows for v in (r["low"], r["high"])]
    lo = min(min(values), 1 / (1 + stats.MARGIN)) / 1.25
    hi = max(max(values), 1 + stats.MARGIN) * 1.25
    # Each column: the row labels (2.3 in), the axes (2.9 in), the answers (2.7 in); placed in inches, not fractions.
    width, height = _COLUMN * columns, sum(heights) + 1.4
    fig = plt.figure(figsize=(width, height))
    top = height - 0.6
    for row, h in zip(grid_rows, heights, strict=True):
        slots = max(len(panels[n]) for n in row)
        for j, name in enumerate(row):
            ax = fig.add_axes(((j * _COLUMN + 2.3) / width, (top - h + 0.55) / height, 2.9 / width,
                               (h - _PANEL_TOP) / height))
            _panel(ax, name, panels[name], lo, hi, slots)
        top -= h
    fig.suptitle(title, fontsize=11, x=0.02, ha="left")
    handles = [Line2D([], [], color=COLORS[k], marker="o", linestyle="-", markerfacecolor="white" if k == UNDECIDED
                      else COLORS[k], label=_LEGEND[k]) for k in (DIFFERENT, EQUIVALENT, UNDECIDED)]
    handles.append(Patch(color="0.88", label=f"±{stats.MARGIN:.0%}: equivalent"))
    fig.legend(handles=handles, loc="lower left", ncol=2, fontsize=7.5, frameon=False, bbox_to_anchor=(0.01, 0.0))
    if caption:
        fig.text(0.99, 0.005, textwrap.shorten(caption, 160), ha="right", va="bottom", fontsize=6.5, color="dimgrey")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _panel(ax, name: str, rows: list[dict], lo: float, hi: float, slots: int) -> None:
    ax.set_xscale("log")
    ax.set_xlim(lo, hi)
    ax.set_ylim(slots - 0.5, -0.5)
    ax.axvspan(1 / (1 + stats.MARGIN), 1 + stats.MARGIN, color="0.88", zorder=0)
    ax.axvline(1, color="0.35", linewidth=0.8, zorder=1)
    for y, r in enumerate(rows):
        color = COLORS[r["class"]]
        ax.plot([r["low"], r["high"]], [y, y], color=color, linewidth=2, solid_capstyle="butt", zorder=2)
        ax.plot([r["ratio"]], [y], "o", color=color, markersize=6, zorder=3,
                markerfacecolor="white" if r["class"] == UNDECIDED else color)
        ax.annotate(r["text"], xy=(1.01, y), xycoords=("axes fraction", "data"), va="center", fontsize=7.5,
                    color=color)
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels([textwrap.fill(r["label"], _LABEL_CHARS) for r in rows], fontsize=7.5)
    ax.set_title(name, fontsize=9, loc="left")
    ax.tick_params(axis="x", labelsize=7)
    ax.set_xlabel(f"time ratio, {stats.LOOK_CONFIDENCE:.1%} interval (left of 1: the first faster)", fontsize=6.5)
    ticks = [t for t in (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100) if lo <= t <= hi]
    ax.set_xticks(ticks)
    ax.set_xticklabels([f"{t:g}" for t in ticks])
    ax.minorticks_off()
    ax.grid(axis="x", color="0.92", linewidth=0.6)
