"""Distributed engines on real clusters on this machine (`bench-pipeline cluster`): Spark on a standalone
cluster and Daft on a Ray cluster (worker scaling over two posts layouts), and the Engine Wars image pipeline on
Spark, Daft on Ray and Ray Data; compared with each other, with Spark local[n] and with the single-node engines at
the machine's cores."""

from __future__ import annotations

import functools

from bench_pipeline import options as opt
from bench_pipeline.engines.daft_engine import DaftRayEngine
from bench_pipeline.queries import QUERY_NAMES
from bench_pipeline.suites import CellGroup, DataStep, Suite, SuiteRun, Summary
from bench_pipeline.suites.cluster.cells import ENGINE, LAYOUTS, PARTITIONED_DIR
from bench_pipeline.suites.cluster.image_cells import IMAGES
from bench_pipeline.suites.cluster.ray_cluster import unreachable_reason
from bench_pipeline.suites.cluster.settings import DISTRIBUTED_ENGINES, IMAGES_ONLY, RAY_CLASSES, ClusterSettings
from bench_pipeline.suites.grid import cells as grid

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


def _run(args) -> SuiteRun:
    if args.master and args.data_uri is None and not args.master.startswith("spark://127.0.0.1"):
        raise opt.UsageError("argument --data-uri: a remote cluster needs the data folder's URI (hdfs://, gs://)")
    for cls in RAY_CLASSES:
        if cls.name in (args.distributed_engines or ()) and (reason := cls.unavailable_reason()):
            raise opt.UsageError(f"argument --engines: {cls.name}: {reason}")
    own = ClusterSettings.from_env(executors=args.executors, layouts=args.layouts, master=args.master,
                                   data_uri=args.data_uri, distributed_engines=args.distributed_engines,
                                   ray_address=args.ray_address, images=args.images)
    if own.ray_address and (reason := unreachable_reason(own.ray_address)):  # the flag or BENCH_CLUSTER_RAY_ADDRESS
        raise opt.UsageError(f"argument --ray-address: {reason}")
    if not own.images and own.distributed_engines == (IMAGES_ONLY,):
        raise opt.UsageError(f"argument --no-images: {IMAGES_ONLY} has only the image pipeline to measure")
    return SuiteRun(opt.main_settings_from(args), own)


def _partitioned_fingerprint(s):
    return grid.fingerprint_of(s.data_dir) if (s.data_dir / PARTITIONED_DIR).is_dir() else None


def wars_run(run: SuiteRun) -> SuiteRun:
    """The Engine Wars settings with the same main settings: where the image cells find their images."""
    from bench_pipeline.suites.wars.settings import WarsSettings

    return SuiteRun(run.main, WarsSettings.from_env(run.main.home))


def images_fingerprint(run: SuiteRun) -> str | None:
    """The fingerprint of the images the image cells read (None: not made yet)."""
    from bench_pipeline.suites import wars

    return wars.data_fingerprint(wars_run(run))


def _data(run: SuiteRun) -> list[DataStep]:
    from bench_pipeline.suites import wars

    s = run.main
    steps = [grid.dataset_step(s)]
    if "partitioned" in run.own.layouts and run.own.keys() + run.own.ray_keys():
        steps.append(DataStep("posts_partitioned", "posts partitioned by category (for the cluster)",
                              lambda: _partitioned_fingerprint(s)))
    if run.own.image_keys():
        steps += wars.SUITE.data(wars_run(run))
    return steps


def cell_measured_with(run: SuiteRun, key: str, data, engine: str = ENGINE) -> dict:
    from bench_pipeline.versions import measured_with

    executors = int(key.split("|")[0])
    return measured_with(engine, executors * run.own.cores_per_worker, data, run.main.repeats,
                         run.main.repetition_settings)


