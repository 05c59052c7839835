"""A workload's figure: median warm time per query and engine (log scale) with its 95 % interval.

One bar per engine at its largest thread count measured; a failed, unsupported or missing
measurement is labelled in red where its bar would be, never drawn as zero.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def draw_workload(name: str, queries: list[str], rows: list[dict], out_dir: Path) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    top = {}
    for r in rows:  # each engine at its largest thread count
        top[r["engine"]] = max(top.get(r["engine"], 0), r["threads_asked"])
    engines = sorted(top)
    got = {(r["engine"], r["query"]): r for r in rows if r["threads_asked"] == top[r["engine"]]}
    width = 0.8 / max(len(engines), 1)
    fig, ax = plt.subplots(figsize=(min(max(6.0, 0.9 * len(queries) + 2), 18.0), 4.5))
    for j, engine in enumerate(engines):
        for i, q in enumerate(queries):
            x = i - 0.4 + width * (j + 0.5)
            r = got.get((engine, q))
            if r is None or r["status"] != "ok" or r.get("median_seconds") is None:
                text = "missing" if r is None else r["status"] if r["status"] != "ok" else "no warm runs"
                ax.text(x, 0.02, text, rotation=90, color="red", fontsize=7, ha="center", va="bottom",
                        transform=ax.get_xaxis_transform())
                continue
            m = r["median_seconds"]
            low, high = r.get("ci_low"), r.get("ci_high")
            err = [[m - low], [high - m]] if low is not None and high is not None else None
            ax.bar(x, m, width, color=f"C{j}", label=f"{engine} ({top[engine]} thr)" if i == 0 else None,
                   yerr=err, capsize=2, ecolor="black")
    ax.set_yscale("log")
    ax.set_xticks(range(len(queries)), queries, rotation=20, ha="right", fontsize=8)
    ax.set_ylabel("median warm time (s, log); error bar: 95 % interval")
    ax.set_title(f"Workload {name}: time per query")
    ax.legend(fontsize=8)
    fig.tight_layout()
    path = out_dir / f"workload_{name}.png"
    tmp = path.with_name(f".{path.name}.tmp")
    fig.savefig(tmp, dpi=90, format="png")
    plt.close(fig)
    tmp.replace(path)
    return path
