"""Figures from the metrics tables (matplotlib, PNG).

Per query: speedup against threads for every engine with the ideal line and the
oversubscribed region (threads > cores) shaded; time and peak-memory bars per
engine and thread count. A cell that failed or is missing gets no bar and no
point: it is marked with its status in red, never drawn as zero.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; no display on a server
import matplotlib.pyplot as plt  # noqa: E402

from bench_pipeline.queries import QUERY_NAMES  # noqa: E402

MiB = 2**20


def _cell_labels(latest: list[dict], engines: Sequence[str], threads: Sequence[int], query: str) -> dict:
    """(engine, threads) -> 'ok' or the failure/missing label for one query."""
    got = {(r["engine"], r["threads_asked"]): r["status"] for r in latest if r["query"] == query}
    return {(e, t): got.get((e, t), "missing") for e in engines for t in threads}


def speedup_figure(speedup: list[dict], latest: list[dict], query: str, engines: Sequence[str],
                   threads: Sequence[int], cores: int):
    fig, ax = plt.subplots(figsize=(7, 4.5))
    top = max(threads)
    ax.plot([1, top], [1, top], color="grey", linestyle="--", linewidth=1, label="ideal")
    if top > cores:
        # Starts halfway (on the log axis) between the cores and the next power of two, so a point at
        # exactly `cores` threads is outside the region.
        ax.axvspan(cores * 2**0.5, top * 1.05, color="orange", alpha=0.12, label=f"oversubscribed (> {cores} cores)")
    labels = _cell_labels(latest, engines, threads, query)
    not_valid = []
    for engine in engines:
        pts = sorted((r["threads"], r["speedup"]) for r in speedup
                     if r["engine"] == engine and r["query"] == query and r["speedup"] is not None)
        line = ax.plot(*zip(*pts, strict=True), marker="o", label=engine) if pts else ax.plot([], [], label=engine)
        bad = [(t, labels[(engine, t)]) for t in threads if labels[(engine, t)] != "ok"]
        if bad:
            ax.plot([t for t, _ in bad], [0] * len(bad), marker="x", linestyle="none", color=line[0].get_color(),
                    markersize=9, clip_on=False)
            not_valid.append(f"{engine}: " + ", ".join(f"{t} thr {label}" for t, label in bad))
    if not_valid:
        ax.text(0.99, 0.02, "no valid result (x at 0 is a marker, not a time):\n" + "\n".join(not_valid),
                transform=ax.transAxes, ha="right", va="bottom", fontsize=7, color="red",
                bbox={"facecolor": "white", "alpha": 0.8, "edgecolor": "red"})
    ax.set_xscale("log", base=2)
    ax.set_xticks(list(threads), [str(t) for t in threads])
    ax.set_ylim(bottom=0)
    ax.set_xlabel("threads")
    ax.set_ylabel("speedup vs 1 thread (median warm time)")
    ax.set_title(f"Query {query}: speedup")
    ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    return fig


def bars_figure(latest: list[dict], query: str, engines: Sequence[str], threads: Sequence[int],
                metric: str, cores: int):
    """Grouped bars: one group per engine, one bar per thread count."""
    fig, ax = plt.subplots(figsize=(8, 4.5))
    width = 0.8 / max(len(threads), 1)
    rows = {(r["engine"], r["threads_asked"]): r for r in latest if r["query"] == query}
    scale, unit = (1 / MiB, "peak memory (MiB)") if metric == "peak_rss_bytes" else (1.0, "median warm time (s)")
    for j, t in enumerate(threads):
        xs, heights, failed = [], [], []
        for i, engine in enumerate(engines):
            x = i + (j - (len(threads) - 1) / 2) * width
            r = rows.get((engine, t))
            value = r.get(metric) if r else None
            if r is None or r["status"] != "ok" or value is None:
                label = "missing" if r is None else (r["status"] if r["status"] != "ok" else "no warm runs")
                failed.append((x, label))
            else:
                xs.append(x)
                heights.append(value * scale)
        hatch = "//" if t > cores else None
        ax.bar(xs, heights, width, label=f"{t} thr" + (" (oversub.)" if t > cores else ""), hatch=hatch)
        for x, status in failed:
            ax.text(x, 0, status, rotation=90, color="red", fontsize=7, ha="center", va="bottom")
    ax.set_xticks(range(len(engines)), list(engines))
    ax.set_ylabel(unit)
    ax.set_title(f"Query {query}: {unit.split(' (')[0]}")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def draw_all(metrics: dict[str, list[dict]], out_dir: Path, engines: Sequence[str], threads: Sequence[int],
             cores: int) -> list[Path]:
    """Write every figure as PNG into out_dir; return their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    latest, speedup = metrics["metrics_latest"], metrics["metrics_speedup"]
    paths = []
    for q in QUERY_NAMES:
        for name, fig in (
            (f"speedup_{q}.png", speedup_figure(speedup, latest, q, engines, threads, cores)),
            (f"time_{q}.png", bars_figure(latest, q, engines, threads, "median_seconds", cores)),
            (f"memory_{q}.png", bars_figure(latest, q, engines, threads, "peak_rss_bytes", cores)),
        ):
            path = out_dir / name
            fig.savefig(path, dpi=90)
            plt.close(fig)
            paths.append(path)
    return paths
