"""Figures from the metrics tables (matplotlib, PNG), drawn so that they tell the truth at a glance.

Per query, three figures:

- speedup against threads, log2-log2: the ideal (speedup = threads) is the line
  y = x through every thread count, the y axis is fitted to the data (the ideal
  leaves the top when every engine stays far below it), error bars are the 95 %
  interval of the speedup, a speedup above the ideal by more than that interval
  is ringed as suspect, a noisy measurement is drawn hollow, and the
  oversubscribed region (threads > cores) is shaded;
- median warm time per engine and thread count on a log axis, so a 10 ms engine
  shows beside a 60 s one, with the 95 % interval (or the min-max of the warm
  runs when the interval is unknown) as error bars and noisy cells outlined;
- peak memory per engine and thread count, linear in MiB.

A cell that failed or is missing is never drawn as a value (nor as zero): it is
marked at the bottom of the axes with its status in red and listed in a note.
Every figure carries the caption (rows, machine, date) as a footer.

The new metric columns (ci_low, ci_high, speedup_low, speedup_high, suspect,
noisy) may be absent or None: absent means unknown, never "fine" nor "bad".
"""

from __future__ import annotations

import datetime as dt
import math
import os
import textwrap
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; no display on a server
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Patch, Rectangle  # noqa: E402
from matplotlib.textpath import TextPath  # noqa: E402
from matplotlib.ticker import FixedLocator, FuncFormatter, LogLocator, NullFormatter, NullLocator  # noqa: E402

from bench_pipeline.report.fmt import GiB, MiB
from bench_pipeline.workloads.social.catalogue import QUERIES, QUERY_NAMES  # noqa: E402

FAIL_COLOR = "red"
SUSPECT_COLOR = "red"
OVERSUB_COLOR = "orange"
CAPTION_COLOR = "dimgrey"

# Figure geometry in inches: the axes, a column on the right for the legend, a footer for notes and caption.
_WIDTH, _AXES_HEIGHT = 10.0, 3.9
_LEFT, _RIGHT_COLUMN, _TOP = 1.05, 2.75, 0.45
_BOTTOM = 0.6  # tick labels and x label under the axes
_LINE = 0.17  # one footer line (7 pt text)
_WRAP = 150  # characters per footer line


# ---------------------------------------------------------------- helpers


def _num(value) -> float | None:
    """A finite float, or None for absent, None or NaN."""
    if value is None:
        return None
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def _flag(row: dict | None, key: str) -> bool:
    """True only when the row says so; absent or None is unknown, drawn as not flagged."""
    return bool(row and row.get(key) is True)


def _fmt_seconds(s: float) -> str:
    if s >= 100:
        return f"{s:.0f} s"
    if s >= 1:
        return f"{s:.3g} s"
    return f"{s * 1000:.3g} ms"


def _fmt_times(v: float) -> str:
    return f"{v:g}×"


def caption_for(rows: int | None, machine: dict | None, measured: Sequence | None = None) -> str:
    """'5,000,000 rows · Intel Xeon Processor, 2 cores, 24 GiB · 2026-11-24' from what is known.

    `measured` is the measured_at values of the cells drawn (datetimes or dates); a span of days is
    shown as 'first to last'. Unknown parts are left out, not guessed.
    """
    parts = []
    if rows is not None:
        parts.append(f"{rows:,} rows")
    if machine:
        m = [str(machine["cpu_model"])] if machine.get("cpu_model") else []
        if machine.get("logical_cores"):
            m.append(f"{machine['logical_cores']} cores")
        if machine.get("total_memory_bytes"):
            m.append(f"{machine['total_memory_bytes'] / GiB:.0f} GiB")
        if m:
            parts.append(", ".join(m))
    days = sorted({(d.date() if isinstance(d, dt.datetime) else d) for d in (measured or []) if d is not None})
    if days:
        parts.append(str(days[0]) if len(days) == 1 else f"{days[0]} to {days[-1]}")
    return " · ".join(parts)


def _new_figure(n_footer_lines: int):
    """A figure with one axes of fixed size, room on the right for the legend and under it for the footer."""
    bottom = _BOTTOM + _LINE * n_footer_lines + 0.1
    height = _TOP + _AXES_HEIGHT + bottom
    fig = plt.figure(figsize=(_WIDTH, height))
    ax = fig.add_axes([_LEFT / _WIDTH, bottom / height, (_WIDTH - _LEFT - _RIGHT_COLUMN) / _WIDTH,
                       _AXES_HEIGHT / height])
    return fig, ax


