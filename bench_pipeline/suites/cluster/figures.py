"""The cluster suite's figures: time vs executors per query (with the ideal), cluster vs local vs single-node."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from bench_pipeline.analysis import stats
from bench_pipeline.suites.cluster.metrics import CLUSTER_QUERIES, what

LOG_SPAN = 8  # a time axis turns logarithmic when its times span more than this factor


def draw_cluster(m: dict[str, list[dict]], out_dir: Path, cores: int) -> list[Path]:
    """Time vs executors per query (with the ideal), and cluster vs local vs single-node bars."""
    from matplotlib.ticker import FormatStrFormatter, LogLocator, NullFormatter  # matplotlib: only where it is used

    from bench_pipeline.suites.grid.figures import plt  # keeps matplotlib off the import path

    out_dir.mkdir(parents=True, exist_ok=True)
    rows = m["metrics_cluster"]
    paths = []
    for q in CLUSTER_QUERIES:
        here = [r for r in rows if r["query"] == q]
        if not here:
            continue
        fig, ax = plt.subplots(figsize=(9.5, 4.5))
        series = sorted({(r["engine"], r["data_layout"]) for r in here})
        for k, (engine, layout) in enumerate(series):
            label = engine if layout == q else f"{engine} {layout}"  # the image cells' layout is the images
            # Each line's points nudged apart on x (by at most 0.1 of a worker) so their interval bars do not hide
            # each other; the x range is fixed below, so a nudge looks the same with one worker count or three.
            dx = 0.04 * (k - (len(series) - 1) / 2)
            pts = sorted((r["executors"], r["median_seconds"], r["status"], r.get("warm_list")) for r in here
                         if (r["engine"], r["data_layout"]) == (engine, layout))
            ok = [(n + dx, t) for n, t, st, _ in pts if t is not None]
            line = ax.plot(*zip(*ok, strict=True), marker="o", label=label) if ok else ax.plot([], [], label=label)
            if ok:
                n0, t0 = next((n, t) for n, t, _, _ in pts if t is not None)
                ideal = [(n + dx, t0 * n0 / n) for n, *_ in pts]  # from the real worker counts
                ax.plot(*zip(*ideal, strict=True), linestyle="--", color=line[0].get_color(), alpha=0.5,
                        label=f"{label} ideal")
            # The 95 % interval of each median from its warm runs (stats.typical).
            bars = [(n + dx, t, i) for n, t, _, runs in pts
                    if t is not None and (i := stats.typical(runs or [])) is not None]
            if bars:
                ax.errorbar([x for x, _, _ in bars], [t for _, t, _ in bars], fmt="none", capsize=3,
                            ecolor=line[0].get_color(), elinewidth=1,
                            yerr=[[max(t - i.low, 0) for _, t, i in bars], [max(i.high - t, 0) for _, t, i in bars]])
            for n, t, st, _ in pts:
                if t is None:
                    ax.plot([n + dx], [0], marker="x", color="red", clip_on=False)
                    ax.annotate(st, (n + dx, 0), color="red", fontsize=7, textcoords="offset points", xytext=(0, 8))
        executors = sorted({r["executors"] for r in rows})
        if executors and max(executors) > cores:
            ax.axvspan(cores + 0.5, max(executors) + 0.5, color="orange", alpha=0.12,
                       label=f"workers > {cores} cores")
        ax.set_xticks(executors)
        ax.set_xlim(executors[0] - 0.5, executors[-1] + 0.5)
        times = [r["median_seconds"] for r in here if r["median_seconds"]]
        log = bool(times) and max(times) / min(times) > LOG_SPAN  # engines an order of magnitude apart
        if log:
            ax.set_yscale("log")
            ax.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))  # 0.1, 0.2, 0.5, 1, 2, 5
            ax.yaxis.set_major_formatter(FormatStrFormatter("%g"))  # rather than 2x10^-1
            ax.yaxis.set_minor_formatter(NullFormatter())
        else:
            ax.set_ylim(bottom=0, top=ax.get_ylim()[1] * 1.1)  # headroom: one worker count is one point per line
        ax.set_xlabel("workers (Spark executors or Ray worker nodes, 1 core each)")
        ax.set_ylabel(f"median warm time (s{', log' if log else ''}), bar: 95 % interval")
        ax.set_title(f"{what(q)}: time on a cluster vs workers")
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1))  # beside the axes, never over a line
        fig.tight_layout()
        path = out_dir / f"cluster_{q}.png"
        fig.savefig(path, dpi=90)
        plt.close(fig)
        paths.append(path)
    paths.append(_memory_figure(rows, out_dir, cores))
    paths.append(_compare_figure(m["metrics_cluster_compare"], out_dir, cores))
    return paths


def _memory_figure(rows: Sequence[dict], out_dir: Path, cores: int) -> Path:
    """Peak memory over every process of driver and cluster vs workers: a panel per query, a line per engine."""
    from bench_pipeline.suites.grid.figures import plt  # keeps matplotlib off the import path

    queries = [q for q in CLUSTER_QUERIES if any(r["query"] == q for r in rows)]
    cols = min(max(len(queries), 1), 3)
    nrows = -(-max(len(queries), 1) // cols)
    fig, grid = plt.subplots(nrows, cols, figsize=(3.4 * cols, 3.2 * nrows), squeeze=False, sharey=True)
    axes = grid.ravel()
    for ax in axes[len(queries):]:
        ax.set_visible(False)
    for ax, q in zip(axes, queries, strict=False):
        here = [r for r in rows if r["query"] == q]
        for engine, layout in sorted({(r["engine"], r["data_layout"]) for r in here}):
            pts = sorted((r["executors"], r["peak_rss_bytes"] / 2**30) for r in here
                         if (r["engine"], r["data_layout"]) == (engine, layout) and r["peak_rss_bytes"])
            if pts:
                ax.plot(*zip(*pts, strict=True), marker="o", label=engine if layout == q else f"{engine} {layout}")
        ax.set_xticks(sorted({r["executors"] for r in here}))
        ax.set_title(what(q), fontsize=9)
        ax.set_xlabel("workers")
        ax.legend(fontsize=6)
    # One y range for the shared axis, set once every panel is drawn (earlier, a later panel's points are cut off).
    peaks = [r["peak_rss_bytes"] / 2**30 for r in rows if r["peak_rss_bytes"]]
    axes[0].set_ylim(0, max(peaks, default=1) * 1.08)
    for row in grid:
        row[0].set_ylabel("peak GiB, every process")
    fig.suptitle("Peak memory of driver + cluster (every process) vs workers", fontsize=10)
    fig.tight_layout()
    path = out_dir / "cluster_memory.png"
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def _compare_figure(compare: Sequence[dict], out_dir: Path, cores: int) -> Path:
    from bench_pipeline.suites.grid.figures import plt  # keeps matplotlib off the import path

    fig, ax = plt.subplots(figsize=(8, 4.5))
    series = [("cluster_seconds", "best on a cluster (any engine)"), ("spark_local_seconds", f"Spark local[{cores}]"),
              ("best_single_seconds", "best single-node engine")]
    width = 0.8 / len(series)
    for j, (key, label) in enumerate(series):
        for i, r in enumerate(compare):
            x = i + (j - 1) * width
            if r[key] is None:
                ax.text(x, 0, "not measured", rotation=90, color="red", fontsize=7, ha="center", va="bottom")
            else:
                ax.bar(x, r[key], width, color=f"C{j}", label=label if i == 0 else None)
    ax.set_xticks(range(len(compare)), [r["query"] for r in compare])
    ax.set_yscale("log")
    ax.set_ylabel("median warm time (s, log)")
    ax.set_title("Best on a cluster vs Spark local vs the best single-node engine, same data")
    ax.legend(fontsize=8)
    fig.tight_layout()
    path = out_dir / "cluster_compare.png"
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path