def image_cell_measured_with(run: SuiteRun, key: str, data) -> dict:
    """key: 'engine|executors' (Dagster orders the dimensions by name)."""
    from bench_pipeline.suites.cluster.image_cells import image_engine_path
    from bench_pipeline.suites.wars.cells import suite_code_hash, wars_signature
    from bench_pipeline.versions import measured_with

    engine, executors = key.split("|")
    path = image_engine_path(engine)
    return measured_with(path, int(executors), data, run.main.repeats, run.main.repetition_settings,
                         signature=wars_signature(path), harness_version=suite_code_hash())


def _cells(run: SuiteRun) -> list[CellGroup]:
    """The cluster cells asked for, then the local cells they are compared with: Spark local[n] and the
    single-node engines at the machine's cores on the same data."""
    from bench_pipeline.dataset import open_dataset
    from bench_pipeline.harness import provenance

    data = functools.cache(lambda: open_dataset(run.main.data_dir))
    executors = {"executors": [str(n) for n in run.own.executors]}
    cluster = CellGroup(ASSET, run.own.keys(), lambda key: cell_measured_with(run, key, data()),
                        queries=len(QUERY_NAMES), dynamic_partitions=executors)
    ray = CellGroup(RAY_ASSET, run.own.ray_keys(),
                    lambda key: cell_measured_with(run, key, data(), DaftRayEngine.name),
                    queries=len(QUERY_NAMES), dynamic_partitions=executors)
    groups = [cluster, ray]
    if run.own.image_keys():
        from bench_pipeline.suites import wars

        images = functools.cache(lambda: wars.open_data(wars_run(run)))
        groups.append(CellGroup(IMAGE_ASSET, run.own.image_keys(),
                                lambda key: image_cell_measured_with(run, key, images()), queries=1,
                                dynamic_partitions=executors))
        # and the image pipeline's single-node cells at the machine's cores, to compare with
        groups += [g for g in wars.SUITE.cells(wars_run(run)) if g.asset == wars.task_asset(IMAGES)]
    return [g for g in groups if g.keys] + [grid.group(run.main, [provenance.logical_cores()])]


def _room(run: SuiteRun) -> None:
    from bench_pipeline import state

    copies = 2 if "partitioned" in run.own.layouts else 1  # the partitioned copy is the posts once more
    state.check_datasets(run.main.home, {run.main.data_dir: run.main.rows * copies})
    if run.own.image_keys():
        from bench_pipeline.suites import wars

        wars.SUITE.room(wars_run(run))


def _title(run: SuiteRun) -> str:
    own = run.own
    images = f", the image pipeline ({wars_run(run).own.images} images)" if own.image_keys() else ""
    tabular = (f" x {','.join(own.layouts)}, {run.main.rows:,} rows" if own.keys() + own.ray_keys() else "")
    return (f"{', '.join(own.distributed_engines)} on clusters, workers {','.join(map(str, own.executors))}"
            f"{tabular}{images}")


def _summary(run: SuiteRun, result) -> Summary:
    from bench_pipeline.harness import provenance
    from bench_pipeline.store import ResultsStore
    from bench_pipeline.suites.cluster.metrics import findings, read_cluster_metrics

    cluster = read_cluster_metrics(ResultsStore(run.main.store_path)) if result.report else None
    rows = [{**r, "engine": f"{r['engine']} {r['executors']}x {r['data_layout']}", "threads_asked": r["executors"]}
            for r in (cluster or {}).get("metrics_cluster", [])]
    notes = tuple(f"- {line}" for line in findings(cluster, provenance.logical_cores())) if cluster else ()
    return Summary(rows, "latest cluster measurement per cell and query", notes)


SUITE = Suite(
    name="cluster", command="cluster",
    help="Spark on a standalone cluster, Daft and Ray Data on a Ray cluster: worker scaling, layouts, the image "
         "pipeline, analysis",
    settings=ClusterSettings, options=_options, run_from_args=_run, data=_data, cells=_cells, room=_room,
    title=_title, summary=_summary,
    outputs=("cluster_analysis", "metrics", "speedup_plots", "benchmark_report"), parents=("measure", "data", "json"),
)