def _footer_lines(notes: list[tuple[str, str]], caption: str) -> list[tuple[str, str]]:
    """(text, color) lines, wrapped: the notes first, then the caption."""
    lines = []
    for text, color in notes:
        lines += [(line, color) for line in textwrap.wrap(text, _WRAP, subsequent_indent="    ")]
    if caption:
        lines += [(line, CAPTION_COLOR) for line in textwrap.wrap(caption, _WRAP)]
    return lines


def _draw_footer(fig, lines: list[tuple[str, str]]) -> None:
    height = fig.get_figheight()
    for k, (text, color) in enumerate(lines):
        y = (0.08 + _LINE * (len(lines) - 1 - k)) / height
        fig.text(0.08 / _WIDTH, y, text, fontsize=7, color=color, ha="left", va="bottom",
                 gid="caption" if color == CAPTION_COLOR else "note")


def _legend(ax, handles: list, labels: list[str]) -> None:
    """The legend in the column right of the axes: it never hides data."""
    ax.legend(handles, labels, fontsize=8, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0,
              frameon=False)


def _title(query: str, what: str) -> str:
    q = QUERIES.get(query)
    return f"Query {query}" + (f" ({q.title})" if q else "") + f": {what}"


def _log2_ticks(lo: float, hi: float) -> list[float]:
    """Readable ticks for a log axis between lo and hi: the coarsest of powers of two, then 1, 1.5, 2, 3 ...,
    then 1, 1.25, 1.5, 1.75, 2 ... that gives at least 4 ticks (at most 9: powers of two are thinned)."""
    k0, k1 = math.floor(math.log2(lo)), math.ceil(math.log2(hi))
    ticks: list[float] = []
    for subs in ((1.0,), (1.0, 1.5), (1.0, 1.25, 1.5, 1.75)):
        ticks = [m * 2.0**k for k in range(k0, k1 + 1) for m in subs if lo <= m * 2.0**k <= hi]
        if len(ticks) >= 4:
            break
    return ticks[:: math.ceil(len(ticks) / 9)] if ticks else ticks


def _cell_labels(latest: list[dict], engines: Sequence[str], threads: Sequence[int], query: str) -> dict:
    """(engine, threads) -> 'ok' or the failure/missing label for one query."""
    got = {}
    for r in latest:
        if r["query"] == query:
            status = r.get("status") or "unknown"
            if status == "ok" and _num(r.get("median_seconds")) is None:
                status = "no warm runs"
            got[(r["engine"], r["threads_asked"])] = status
    return {(e, t): got.get((e, t), "missing") for e in engines for t in threads}


def _dodge(k: int, n: int) -> float:
    """Multiplicative x offset on a log2 axis so engines' points at one thread count do not overlap."""
    return 2.0 ** ((k - (n - 1) / 2) * 0.06)


_STATUS_ROW = 0.065  # axes fraction between two rows of status labels at the bottom of the speedup axes


def _place_status_labels(labels: list[tuple[int, str]], x_lo: float, x_hi: float) -> list[tuple[int, int]]:
    """(row, side) for each (threads, text) so that no two status labels overlap.

    A label goes right of its marker (side 1), or left (side -1) when it would leave the axes; each takes
    the lowest row where it overlaps nothing. Widths are those of the text's glyphs at 7 pt on the log2 axis.
    """
    octaves = math.log2(x_hi / x_lo)
    per_inch = octaves / (_WIDTH - _LEFT - _RIGHT_COLUMN)
    rows: list[list[tuple[float, float]]] = []
    out = []
    for t, text in labels:
        x = math.log2(t / x_lo)
        w = (TextPath((0, 0), text, size=7).get_extents().width / 72 + 0.12) * per_inch
        side = 1 if x + w <= octaves else -1
        span = (x - 0.1 * per_inch, x + w) if side > 0 else (x - w, x + 0.1 * per_inch)
        row = next((k for k, used in enumerate(rows) if all(span[1] < a or span[0] > b for a, b in used)), len(rows))
        if row == len(rows):
            rows.append([])
        rows[row].append(span)
        out.append((row, side))
    return out


