"""Distributed engines on real clusters on this machine (`bench-pipeline cluster`): Spark on a standalone
cluster and Daft on a Ray cluster (worker scaling over two posts layouts), and the Engine Wars image pipeline on
Spark, Daft on Ray and Ray Data; compared with each other, with Spark local[n] and with the single-node engines at
the machine's cores."""

from __future__ import annotations

import dataclasses
import functools

from bench_pipeline.analysis import stats
from bench_pipeline.config import options as opt
from bench_pipeline.config import state
from bench_pipeline.data.dataset import open_dataset
from bench_pipeline.engines.daft_engine import DaftRayEngine
from bench_pipeline.harness import provenance
from bench_pipeline.harness.rounds import RECOMMENDATION, Question
from bench_pipeline.results.store import ResultsStore
from bench_pipeline.results.versions import measured_with
from bench_pipeline.suites import CellGroup, DataStep, Suite, SuiteConfig, Summary, answers, wars
from bench_pipeline.suites.cluster.cells import ENGINE, LAYOUTS, PARTITIONED_DIR
from bench_pipeline.suites.cluster.image_cells import IMAGES
from bench_pipeline.suites.cluster.ray_cluster import unreachable_reason
from bench_pipeline.suites.cluster.settings import DISTRIBUTED_ENGINES, IMAGES_ONLY, RAY_CLASSES, ClusterSettings
from bench_pipeline.suites.grid import cells as grid
from bench_pipeline.suites.wars.cells import suite_code_hash, wars_signature
from bench_pipeline.suites.wars.settings import WarsSettings
from bench_pipeline.workloads.social.catalogue import QUERY_NAMES

ASSET = "spark_cluster_cells"
RAY_ASSET = "ray_cluster_cells"
IMAGE_ASSET = "cluster_image_cells"


def _options(p) -> None:
    p.add_argument("--executors", type=opt.int_list, default=None, help="executor counts (default: 2,3,4)")
    p.add_argument("--layouts", type=opt.choice_list(LAYOUTS, "layout"), default=None,
                   help="posts layouts: flat, partitioned (default: both)")
    p.add_argument("--master", default=None,
                   help="an existing cluster: spark://host:7077, yarn, k8s://... (default: one started per cell)")
    p.add_argument("--data-uri", default=None,
                   help="the data folder as the executors see it: hdfs://, gs:// (needed with a remote --master)")
    p.add_argument("--engines", dest="distributed_engines", type=opt.choice_list(DISTRIBUTED_ENGINES, "engine"),
                   default=None, help=f"{', '.join(DISTRIBUTED_ENGINES)} (default: all when the `ray` extra is "
                                      "installed)")
    p.add_argument("--ray-address", default=None,
                   help="an existing Ray cluster, host:port (default: one started per cell on 127.0.0.1)")
    p.add_argument("--no-images", dest="images", action="store_const", const=False, default=None,
                   help="leave out the image pipeline's cells (default: measured on every engine's cluster)")


def _run(args) -> SuiteConfig:
    if args.master and args.data_uri is None and not args.master.startswith("spark://127.0.0.1"):
        raise opt.UsageError("argument --data-uri: a remote cluster needs the data folder's URI (hdfs://, gs://)")
    for cls in RAY_CLASSES:
        if cls.name in (args.distributed_engines or ()) and (reason := cls.unavailable_reason()):
            raise opt.UsageError(f"argument --engines: {cls.name}: {reason}")
    own = ClusterSettings.from_env(executors=args.executors, layouts=args.layouts, master=args.master,
                                   data_uri=args.data_uri, distributed_engines=args.distributed_engines,
                                   ray_address=args.ray_address, images=args.images, time_budget_s=args.time_budget_s)
    if own.ray_address and (reason := unreachable_reason(own.ray_address)):  # the flag or BENCH_CLUSTER_RAY_ADDRESS
        raise opt.UsageError(f"argument --ray-address: {reason}")
    if not own.images and own.distributed_engines == (IMAGES_ONLY,):
        raise opt.UsageError(f"argument --no-images: {IMAGES_ONLY} has only the image pipeline to measure")
    return SuiteConfig(opt.main_settings_from(args, time_budget_s=None), own)


def _partitioned_fingerprint(s):
    return grid.fingerprint_of(s.data_dir) if (s.data_dir / PARTITIONED_DIR).is_dir() else None


def wars_run(run: SuiteConfig) -> SuiteConfig:
    """The Engine Wars settings with the same main settings: where the image cells find their images."""
    return SuiteConfig(run.main, WarsSettings.from_env(run.main.home))


