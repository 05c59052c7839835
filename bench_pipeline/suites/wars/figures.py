"""The suite's figures: one per task, time and peak memory per engine.

Failed, skipped and missing measurements are labelled in red where their bar
would be, never drawn as zero.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from bench_pipeline.report.fmt import MiB
from bench_pipeline.suites.wars.tasks import TASKS  # noqa: E402


def draw_wars(rows: list[dict], out_dir: Path) -> list[Path]:
    """One PNG per task: median warm time (log scale, cold run as a marker) and peak memory per engine."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, w in TASKS.items():
        got = {r["engine"]: r for r in rows if r["query"] == name}
        engines = list(w.engines)
        fig, (ax_t, ax_m) = plt.subplots(1, 2, figsize=(10, 4))
        for ax, metric, scale, label in ((ax_t, "median_seconds", 1.0, "median warm time (s)"),
                                         (ax_m, "peak_rss_bytes", 1 / MiB, "peak memory, process tree (MiB)")):
            for i, engine in enumerate(engines):
                r = got.get(engine)
                value = r.get(metric) if r else None
                if r is None or r["status"] != "ok" or value is None:
                    text = "missing" if r is None else r["status"] if r["status"] != "ok" else "no warm runs"
                    # x in data, y in axes units: the label sits where the bar would, on any scale.
                    ax.text(i, 0.02, text, rotation=90, color="red", fontsize=8, ha="center", va="bottom",
                            transform=ax.get_xaxis_transform())
                    continue
                ax.bar(i, value * scale, 0.6, color=f"C{i}")
                if metric == "median_seconds" and r.get("cold_seconds") is not None:
                    labelled = "cold run" in ax.get_legend_handles_labels()[1]
                    ax.plot(i, r["cold_seconds"], marker="_", markersize=22, color="black",
                            label=None if labelled else "cold run")
            ax.set_xticks(range(len(engines)), engines, fontsize=8)
            ax.set_ylabel(label)
            ax.set_xlim(-0.5, len(engines) - 0.5)
            times = [v for r in got.values() if r["status"] == "ok"
                     for v in (r.get("median_seconds"), r.get("cold_seconds")) if v]
            if metric == "median_seconds" and times:
                # Engines differ by orders of magnitude (Spark's cold run): log scale, bars from below the least.
                ax.set_yscale("log")
                ax.set_ylim(bottom=min(times) / 3, top=max(times) * 2)
            else:
                ax.set_ylim(bottom=0)
        if ax_t.get_legend_handles_labels()[0]:
            ax_t.legend(fontsize=8)
        threads = next((r["threads_asked"] for r in got.values()), None)
        fig.suptitle(f"Engine Wars: {w.title}" + (f" ({threads} threads)" if threads else ""))
        fig.tight_layout()
        path = out_dir / f"wars_{name}.png"
        fig.savefig(path, dpi=90)
        plt.close(fig)
        paths.append(path)
    return paths
