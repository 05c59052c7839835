"""The cluster suite's figures: time vs executors per query (with the ideal), cluster vs local vs single-node."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from bench_pipeline.queries import QUERY_NAMES


def draw_cluster(m: dict[str, list[dict]], out_dir: Path, cores: int) -> list[Path]:
    """Time vs executors per query (with the ideal), and cluster vs local vs single-node bars."""
    from bench_pipeline.suites.grid.figures import plt

    out_dir.mkdir(parents=True, exist_ok=True)
    rows = m["metrics_cluster"]
    paths = []
    for q in QUERY_NAMES:
        fig, ax = plt.subplots(figsize=(7, 4.5))
        for engine, layout in sorted({(r["engine"], r["data_layout"]) for r in rows}):
            label = f"{engine} {layout}"
            pts = sorted((r["executors"], r["median_seconds"], r["status"]) for r in rows
                         if r["query"] == q and (r["engine"], r["data_layout"]) == (engine, layout))
            ok = [(n, t) for n, t, st in pts if t is not None]
            line = ax.plot(*zip(*ok, strict=True), marker="o", label=label) if ok else ax.plot([], [], label=label)
            if ok:
                n0, t0 = ok[0]
                ideal = [(n, t0 * n0 / n) for n, _, _ in pts]
                ax.plot(*zip(*ideal, strict=True), linestyle="--", color=line[0].get_color(), alpha=0.5,
                        label=f"{label} ideal")
            for n, t, st in pts:
                if t is None:
                    ax.plot([n], [0], marker="x", color="red", clip_on=False)
                    ax.annotate(st, (n, 0), color="red", fontsize=7, textcoords="offset points", xytext=(0, 8))
        executors = sorted({r["executors"] for r in rows})
        if executors and max(executors) > cores:
            ax.axvspan(cores + 0.5, max(executors) + 0.5, color="orange", alpha=0.12,
                       label=f"executors > {cores} cores")
        ax.set_xticks(executors)
        ax.set_ylim(bottom=0, top=ax.get_ylim()[1] * 1.1)  # headroom: one executor count is one point per line
        ax.set_xlabel("workers (Spark executors or Ray worker nodes, 1 core each)")
        ax.set_ylabel("median warm time (s)")
        ax.set_title(f"Query {q}: time on a cluster vs workers")
        ax.legend(fontsize=8)
        fig.tight_layout()
        path = out_dir / f"cluster_{q}.png"
        fig.savefig(path, dpi=90)
        plt.close(fig)
        paths.append(path)
    paths.append(_compare_figure(m["metrics_cluster_compare"], out_dir, cores))
    return paths


def _compare_figure(compare: Sequence[dict], out_dir: Path, cores: int) -> Path:
    from bench_pipeline.suites.grid.figures import plt

    fig, ax = plt.subplots(figsize=(8, 4.5))
    series = [("cluster_seconds", "Spark cluster (best)"), ("spark_local_seconds", f"Spark local[{cores}]"),
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
    ax.set_title("Cluster vs Spark local vs the best single-node engine, same data")
    ax.legend(fontsize=8)
    fig.tight_layout()
    path = out_dir / "cluster_compare.png"
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path
