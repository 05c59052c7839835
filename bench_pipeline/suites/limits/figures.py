"""Figures of the limits suite: Polars' modes side by side, and time and memory against data size (log axes).

A run that did not complete is drawn as a red cross at the axis with its status,
never as a value.
"""

from __future__ import annotations

from pathlib import Path

from bench_pipeline.report.fmt import MiB
from bench_pipeline.suites.grid.figures import plt
from bench_pipeline.suites.limits.metrics import MODES
from bench_pipeline.workloads.social.catalogue import MODE_QUERIES, SWEEP_QUERIES


def modes_figure(modes: list[dict], out_dir: Path) -> Path:
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.5))
    width = 0.8 / len(MODES)
    rows = {(r["mode"], r["query"]): r for r in modes}
    for ax, (key, scale, label) in zip(axes, (("median_seconds", 1.0, "median warm time (s, log)"),
                                               ("peak_rss_bytes", 1 / MiB, "peak memory (MiB)")), strict=True):
        for j, mode in enumerate(MODES):
            for i, q in enumerate(MODE_QUERIES):
                x = i + (j - 1) * width
                r = rows.get((mode, q))
                value = r.get(key) if r and r["status"] == "ok" else None
                if value is None:
                    ax.text(x, 0.02, r["status"] if r else "missing", transform=ax.get_xaxis_transform(),
                            rotation=90, color="red", fontsize=7, ha="center", va="bottom")
                else:
                    ax.bar(x, value * scale, width, color=f"C{j}", label=mode if i == 0 else None)
        ax.set_xticks(range(len(MODE_QUERIES)), [f"query {q}" for q in MODE_QUERIES])
        ax.set_ylabel(label)
        if key == "median_seconds" and any(r["status"] == "ok" and r.get(key) for r in modes):
            ax.set_yscale("log")
        ax.legend(fontsize=8)
    rows_n = next((r["dataset_rows"] for r in modes), None)
    fig.suptitle("Polars eager vs lazy vs streaming" + (f", {rows_n:,} rows" if rows_n else ""))
    fig.tight_layout()
    return _save(fig, out_dir / "limits_modes.png")


def sweep_figure(sweep: list[dict], metric: str, budget: int, out_dir: Path) -> Path:
    """One panel per query: metric against posts rows, one line per engine, log-log."""
    fig, axes = plt.subplots(2, 2, figsize=(11, 8), sharex=True)
    engines = sorted({r["engine"] for r in sweep})
    scale = 1 / MiB if metric == "peak_rss_bytes" else 1.0
    for ax, q in zip(axes.flat, SWEEP_QUERIES, strict=True):
        drawn = False
        for k, engine in enumerate(engines):
            pts = sorted((r["dataset_rows"], r[metric], r["status"]) for r in sweep
                         if r["engine"] == engine and r["query"] == q)
            ok = [(n, v * scale) for n, v, st in pts if st == "ok" and v]
            color = f"C{k}"
            if ok:
                ax.plot(*zip(*ok, strict=True), marker="o", color=color, label=engine)
                drawn = True
            else:
                ax.plot([], [], color=color, label=engine)
            for n, _, st in pts:
                if st != "ok":
                    ax.plot([n], [0.03], marker="x", color="red", markersize=9, transform=ax.get_xaxis_transform())
                    ax.annotate(f"{engine}: {st}", (n, 0.05 + 0.06 * k), xycoords=("data", "axes fraction"),
                                color="red", fontsize=7, ha="center")
        if metric == "peak_rss_bytes":
            ax.axhline(budget * scale, color="red", linestyle="--", linewidth=1, label="budget")
        ax.set_xscale("log")
        if drawn or metric == "peak_rss_bytes":  # a log axis needs one positive value (all-failed panels have none)
            ax.set_yscale("log")
        ax.set_title(f"query {q}")
        ax.set_xlabel("posts rows (log)")
        ax.set_ylabel("peak memory (MiB, log)" if metric == "peak_rss_bytes" else "median warm time (s, log)")
    axes.flat[0].legend(fontsize=7)
    what = "peak memory" if metric == "peak_rss_bytes" else "time"
    fig.suptitle(f"Size sweep under a {budget / MiB:,.0f} MiB budget: {what} vs data size (x: no valid result)")
    fig.tight_layout()
    return _save(fig, out_dir / f"limits_sweep_{'memory' if metric == 'peak_rss_bytes' else 'time'}.png")


def draw_limits(m: dict[str, list[dict]], out_dir: Path, budget: int) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    if m["metrics_modes"]:
        paths.append(modes_figure(m["metrics_modes"], out_dir))
    if m["metrics_sweep"]:
        paths += [sweep_figure(m["metrics_sweep"], "median_seconds", budget, out_dir),
                  sweep_figure(m["metrics_sweep"], "peak_rss_bytes", budget, out_dir)]
    return paths


def _save(fig, path: Path) -> Path:
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path