def images_fingerprint(run: SuiteConfig) -> str | None:
    """The fingerprint of the images the image cells read (None: not made yet)."""
    return wars.data_fingerprint(wars_run(run))


def _data(run: SuiteConfig) -> list[DataStep]:
    s = run.main
    steps = [grid.dataset_step(s)]
    if "partitioned" in run.own.layouts and run.own.keys() + run.own.ray_keys():
        steps.append(DataStep("posts_partitioned", "posts partitioned by category (for the cluster)",
                              lambda: _partitioned_fingerprint(s)))
    if run.own.image_keys():
        steps += wars.SUITE.data(wars_run(run))
    return steps


def cell_measured_with(run: SuiteConfig, key: str, data, engine: str = ENGINE) -> dict:
    executors = int(key.split("|")[0])
    return measured_with(engine, executors * run.own.cores_per_worker, data, run.main.repeats,
                         run.main.repetition_settings)


def image_cell_measured_with(run: SuiteConfig, key: str, data) -> dict:
    """key: 'engine|executors' (Dagster orders the dimensions by name)."""
    from bench_pipeline.suites.cluster.image_cells import image_engine_path  # image_cells imports this module

    engine, executors = key.split("|")
    path = image_engine_path(engine)
    return measured_with(path, int(executors), data, run.main.repeats, run.main.repetition_settings,
                         signature=wars_signature(path), harness_version=suite_code_hash())


def _cells(run: SuiteConfig) -> list[CellGroup]:
    """The cluster cells asked for, then the local cells they are compared with: Spark local[n] and the
    single-node engines at the machine's cores on the same data."""
    from bench_pipeline.suites.cluster.cells import cluster_spec  # cells imports this module
    from bench_pipeline.suites.cluster.image_cells import image_spec  # image_cells imports this module
    from bench_pipeline.suites.cluster.ray_cluster import ray_spec  # ray_cluster imports this module

    s, own, store = run.main, run.own, ResultsStore(run.main.store_path)
    data = functools.cache(lambda: open_dataset(s.data_dir))
    executors = {"executors": [str(n) for n in own.executors]}
    measure = dict(repeats=s.repeats, timeout_s=s.timeout_s, query_budget_s=s.query_budget_s)

    def split(key: str) -> tuple[int, str]:
        n, layout = key.split("|")
        return int(n), layout

    def tabular(engine: str, spec) -> CellGroup:
        asset = ASSET if engine == ENGINE else RAY_ASSET
        return CellGroup(asset, own.keys() if engine == ENGINE else own.ray_keys(),
                         lambda key: cell_measured_with(run, key, data(), engine), queries=len(QUERY_NAMES),
                         spec=lambda key: spec(*split(key)),
                         latest_rows=lambda keys: _latest(store, keys, "engine = ? AND query <> ?", [engine, IMAGES],
                                                          data().fingerprint(), ("executors", "data_layout")),
                         title=lambda key: f"{engine} {split(key)[0]} workers {split(key)[1]}",
                         dynamic_partitions=executors)

    groups = [tabular(ENGINE, lambda n, layout: cluster_spec(data(), n, layout, own.config(), **measure)),
              tabular(DaftRayEngine.name, lambda n, layout: ray_spec(data(), n, layout, own.ray_address, **measure))]
    if own.image_keys():
        images = functools.cache(lambda: wars.open_data(wars_run(run)))

        def image(key: str):
            engine, n = key.split("|")
            return image_spec(images(), engine, int(n), own.config(), ray_address=own.ray_address, **measure)

        groups.append(CellGroup(IMAGE_ASSET, own.image_keys(), lambda key: image_cell_measured_with(run, key, images()),
                                queries=1, spec=image,
                                latest_rows=lambda keys: _latest(store, keys, "query = ?", [IMAGES],
                                                                 images().fingerprint(), ("engine", "executors")),
                                title=lambda key: f"{key.split('|')[0]} {key.split('|')[1]} workers",
                                dynamic_partitions=executors))
        # and the image pipeline's single-node cells at the machine's cores, to compare with
        groups += [_reference(g) for g in wars.SUITE.cells(wars_run(run)) if g.asset == wars.task_asset(IMAGES)]
    return [g for g in groups if g.keys] + [_reference(grid.group(run.main, [provenance.logical_cores()]))]


def _reference(group: CellGroup) -> CellGroup:
    """Single-node cells as the cluster's reference: measured after the executor steps' round 1 and questions
    (they answer only "the cluster vs one machine"), so a budget goes to "did more workers help?" first."""
    return dataclasses.replace(group, spec=lambda key, spec=group.spec: dataclasses.replace(spec(key), reference=True))