# ---------------------------------------------------------------- speedup


def speedup_points(speedup: list[dict], latest: list[dict], query: str, engines: Sequence[str],
                   threads: Sequence[int]) -> tuple[dict[str, list[dict]], list[tuple[str, int, str]]]:
    """What the speedup figure draws, from the metrics rows: per engine its points (t, s, low, high, suspect,
    noisy; an interval only when both ends are known and positive), and the cells with no valid speedup as
    (engine, threads, status), a missing 1-thread base named as such."""
    threads = sorted(set(threads))
    labels = _cell_labels(latest, engines, threads, query)
    rows = {(r["engine"], r["threads"]): r for r in speedup if r["query"] == query}
    base_label = _cell_labels(latest, engines, [1], query)
    points: dict[str, list[dict]] = {}
    failed: list[tuple[str, int, str]] = []
    for engine in engines:
        points[engine] = []
        for t in threads:
            r = rows.get((engine, t))
            s = _num(r.get("speedup")) if r else None
            if s is None or s <= 0:
                label = labels[(engine, t)]
                if label == "ok":  # the cell is fine, its 1-thread base is not
                    base = base_label[(engine, 1)]
                    label = "no 1-thr base" + (f" ({base})" if base != "ok" else "")
                failed.append((engine, t, label))
                continue
            low, high = _num(r.get("speedup_low")), _num(r.get("speedup_high"))
            if low is None or high is None or low <= 0:
                low = high = None
            suspect = r.get("suspect")
            if suspect is None and low is not None:  # unknown flag, known interval: same rule as the metrics
                suspect = low > t
            points[engine].append({"t": t, "s": s, "low": low, "high": high, "suspect": suspect is True,
                                   "noisy": _flag(r, "noisy")})
    return points, failed


