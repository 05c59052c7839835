"""Machines side by side: the same work (suite, workload, data size, engine, query, thread setting) measured on
two or more machines, from stores merged by `bench-pipeline import`.

Each machine's latest valid measurement of the work is compared with this machine's (the one the report is
written on; else the first machine by name): the ratio of their medians by the verdict's rule, and, where
`machine_prices` gives a machine's price per hour, what one run of the query costs there.
"""

from __future__ import annotations

from bench_pipeline.analysis import stats
from bench_pipeline.analysis.history import machine_name

WORK = ("suite", "workload", "dataset_rows", "engine", "query", "threads")


def side_by_side(rows: list[dict], here: str | None, prices: dict[str, float]) -> list[dict]:
    """One row per machine and piece of work measured on more than one machine, this machine's first."""
    latest: dict[tuple, dict[str, dict]] = {}
    for r in sorted((r for r in rows if r["status"] == "ok" and r["median_seconds"]), key=lambda r: r["measured_at"]):
        latest.setdefault(tuple(r[k] for k in WORK), {})[r["hostname"] or "?"] = r  # the later one wins
    out = []
    for work, by_host in sorted(latest.items(), key=lambda kv: tuple(str(v) for v in kv[0])):
        if len(by_host) < 2:
            continue
        base_host = here if here in by_host else sorted(by_host)[0]
        base = by_host[base_host]
        for host in [base_host] + sorted(h for h in by_host if h != base_host):
            r = by_host[host]
            ratio = stats.compare(stats.processes_of(r), stats.processes_of(base), stats.DEFAULT) \
                if host != base_host else None
            price = prices.get(host)
            out.append({
                **dict(zip(WORK, work, strict=True)), "machine": machine_name(r), "cores": r["logical_cores"],
                "memory_gib": (r["total_memory_bytes"] or 0) / 2**30, "engine_version": r["engine_version"],
                "median_seconds": r["median_seconds"], "ratio": ratio.ratio if ratio else (1.0 if host == base_host
                                                                                        else None),
                "ratio_low": ratio.low if ratio else None, "ratio_high": ratio.high if ratio else None,
                "differs": "" if ratio is None else ratio.answer,
                "cost_per_query": r["median_seconds"] * price / 3600 if price is not None else None,
            })
    return out