def _latest(store, keys: list[str], where: str, params: list, fingerprint: str, key_columns: tuple[str, str]):
    """The latest cluster measurement of each of these cells' queries (`key` from its two key columns)."""
    rows = store.latest(f"suite = 'cluster' AND dataset_fingerprint = ? AND {where}", [fingerprint, *params],
                        f"engine, {', '.join(key_columns)}, query")
    wanted = set(keys)
    return [{**r, "key": k} for r in rows if (k := "|".join(str(r[c]) for c in key_columns)) in wanted]


def _questions(run: SuiteConfig, measurements, noise):
    """Each executor count against the next (per engine, layout and query) and, per query, the fastest cluster
    against the fastest single-node engine at the machine's cores: the cluster suite's answer."""
    from bench_pipeline.suites.cluster.metrics import what  # metrics imports this module

    steps: dict[tuple, list] = {}
    cluster, local = {}, {}
    for m in measurements:
        if m.group in (ASSET, RAY_ASSET, IMAGE_ASSET):
            first, second = m.key.split("|")
            n, layout = (int(first), second) if m.group != IMAGE_ASSET else (int(second), IMAGES)
            steps.setdefault((m.engine, layout, m.query), []).append((n, m))
            cluster.setdefault(m.query, []).append(m)
        else:
            local.setdefault(m.query, []).append(m)
    out = []
    for (engine, layout, q), points in steps.items():
        points.sort(key=lambda p: p[0])
        where = "" if layout == IMAGES else f", {layout}"
        out += [Question(b, a, "executors", RECOMMENDATION, f"{n0} -> {n1} workers",
                         f"{engine}, {what(q, lower=True)}{where}, {n1} vs {n0} workers")
                for (n0, a), (n1, b) in zip(points, points[1:], strict=False)]

    def fastest(ms):
        valid = [m for m in ms if m.valid]
        return min(valid, key=lambda m: stats.level(m.values, noise).value) if valid else None

    for q, ms in cluster.items():
        best, single = fastest(ms), fastest(local.get(q, []))
        if best is not None and single is not None:
            out.append(Question(best, single, "cluster", RECOMMENDATION, "the cluster vs one machine",
                                f"{what(q)}: {best.name} vs {single.name}"))
    return out


def _room(run: SuiteConfig) -> None:
    copies = 2 if "partitioned" in run.own.layouts else 1  # the partitioned copy is the posts once more
    state.check_datasets(run.main.home, {run.main.data_dir: run.main.rows * copies})
    if run.own.image_keys():
        wars.SUITE.room(wars_run(run))


def _title(run: SuiteConfig) -> str:
    own = run.own
    images = f", the image pipeline ({wars_run(run).own.images} images)" if own.image_keys() else ""
    tabular = (f" x {','.join(own.layouts)}, {run.main.rows:,} rows" if own.keys() + own.ray_keys() else "")
    return (f"{', '.join(own.distributed_engines)} on clusters, workers {','.join(map(str, own.executors))}"
            f"{tabular}{images}")


def _summary(run: SuiteConfig, result) -> Summary:
    from bench_pipeline.suites.cluster.metrics import findings, read_cluster_metrics  # metrics imports this module

    cluster = read_cluster_metrics(ResultsStore(run.main.store_path)) if result.report else None
    rows = [{**r, "engine": f"{r['engine']} {r['executors']}x {r['data_layout']}", "threads_asked": r["executors"]}
            for r in (cluster or {}).get("metrics_cluster", [])]
    notes = tuple(f"- {line}" for line in findings(cluster, provenance.logical_cores())) if cluster else ()
    questions = answers(SUITE, run) if cluster else []
    if questions:
        notes += ("", "Answers by the rule:", *(f"- {q.sentence()}" for q in questions))
    return Summary(rows, "latest cluster measurement per cell and query", notes,
                   extra={"answers": [q.as_json() for q in questions]})


SUITE = Suite(
    name="cluster", command="cluster",
    help="Spark on a standalone cluster, Daft and Ray Data on a Ray cluster: worker scaling, layouts, the image "
         "pipeline, analysis",
    settings=ClusterSettings, options=_options, config_from_args=_run, data=_data, cells=_cells, room=_room,
    title=_title, summary=_summary,
    outputs=("cluster_analysis", "metrics", "speedup_plots", "benchmark_report"), questions=_questions,
    budget="round 1 measures every query of every stale cluster cell once, each cell's processes on one cluster "
           "started for them; then each process goes to the open comparison most likely to be decided per second "
           "(a cluster started for it, its start-up counted): each worker count against the next; then the "
           "single-node engines at the machine's cores, and the fastest cluster against the fastest of them",
    parents=("measure", "budget", "data", "json"),
)
