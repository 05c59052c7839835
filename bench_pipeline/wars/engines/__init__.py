"""Each engine's implementation of the suite's workloads: the project's engine plus `query_<workload>` methods.

A class here extends the main engine (same thread control, start-up and
verification), so a workload runs in the same harness worker as L, A, B, C.
The worker passes a Dataset whose root is the suite's data folder.
"""

import os

from bench_pipeline.wars.data import WarsData

IMAGES_URL_ENV = "BENCH_WARS_IMAGES_URL"  # where the runner's image server listens


def wars_data(data) -> WarsData:
    return WarsData(data.root)


def images_url() -> str:
    url = os.environ.get(IMAGES_URL_ENV)
    if not url:
        raise RuntimeError(f"{IMAGES_URL_ENV} is not set: the image server is started by the suite's runner")
    return url