def speedup_figure(speedup: list[dict], latest: list[dict], query: str, engines: Sequence[str],
                   threads: Sequence[int], cores: int, caption: str = ""):
    threads = sorted(set(threads))
    points, failed = speedup_points(speedup, latest, query, engines, threads)

    # y range: the data and its intervals, and 1 (no speedup); the ideal may leave the top.
    ys = [1.0] + [v for pts in points.values() for p in pts for v in (p["s"], p["low"], p["high"]) if v]
    y_lo, y_hi = min(ys) / 1.25, max(ys) * 1.3
    x_lo, x_hi = min(threads) / 1.3, max(threads) * 1.3
    placed = _place_status_labels([(t, f"{e}: {label}") for e, t, label in failed], x_lo, x_hi)
    if failed:  # room at the bottom for the stacked status labels, under every point
        frac = min(_STATUS_ROW * (max(row for row, _ in placed) + 1) + 0.04, 0.5)
        y_lo = 2 ** (math.log2(y_hi) - (math.log2(y_hi) - math.log2(y_lo)) / (1 - frac))

    notes = []
    if failed:
        notes.append(("no valid speedup (× at the bottom is a marker, not a value): " + "; ".join(
            f"{e} {t} thr {label}" for e, t, label in failed), FAIL_COLOR))
    lines = _footer_lines(notes, caption)
    fig, ax = _new_figure(len(lines))
    _draw_footer(fig, lines)
    ax.set_xscale("log", base=2)
    ax.set_yscale("log", base=2)

    handles, names = [], []
    if max(threads) > cores:
        # From between `cores` and `cores + 1`: every thread count above the cores is inside, `cores` is not.
        span = ax.axvspan(math.sqrt(cores * (cores + 1)), x_hi, color=OVERSUB_COLOR, alpha=0.12, linewidth=0,
                          gid="oversubscribed")
        handles.append(span)
        names.append(f"oversubscribed (> {cores} cores)")
    (ideal,) = ax.plot(threads, [float(t) for t in threads], color="grey", linestyle="--", linewidth=1,
                       gid="ideal", label="ideal: speedup = threads")
    handles.insert(0, ideal)
    top = max(threads)
    names.insert(0, "ideal: speedup = threads" + (f"\n(leaves the top; {top}× at {top} thr)" if top > y_hi else ""))
    ax.axhline(1.0, color="grey", linewidth=0.6, alpha=0.6)

    any_interval = any_noisy = any_suspect = False
    n = len(engines)
    for k, engine in enumerate(engines):
        color = f"C{k}"
        pts = points[engine]
        xs = [p["t"] * _dodge(k, n) for p in pts]
        ax.plot(xs, [p["s"] for p in pts], color=color, linewidth=1.5, gid=f"line:{engine}")
        for x, p in zip(xs, pts, strict=True):
            ax.plot([x], [p["s"]], marker="o", markersize=6, color=color, linestyle="none",
                    markerfacecolor="white" if p["noisy"] else color, markeredgewidth=1.5,
                    gid=f"point:{engine}:{p['t']}")
            any_noisy |= p["noisy"]
            if p["suspect"]:
                ax.plot([x], [p["s"]], marker="o", markersize=15, markerfacecolor="none",
                        markeredgecolor=SUSPECT_COLOR, markeredgewidth=2, linestyle="none",
                        gid=f"suspect:{engine}:{p['t']}")
                any_suspect = True
        known = [(x, p) for x, p in zip(xs, pts, strict=True) if p["low"] is not None]
        if known:
            ax.errorbar([x for x, _ in known], [p["s"] for _, p in known],
                        yerr=[[max(p["s"] - p["low"], 0) for _, p in known],
                              [max(p["high"] - p["s"], 0) for _, p in known]],
                        fmt="none", ecolor=color, elinewidth=1.2, capsize=3, label=f"errorbar:{engine}")
            any_interval = True
        handles.append(Line2D([], [], color=color, marker="o", linewidth=1.5))
        names.append(engine)

    # Failed cells: a cross in the engine's colour at the bottom of the axes and the status in red beside it.
    bottom = ax.get_xaxis_transform()  # x in data, y in axes fraction
    band_top = None
    if failed:  # a grey band under the data: what is in it is a status, not a speedup
        band_top = 0.04 + _STATUS_ROW * max(row for row, _ in placed) + 0.035
        ax.add_patch(Rectangle((0, 0), 1, band_top, transform=ax.transAxes, facecolor="#f2f2f2", edgecolor="none",
                               zorder=1.6, gid="status_band"))
        ax.axhline(2 ** (math.log2(y_lo) + band_top * math.log2(y_hi / y_lo)), color="lightgrey", linewidth=0.8,
                   zorder=1.7)
    for (engine, t, label), (row, side) in zip(failed, placed, strict=True):
        y = 0.04 + _STATUS_ROW * row
        ax.plot([t], [y], transform=bottom, marker="x", markersize=7, markeredgewidth=2,
                color=f"C{list(engines).index(engine)}", linestyle="none", clip_on=False, gid=f"failed:{engine}:{t}")
        ax.text(t * 2 ** (0.06 * side), y, f"{engine}: {label}", transform=bottom, color=FAIL_COLOR, fontsize=7,
                ha="left" if side > 0 else "right", va="center", gid=f"status:{engine}:{t}")

    if any_interval:
        handles.append(Line2D([], [], color="black", marker="|", markersize=10, linestyle="none"))
        names.append("bar: 95 % interval")
    if any_noisy:
        handles.append(Line2D([], [], color="black", marker="o", markerfacecolor="white", linestyle="none"))
        names.append("hollow: noisy (CPU busy)")
    if any_suspect:
        handles.append(Line2D([], [], marker="o", markersize=11, markerfacecolor="none",
                              markeredgecolor=SUSPECT_COLOR, markeredgewidth=2, linestyle="none"))
        names.append("above ideal beyond noise:\nsuspect")
    if failed:
        handles.append(Line2D([], [], color="black", marker="x", markeredgewidth=2, linestyle="none"))
        names.append("no valid result (status)")

    ax.set_xlim(x_lo, x_hi)
    ax.set_ylim(y_lo, y_hi)
    ax.xaxis.set_major_locator(FixedLocator(threads))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.xaxis.set_minor_locator(NullLocator())
    y_data_lo = y_lo if band_top is None else 2 ** (math.log2(y_lo) + band_top * math.log2(y_hi / y_lo))
    ax.yaxis.set_major_locator(FixedLocator(_log2_ticks(y_data_lo, y_hi)))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: _fmt_times(v)))
    ax.yaxis.set_minor_locator(NullLocator())
    ax.grid(True, which="major", alpha=0.25)
    ax.set_xlabel("threads (log scale)")
    ax.set_ylabel("speedup vs 1 thread (log scale)")
    ax.set_title(_title(query, "speedup of the median warm time"), fontsize=11)
    _legend(ax, handles, names)
    return fig


