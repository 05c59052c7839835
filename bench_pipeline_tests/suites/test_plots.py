"""The figures tell the truth: synthetic metric rows (no engines), assertions on the matplotlib objects."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from matplotlib.collections import LineCollection
from matplotlib.colors import to_rgba
from matplotlib.container import BarContainer, ErrorbarContainer

from bench_pipeline.suites.grid.figures import (
    bar_points,
    bars_figure,
    caption_for,
    draw_all,
    plt,
    speedup_figure,
    speedup_points,
)
from bench_pipeline.workloads.social.catalogue import QUERY_NAMES

CAPTION = "5,000,000 rows · Intel Xeon Processor, 2 cores, 24 GiB · 2026-11-24"
MiB = 2**20


def cell(engine, threads, query, seconds=None, status="ok", *, spread=0.05, ci=True, noisy=False,
         rss_mib=200, **extra) -> dict:
    """One metrics_latest row; seconds None with status ok means no warm runs."""
    ok = status == "ok" and seconds is not None
    row = {
        "engine": engine, "threads_asked": threads, "query": query, "status": status,
        "median_seconds": seconds if ok else None,
        "min_seconds": seconds * (1 - 2 * spread) if ok else None,
        "max_seconds": seconds * (1 + 3 * spread) if ok else None,
        "cv": spread if ok else None,
        "peak_rss_bytes": rss_mib * MiB if status == "ok" else None,
        "warm_runs": 5 if ok else 0, "oversubscribed": threads > 2,
        "ci_low": seconds * (1 - spread) if ok and ci else None,
        "ci_high": seconds * (1 + spread) if ok and ci else None,
        "noisy": noisy,
    }
    row.update(extra)
    return row


def speedup_rows(latest: list[dict]) -> list[dict]:
    """metrics_speedup as the metrics build it, with the interval of a ratio from the two intervals."""
    by = {(r["engine"], r["query"], r["threads_asked"]): r for r in latest}
    out = []
    for (engine, query, t), c in by.items():
        b = by.get((engine, query, 1))
        ok = c["status"] == "ok" and c["median_seconds"] and b and b["status"] == "ok" and b["median_seconds"]
        s = b["median_seconds"] / c["median_seconds"] if ok else None
        known = ok and None not in (b.get("ci_low"), b.get("ci_high"), c.get("ci_low"), c.get("ci_high"))
        low = b["ci_low"] / c["ci_high"] if known else None
        high = b["ci_high"] / c["ci_low"] if known else None
        out.append({"engine": engine, "query": query, "threads": t, "status": c["status"],
                    "median_seconds": c["median_seconds"], "speedup": s, "efficiency": s / t if s else None,
                    "speedup_low": low, "speedup_high": high, "suspect": bool(low is not None and low > t),
                    "noisy": bool(c.get("noisy") or (b and b.get("noisy")))})
    return out


def realistic_metrics() -> dict[str, list[dict]]:
    """pandas, polars, duckdb, pyspark at 1, 2, 4 threads on 2 cores, 0.01 s to 20 s; pandas' B at 4 threads
    ran out of memory, polars' A at 2 threads is faster than ideal beyond the noise, duckdb's C at 4 threads
    was measured while the CPU was busy."""
    base = {"pandas": 0.9, "polars": 0.05, "duckdb": 0.012, "pyspark": 20.0}
    gain = {"pandas": (1, 1.02, 0.98), "polars": (1, 1.7, 1.8), "duckdb": (1, 1.85, 1.6), "pyspark": (1, 1.5, 1.6)}
    rss = {"pandas": 900, "polars": 400, "duckdb": 250, "pyspark": 2600}
    latest = []
    for q, qf in zip(QUERY_NAMES, (1.0, 2.0, 3.5, 1.4), strict=True):
        for engine in base:
            for k, t in enumerate((1, 2, 4)):
                seconds = base[engine] * qf / gain[engine][k]
                kwargs = {"rss_mib": rss[engine] * (1 + 0.1 * k)}
                if (engine, q, t) == ("pandas", "B", 4):
                    kwargs["status"] = "oom"
                if (engine, q, t) == ("polars", "A", 2):
                    seconds = base[engine] * qf / 2.8
                    kwargs["spread"] = 0.02
                if (engine, q, t) == ("duckdb", "C", 4):
                    kwargs.update(noisy=True, spread=0.25)
                if engine == "pyspark" and t == 4:
                    kwargs["ci"] = False  # fewer than 2 warm runs: interval unknown, min-max shown
                latest.append(cell(engine, t, q, seconds, **kwargs))
    return {"metrics_latest": latest, "metrics_speedup": speedup_rows(latest), "metrics_load_vs_query": []}


ENGINES = ("pandas", "polars", "duckdb", "pyspark")


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def by_gid(fig, gid: str):
    found = fig.findobj(lambda a: a.get_gid() == gid)
    assert found, f"nothing with gid {gid!r}"
    return found[0]


def gids(fig, prefix: str) -> set[str]:
    return {a.get_gid() for a in fig.findobj(lambda a: (a.get_gid() or "").startswith(prefix))}


def errorbar_segments(ax, label: str) -> list[tuple[float, float, float, float]]:
    """(x0, y0, x1, y1) of each vertical bar of the error bar container with this label."""
    containers = [c for c in ax.containers if isinstance(c, ErrorbarContainer) and c.get_label() == label]
    assert containers, f"no error bars {label!r}"
    (col,) = [c for c in containers[0].lines[2] if isinstance(c, LineCollection)]
    return [(s[0][0], s[0][1], s[1][0], s[1][1]) for s in col.get_segments()]


def texts(fig) -> list:
    return fig.findobj(lambda a: hasattr(a, "get_text") and bool(a.get_text()))


# ---------------------------------------------------------------- speedup


def simple_speedup(threads=(1, 2, 4, 8), cores=8, engines=("duckdb", "polars")):
    """All speedups below 3, two engines; threads list as given."""
    latest = [cell(e, t, "A", 1.0 / min(1 + 0.25 * (t - 1), 2.9)) for e in engines for t in threads]
    return speedup_rows(latest), latest


@pytest.mark.parametrize("threads", [(1, 2, 4, 8), (1, 3), (1, 2, 4, 8, 16, 32)])
def test_ideal_is_y_equals_x_at_every_thread_count_on_log_log(threads):
    speedup, latest = simple_speedup(threads)
    fig = speedup_figure(speedup, latest, "A", ("duckdb", "polars"), threads, 8, caption=CAPTION)
    ax = fig.axes[0]
    ideal = by_gid(fig, "ideal")
    assert list(ideal.get_xdata()) == list(threads)
    assert np.array_equal(np.asarray(ideal.get_xdata(), float), np.asarray(ideal.get_ydata(), float))
    assert ax.get_xscale() == ax.get_yscale() == "log"
    assert ax.xaxis.get_transform().base == ax.yaxis.get_transform().base  # the same log on both: y = x is y = x
    assert [t.get_text() for t in ax.get_xticklabels()] == [str(t) for t in threads]


def test_y_axis_fits_the_data_not_the_ideal():
    """Every speedup below 3 with threads up to 8: the axis must not stretch to 8x (the old bug)."""
    speedup, latest = simple_speedup((1, 2, 4, 8))
    assert max(r["speedup_high"] for r in speedup) < 3.2
    fig = speedup_figure(speedup, latest, "A", ("duckdb", "polars"), (1, 2, 4, 8), 8)
    lo, hi = fig.axes[0].get_ylim()
    assert 3.2 <= hi < 8 and lo < 1
    # every point is inside the axes
    for gid in gids(fig, "point:"):
        (y,) = by_gid(fig, gid).get_ydata()
        assert lo < y < hi


def test_speedup_error_bars_are_the_given_interval():
    latest = [cell("duckdb", t, "A", 1.0 / t ** 0.8) for t in (1, 2, 4)]
    speedup = speedup_rows(latest)
    for r in speedup:
        r["speedup_low"], r["speedup_high"] = r["speedup"] * 0.8, r["speedup"] * 1.1
    speedup[0]["speedup_low"] = speedup[0]["speedup_high"] = None  # unknown: no bar, not a zero-length one
    fig = speedup_figure(speedup, latest, "A", ("duckdb",), (1, 2, 4), 2)
    segs = errorbar_segments(fig.axes[0], "errorbar:duckdb")
    assert len(segs) == 2
    for (x0, y0, x1, y1), r in zip(segs, speedup[1:], strict=True):
        assert x0 == pytest.approx(x1) and x0 == pytest.approx(r["threads"], rel=0.1)
        assert (y0, y1) == pytest.approx((r["speedup_low"], r["speedup_high"]))


def test_suspect_speedup_is_ringed_and_in_the_legend_and_a_fine_one_is_not():
    latest = [cell("polars", 1, "A", 1.0, spread=0.02), cell("polars", 2, "A", 1 / 2.8, spread=0.02),
              cell("polars", 4, "A", 1 / 3.0, spread=0.02)]
    speedup = speedup_rows(latest)
    assert [r["suspect"] for r in speedup] == [False, True, False]
    fig = speedup_figure(speedup, latest, "A", ("polars",), (1, 2, 4), 2)
    assert gids(fig, "suspect:") == {"suspect:polars:2"}
    ring = by_gid(fig, "suspect:polars:2")
    assert ring.get_ydata()[0] == pytest.approx(2.8)
    assert to_rgba(ring.get_markeredgecolor()) == to_rgba("red")
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert any("suspect" in t for t in legend)
    # the y axis reaches the suspect point and its interval
    assert fig.axes[0].get_ylim()[1] > speedup[1]["speedup_high"]


def test_suspect_flag_absent_is_unknown_and_the_interval_decides():
    latest = [cell("polars", 1, "A", 1.0), cell("polars", 2, "A", 1 / 2.8)]
    speedup = speedup_rows(latest)
    for r in speedup:
        del r["suspect"], r["noisy"]
    fig = speedup_figure(speedup, latest, "A", ("polars",), (1, 2), 2)
    assert gids(fig, "suspect:") == {"suspect:polars:2"}  # low bound 2.8*0.95/1.05 > 2
    for r in speedup:
        del r["speedup_low"], r["speedup_high"]
    fig = speedup_figure(speedup, latest, "A", ("polars",), (1, 2), 2)
    assert gids(fig, "suspect:") == set()  # no interval, no flag: it cannot be called beyond the noise
    assert gids(fig, "point:") == {"point:polars:1", "point:polars:2"}


def test_noisy_speedup_point_is_hollow():
    latest = [cell("duckdb", 1, "A", 1.0), cell("duckdb", 2, "A", 0.6, noisy=True)]
    fig = speedup_figure(speedup_rows(latest), latest, "A", ("duckdb",), (1, 2), 2)
    assert by_gid(fig, "point:duckdb:2").get_markerfacecolor() == "white"
    assert by_gid(fig, "point:duckdb:1").get_markerfacecolor() != "white"
    assert any("noisy" in t.get_text() for t in fig.axes[0].get_legend().get_texts())


def test_failed_cell_has_no_speedup_point_but_a_red_status_at_the_bottom():
    latest = [cell("pandas", 1, "A", 1.0), cell("pandas", 2, "A", 0.9), cell("pandas", 4, "A", status="oom"),
              cell("duckdb", 1, "A", status="timeout"), cell("duckdb", 2, "A", 0.5)]
    fig = speedup_figure(speedup_rows(latest), latest, "A", ("pandas", "duckdb"), (1, 2, 4), 2, caption=CAPTION)
    assert gids(fig, "point:") == {"point:pandas:1", "point:pandas:2"}
    status = {g: by_gid(fig, g) for g in gids(fig, "status:")}
    assert set(status) == {"status:pandas:4", "status:duckdb:1", "status:duckdb:2", "status:duckdb:4"}
    assert "oom" in status["status:pandas:4"].get_text()
    assert "timeout" in status["status:duckdb:1"].get_text()
    assert "no 1-thr base (timeout)" in status["status:duckdb:2"].get_text()
    assert "missing" in status["status:duckdb:4"].get_text()
    assert all(to_rgba(t.get_color()) == to_rgba("red") for t in status.values())
    # marked in axes coordinates at the bottom, never at a data value
    ax = fig.axes[0]
    for g in status:
        assert by_gid(fig, g).get_transform() == ax.get_xaxis_transform()
        assert by_gid(fig, g).get_position()[1] < 0.35
    note = by_gid(fig, "note").get_text()
    assert "pandas 4 thr oom" in note
    # status labels sit under every point
    lo, hi = ax.get_ylim()
    frac = lambda y: (np.log(y) - np.log(lo)) / (np.log(hi) - np.log(lo))  # noqa: E731
    top_label = max(by_gid(fig, g).get_position()[1] for g in status)
    assert all(frac(by_gid(fig, g).get_ydata()[0]) > top_label + 0.02 for g in gids(fig, "point:"))


def test_oversubscribed_region_starts_above_the_cores():
    speedup, latest = simple_speedup((1, 2, 3, 4), cores=2)
    fig = speedup_figure(speedup, latest, "A", ("duckdb", "polars"), (1, 2, 3, 4), 2)
    span = by_gid(fig, "oversubscribed")
    assert 2 < span.get_x() < 3 and span.get_x() + span.get_width() >= 4
    fig = speedup_figure(speedup, latest, "A", ("duckdb", "polars"), (1, 2, 3, 4), 4)
    assert not gids(fig, "oversubscribed")


# ---------------------------------------------------------------- bars


def test_time_bars_on_log_axis_with_error_bars_from_the_interval_or_min_max():
    latest = [cell("duckdb", 1, "A", 0.01), cell("duckdb", 2, "A", 0.008, noisy=True),
              cell("pyspark", 1, "A", 60.0, ci=False), cell("pyspark", 2, "A", 40.0)]
    fig = bars_figure(latest, "A", ("duckdb", "pyspark"), (1, 2), "median_seconds", 2, caption=CAPTION)
    ax = fig.axes[0]
    assert ax.get_yscale() == "log"
    lo, hi = ax.get_ylim()
    for r in latest:
        rect = by_gid(fig, f"bar:{r['engine']}:{r['threads_asked']}")
        assert rect.get_y() + rect.get_height() == pytest.approx(r["median_seconds"])
        assert rect.get_y() == pytest.approx(lo)  # starts at the axis: visible however small
    assert lo <= 0.008 * 0.95 and hi >= 60 * 1.15
    ((_, y0, _, y1),) = errorbar_segments(ax, "errorbar:duckdb:1:ci")
    assert (y0, y1) == pytest.approx((0.01 * 0.95, 0.01 * 1.05))
    ((_, y0, _, y1),) = errorbar_segments(ax, "errorbar:pyspark:1:minmax")
    assert (y0, y1) == pytest.approx((60 * 0.9, 60 * 1.15))
    # the noisy bar is outlined, the others not
    assert by_gid(fig, "bar:duckdb:2").get_linewidth() > 1
    assert by_gid(fig, "bar:duckdb:1").get_linewidth() == 0
    legend = " ".join(t.get_text() for t in ax.get_legend().get_texts())
    assert "noisy" in legend and "95 % interval" in legend and "min–max" in legend


def test_failed_cell_gets_no_bar_and_a_red_status():
    latest = [cell("pandas", 1, "A", 2.0), cell("pandas", 2, "A", status="oom"),
              cell("duckdb", 1, "A", 0.02), cell("duckdb", 2, "A", None)]  # ok but no warm runs
    for metric in ("median_seconds", "peak_rss_bytes"):
        fig = bars_figure(latest, "A", ("pandas", "duckdb"), (1, 2), metric, 2)
        ax = fig.axes[0]
        bars = gids(fig, "bar:")
        assert "bar:pandas:2" not in bars and "bar:pandas:1" in bars
        drawn = [r for c in ax.containers if isinstance(c, BarContainer) for r in c]
        assert len(drawn) == len(bars)
        status = by_gid(fig, "status:pandas:2")
        assert status.get_text() == "oom" and to_rgba(status.get_color()) == to_rgba("red")
        assert status.get_transform() == ax.get_xaxis_transform()  # at the bottom of the axes, not at 0
        if metric == "median_seconds":
            assert "bar:duckdb:2" not in bars and by_gid(fig, "status:duckdb:2").get_text() == "no warm runs"
        assert "pandas 2 thr oom" in by_gid(fig, "note").get_text()


def test_memory_bars_are_linear_mib_and_oversubscribed_hatched():
    latest = [cell("polars", t, "A", 1.0, rss_mib=100 * t) for t in (1, 2, 4)]
    fig = bars_figure(latest, "A", ("polars",), (1, 2, 4), "peak_rss_bytes", 2)
    ax = fig.axes[0]
    assert ax.get_yscale() == "linear" and ax.get_ylim()[0] == 0
    assert by_gid(fig, "bar:polars:4").get_height() == pytest.approx(400)
    assert by_gid(fig, "bar:polars:4").get_hatch() == "//" and not by_gid(fig, "bar:polars:2").get_hatch()


def test_new_columns_absent_are_unknown():
    old = [{k: v for k, v in cell("duckdb", t, "A", 1 / t).items() if k not in ("ci_low", "ci_high", "noisy")}
           for t in (1, 2)]
    speedup = [{k: v for k, v in r.items() if k not in ("speedup_low", "speedup_high", "suspect", "noisy")}
               for r in speedup_rows(old)]
    fig = speedup_figure(speedup, old, "A", ("duckdb",), (1, 2), 2)
    assert not [c for c in fig.axes[0].containers if isinstance(c, ErrorbarContainer)]
    assert by_gid(fig, "point:duckdb:2").get_markerfacecolor() != "white"
    fig = bars_figure(old, "A", ("duckdb",), (1, 2), "median_seconds", 2)
    errorbar_segments(fig.axes[0], "errorbar:duckdb:2:minmax")


# ---------------------------------------------------------------- caption and files


def test_caption_is_in_every_figure():
    m = realistic_metrics()
    for fig in (speedup_figure(m["metrics_speedup"], m["metrics_latest"], "B", ENGINES, (1, 2, 4), 2, CAPTION),
                bars_figure(m["metrics_latest"], "B", ENGINES, (1, 2, 4), "median_seconds", 2, CAPTION),
                bars_figure(m["metrics_latest"], "B", ENGINES, (1, 2, 4), "peak_rss_bytes", 2, CAPTION)):
        assert CAPTION in [t.get_text() for t in texts(fig)]
        fig.canvas.draw()
        box = by_gid(fig, "caption").get_window_extent()
        assert box.x0 >= 0 and box.y0 >= 0 and box.x1 <= fig.bbox.width  # inside the image


def test_caption_for():
    machine = {"cpu_model": "Intel Xeon Processor", "logical_cores": 2, "total_memory_bytes": 24 * 2**30}
    assert caption_for(5_000_000, machine, [dt.datetime(2026, 11, 24, 3, 1)]) == CAPTION
    assert caption_for(10, machine, [dt.datetime(2026, 11, 24), dt.datetime(2026, 11, 23, 23)]).endswith(
        "2026-11-23 to 2026-11-24")
    assert caption_for(None, None, []) == ""


@pytest.mark.parametrize("threads", [(1, 3), (1, 2, 4)])
def test_draw_all_writes_the_twelve_files(tmp_path, threads):
    latest = [cell(e, t, q, 0.1 * (i + 1) / t) for q in QUERY_NAMES for i, e in enumerate(ENGINES) for t in threads]
    paths = draw_all({"metrics_latest": latest, "metrics_speedup": speedup_rows(latest)}, tmp_path, ENGINES,
                     threads, 2, caption=CAPTION)
    names = {f"{kind}_{q}.png" for q in QUERY_NAMES for kind in ("speedup", "time", "memory")}
    assert len(paths) == 12 and {p.name for p in paths} == names
    assert all(p.stat().st_size > 1000 and p.read_bytes()[:4] == b"\x89PNG" for p in paths)
    assert not plt.get_fignums()  # every figure closed


def test_draw_all_realistic_example(tmp_path):
    paths = draw_all(realistic_metrics(), tmp_path, ENGINES, (1, 2, 4), 2, caption=CAPTION)
    assert len(paths) == 12


def test_cluster_figures_show_every_point_its_interval_and_the_whole_memory_range(tmp_path, monkeypatch):
    """Three engines (one with the image pipeline only), 2 and 4 workers: the time figure of a query draws an
    interval per measured point and a log axis when engines are an order apart; the memory panels share one y
    range that holds the largest peak, drawn in the last panel (a range fixed by the first panel cut it off)."""
    from bench_pipeline.suites.cluster.figures import draw_cluster

    monkeypatch.setattr(plt, "close", lambda fig=None: None)  # keep the figures to look at them
    plt.close("all")

    def row(engine, n, query, seconds, gib, layout="flat"):
        runs = [seconds * f for f in (0.97, 1.0, 1.04)]
        return dict(engine=engine, executors=n, data_layout=layout, query=query, status="ok",
                    median_seconds=seconds, warm_list=runs, peak_rss_bytes=int(gib * 2**30))

    rows = [row("pyspark", n, "A", 1.5, 3.0) for n in (2, 4)] + [row("daft-ray", n, "A", 0.1, 3.5) for n in (2, 4)]
    rows += [row(e, n, "images", 0.8, 9.0 if (e, n) == ("ray-data", 4) else 4.0, "images")
             for e in ("pyspark", "daft-ray", "ray-data") for n in (2, 4)]
    paths = draw_cluster({"metrics_cluster": rows, "metrics_cluster_compare": []}, tmp_path, cores=2)
    assert {p.name for p in paths} >= {"cluster_A.png", "cluster_images.png", "cluster_memory.png"}
    assert not (tmp_path / "cluster_B.png").exists()  # nothing measured for B: no empty figure
    axes = {f.axes[0].get_title(): f.axes[0] for f in map(plt.figure, plt.get_fignums()) if f.axes}
    figs = [plt.figure(n) for n in plt.get_fignums()]
    time_a = axes["Query A: time on a cluster vs workers"]
    assert time_a.get_yscale() == "log"  # 1.5 s vs 0.1 s
    assert sum(len(c.lines[2][0].get_segments()) for c in time_a.containers if isinstance(c, ErrorbarContainer)) == 4
    images = axes["The image pipeline: time on a cluster vs workers"]
    assert images.get_yscale() == "linear" and images.get_ylim()[0] == 0
    assert {t.get_text() for t in images.get_legend().get_texts()} >= {"pyspark", "daft-ray", "ray-data"}
    memory = next(f for f in figs if f._suptitle is not None and "memory" in f._suptitle.get_text())
    assert [a.get_title() for a in memory.axes if a.get_visible()] == ["Query A", "The image pipeline"]
    assert memory.axes[1].get_ylim()[1] >= 9.0  # the 9 GiB peak in the last panel is inside the range
    plt.close("all")


def test_the_speedup_points_keep_values_and_name_what_has_none():
    latest = [cell("polars", 1, "A", 1.0), cell("polars", 2, "A", 0.5, noisy=True),
              cell("polars", 4, "A", status="oom"), cell("duckdb", 1, "A", status="timeout"),
              cell("duckdb", 2, "A", 0.4)]
    points, failed = speedup_points(speedup_rows(latest), latest, "A", ["polars", "duckdb"], [4, 1, 2, 2])
    assert [(p["t"], p["s"], p["noisy"]) for p in points["polars"]] == [(1, 1.0, False), (2, 2.0, True)]
    low, high = points["polars"][1]["low"], points["polars"][1]["high"]
    assert low < 2.0 < high and points["polars"][1]["suspect"] is False  # the interval of a ratio, not ringed
    assert points["duckdb"] == []
    # a failure is named with its status; a fine cell whose 1-thread base failed says so, never a value
    assert failed == [("polars", 4, "oom"), ("duckdb", 1, "timeout"), ("duckdb", 2, "no 1-thr base (timeout)"),
                      ("duckdb", 4, "missing")]


def test_the_bar_points_are_values_with_their_spread_and_failures_are_not_bars():
    latest = [cell("polars", 1, "B", 2.0), cell("polars", 2, "B", 1.0, ci=False),
              cell("duckdb", 1, "B", status="oom"), cell("duckdb", 2, "B", 0.5, rss_mib=300)]
    bars, failed = bar_points(latest, "B", ["polars", "duckdb"], [1, 2], "median_seconds")
    by = {(b["engine"], b["t"]): b for b in bars}
    assert by[("polars", 1)]["err"][:2] == pytest.approx((1.9, 2.1))
    assert by[("polars", 1)]["err"][2] == "ci" and by[("polars", 2)]["err"][2] == "minmax"  # no interval known
    assert [(e, t, label) for e, t, _, label in failed] == [("duckdb", 1, "oom")]
    # bars of one engine sit around its group's centre, one colour per thread count
    assert by[("polars", 1)]["x"] < 0 < by[("polars", 2)]["x"]
    assert (by[("polars", 2)]["j"], by[("duckdb", 2)]["j"]) == (1, 1)
    memory, _ = bar_points(latest, "B", ["polars", "duckdb"], [1, 2], "peak_rss_bytes")
    assert {(b["engine"], b["t"]): b["value"] for b in memory}[("duckdb", 2)] == pytest.approx(300)  # MiB