# ---------------------------------------------------------------- bars


def bar_points(latest: list[dict], query: str, engines: Sequence[str], threads: Sequence[int],
               metric: str) -> tuple[list[dict], list[tuple[str, int, float, str]]]:
    """What the bars figure draws: the bars (engine, t, x, value in seconds or MiB, j: the thread count's
    colour, noisy, err: (low, high, "ci" | "minmax") or None) and the cells with no valid value as
    (engine, threads, x, status): a failure is never a bar, nor a zero."""
    threads = sorted(set(threads))
    is_time = metric != "peak_rss_bytes"
    scale = 1.0 if is_time else 1 / MiB
    width = _bar_width(threads)
    rows = {(r["engine"], r["threads_asked"]): r for r in latest if r["query"] == query}

    bars, failed = [], []  # bars: dicts with x, value, err (low, high, kind), noisy, t
    for j, t in enumerate(threads):
        for i, engine in enumerate(engines):
            x = i + (j - (len(threads) - 1) / 2) * width
            r = rows.get((engine, t))
            value = _num(r.get(metric)) if r else None
            if r is None or r.get("status") != "ok" or value is None or value <= 0:
                label = "missing" if r is None else (r.get("status") or "unknown")
                if label == "ok":
                    label = "no warm runs" if is_time else "no memory reading"
                failed.append((engine, t, x, label))
                continue
            bar = {"engine": engine, "t": t, "x": x, "value": value * scale, "j": j,
                   "noisy": is_time and _flag(r, "noisy"), "err": None}
            if is_time:
                lo, hi = _num(r.get("ci_low")), _num(r.get("ci_high"))
                kind = "ci"
                if lo is None or hi is None:
                    lo, hi, kind = _num(r.get("min_seconds")), _num(r.get("max_seconds")), "minmax"
                if lo is not None and hi is not None and lo > 0:
                    bar["err"] = (lo, hi, kind)
            bars.append(bar)
    return bars, failed


def _bar_width(threads: Sequence[int]) -> float:
    return 0.8 / max(len(set(threads)), 1)


def bars_figure(latest: list[dict], query: str, engines: Sequence[str], threads: Sequence[int],
                metric: str, cores: int, caption: str = ""):
    """Grouped bars: one group per engine, one bar per thread count.

    metric 'median_seconds': log axis, error bars, noisy cells outlined; 'peak_rss_bytes': linear MiB.
    """
    threads = sorted(set(threads))
    is_time = metric != "peak_rss_bytes"
    width = _bar_width(threads)
    bars, failed = bar_points(latest, query, engines, threads, metric)

    notes = []
    if failed:
        notes.append(("no valid value (status in red instead of a bar, not a zero): " + "; ".join(
            f"{e} {t} thr {label}" for e, t, _, label in failed), FAIL_COLOR))
    lines = _footer_lines(notes, caption)
    fig, ax = _new_figure(len(lines))
    _draw_footer(fig, lines)

    if is_time:
        ax.set_yscale("log")
        vals = [b["value"] for b in bars] + [b["err"][k] for b in bars if b["err"] for k in (0, 1)]
        if vals:
            lo_v, hi_v = min(vals), max(vals)
        else:
            lo_v, hi_v = 0.1, 10.0
        y_lo = lo_v / 2.5  # the shortest bar stays visible
        y_hi = hi_v * 4  # room for the value labels above the error bars
        ax.set_ylim(y_lo, y_hi)
    else:
        hi_v = max([b["value"] for b in bars], default=1.0)
        y_lo, y_hi = 0.0, hi_v * 1.18
        ax.set_ylim(y_lo, y_hi)

    handles, names = [], []
    for j, t in enumerate(threads):
        color = f"C{j}"
        oversub = t > cores
        handles.append(Patch(facecolor=color, hatch="//" if oversub else None, edgecolor="white" if oversub else None))
        names.append(f"{t} thr" + (f" (oversubscribed, > {cores} cores)" if oversub else ""))
    for b in bars:
        oversub = b["t"] > cores
        (rect,) = ax.bar(b["x"], b["value"] - y_lo, width * 0.92, bottom=y_lo, color=f"C{b['j']}",
                         hatch="//" if oversub else None, edgecolor="white" if oversub else None, linewidth=0)
        rect.set_gid(f"bar:{b['engine']}:{b['t']}")
        if b["noisy"]:
            rect.set_edgecolor("black")
            rect.set_linestyle((0, (3, 2)))
            rect.set_linewidth(1.6)
            rect.set_alpha(0.55)
        top = b["value"]
        if b["err"]:
            lo, hi, kind = b["err"]
            ax.errorbar([b["x"]], [b["value"]], yerr=[[max(b["value"] - lo, 0)], [max(hi - b["value"], 0)]],
                        fmt="none", ecolor="black" if kind == "ci" else "dimgrey", elinewidth=1, capsize=2.5,
                        linestyle="-" if kind == "ci" else ":", label=f"errorbar:{b['engine']}:{b['t']}:{kind}")
            top = max(top, hi)
        if is_time:
            ax.annotate(_fmt_seconds(b["value"]), (b["x"], top), xytext=(0, 4), textcoords="offset points",
                        ha="center", va="bottom", rotation=90, fontsize=7, gid=f"value:{b['engine']}:{b['t']}")

    for engine, t, x, label in failed:
        ax.text(x, 0.02, label, transform=ax.get_xaxis_transform(), rotation=90, color=FAIL_COLOR, fontsize=7,
                ha="center", va="bottom", gid=f"status:{engine}:{t}")

    if is_time:
        kinds = {b["err"][2] for b in bars if b["err"]}
        if "ci" in kinds:
            handles.append(Line2D([], [], color="black", marker="|", markersize=10, linestyle="none"))
            names.append("bar: 95 % interval")
        if "minmax" in kinds:
            handles.append(Line2D([], [], color="dimgrey", marker=r"$\vdots$", markersize=10, linestyle="none"))
            names.append("dotted: min–max of warm runs\n(interval unknown)")
        if any(b["noisy"] for b in bars):
            handles.append(Patch(facecolor="lightgrey", edgecolor="black", linestyle=(0, (3, 2)), linewidth=1.6))
            names.append("dashed outline: noisy\n(CPU busy while measured)")
        ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0) if y_hi / y_lo < 1e3 else (1.0,)))
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: _fmt_seconds(v)))
        ax.yaxis.set_minor_formatter(NullFormatter())
        ax.set_ylabel("median warm time (log scale)")
        what = "median warm time"
    else:
        ax.set_ylabel("peak memory (MiB)")
        what = "peak memory (RSS)"
    if failed:
        handles.append(Line2D([], [], color=FAIL_COLOR, marker="$a$", linestyle="none"))
        names.append("red text: no valid value (status)")

    ax.set_xlim(-0.5, len(engines) - 0.5)
    ax.set_xticks(range(len(engines)), list(engines))
    ax.grid(True, axis="y", which="major", alpha=0.25)
    ax.set_axisbelow(True)
    ax.set_title(_title(query, what), fontsize=11)
    _legend(ax, handles, names)
    return fig


# ---------------------------------------------------------------- all


PREFIXES = ("speedup_", "time_", "memory_")  # the grid's figure files: <prefix><query>.png


def draw_all(metrics: dict[str, list[dict]], out_dir: Path, engines: Sequence[str], threads: Sequence[int],
             cores: int, caption: str = "") -> list[Path]:
    """Write every figure as PNG into out_dir; return their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    latest, speedup = metrics["metrics_latest"], metrics["metrics_speedup"]
    paths = []
    for q in QUERY_NAMES:
        for name, draw in (
            (f"speedup_{q}.png", lambda q=q: speedup_figure(speedup, latest, q, engines, threads, cores, caption)),
            (f"time_{q}.png", lambda q=q: bars_figure(latest, q, engines, threads, "median_seconds", cores,
                                                      caption)),
            (f"memory_{q}.png", lambda q=q: bars_figure(latest, q, engines, threads, "peak_rss_bytes", cores,
                                                        caption)),
        ):
            fig = draw()
            path = out_dir / name
            tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")  # two commands may draw at once
            try:
                fig.savefig(tmp, dpi=90, format="png")
                tmp.replace(path)  # a reader (the report, the UI) never sees half a file
            finally:
                plt.close(fig)
            paths.append(path)
    return paths
