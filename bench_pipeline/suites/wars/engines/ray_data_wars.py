"""Ray Data: the image pipeline as `map_batches` on a Ray cluster (BENCH_RAY_ADDRESS names it).

The manifest is read by Ray Data into one block per worker CPU, and each batch of
URLs is downloaded, decoded and resized by Pillow in a Ray task on a worker node;
the resized pixels come back to the driver, as Spark's UDF returns them.
Ray Data has no SQL or DataFrame API for the tabular queries: this engine has
only the image task (the cluster suite's image cells).
"""

from __future__ import annotations

import os
import sys
from typing import Any

import pyarrow as pa

from bench_pipeline.engines.base import Engine
from bench_pipeline.engines.daft_engine import RAY_ADDRESS_ENV
from bench_pipeline.engines.optional import missing_reason
from bench_pipeline.suites.wars.engines import TaskEngine, images_url, wars_data
from bench_pipeline.suites.wars.tasks import IMAGE_SIZE, image_answer

BATCH_SIZE = 16  # images per Ray task: enough to amortise a task, small enough to spread 200 over 4 workers


def resize_batch(batch: dict, base_url: str, size: int) -> dict:
    """One batch of manifest rows -> their resized pixels. Self-contained (no project import): Ray pickles it by
    value, so a worker of an existing cluster needs only Pillow and numpy."""
    import io  # runs in a Ray worker: its imports travel with it
    import urllib.request  # runs in a Ray worker

    import numpy as np  # numpy: imported when the engine starts, after its threads are set
    from PIL import Image  # PIL: imported when the engine starts, after its threads are set

    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # straight to the image server
    widths, heights, channels, pixels = [], [], [], []
    for name in batch["image"]:
        with opener.open(base_url + str(name), timeout=30) as response:
            payload = response.read()
        with Image.open(io.BytesIO(payload)) as img:
            thumb = img.convert("RGB").resize((size, size))
        widths.append(thumb.size[0])
        heights.append(thumb.size[1])
        channels.append(len(thumb.getbands()))
        pixels.append(thumb.tobytes())
    return {"image": np.asarray(batch["image"]).astype(str), "width": np.asarray(widths),
            "height": np.asarray(heights), "channels": np.asarray(channels), "pixels": np.asarray(pixels, dtype=object)}


class RayDataWars(TaskEngine, Engine):
    name = "ray-data"
    distribution = "ray"
    extra_distributions = ("pyarrow", "pillow")
    role = "distributed"
    needs_cluster = True  # measured by the cluster suite's image cells on a real Ray cluster

    @classmethod
    def unavailable_reason(cls) -> str | None:
        return missing_reason("ray", extra="ray")

    def configure(self, threads: int) -> None:
        super().configure(threads)
        os.environ.update(RAY_USAGE_STATS_ENABLED="0")

    def start(self) -> None:
        import ray  # ray: imported when the engine starts, after its threads are set
        import ray.cloudpickle  # ray: imported when the engine starts, after its threads are set

        address = os.environ.get(RAY_ADDRESS_ENV)
        if not address:
            raise RuntimeError(f"ray-data needs a Ray cluster: {RAY_ADDRESS_ENV} is not set")
        ray.init(address=address, logging_level="ERROR", log_to_driver=False)
        ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
        context = ray.data.DataContext.get_current()
        context.enable_progress_bars = False
        context.enable_operator_progress_bars = False
        self.ray = ray
        # Ray starts its worker processes with the first task: start-up, not the first run's time.
        ray.data.range(int(self.threads), override_num_blocks=int(self.threads)).map_batches(lambda b: b).take_all()

    def reported_threads(self) -> int:
        return int(sum(n["Resources"].get("CPU", 0) for n in self.ray.nodes() if n["Alive"]))

    def task_images(self, data) -> Any:
        ds = self.ray.data.read_csv(str(wars_data(data).manifest), override_num_blocks=int(self.threads))
        thumbs = ds.select_columns(["image"]).map_batches(
            resize_batch, batch_size=BATCH_SIZE, batch_format="numpy",
            fn_kwargs={"base_url": images_url(), "size": IMAGE_SIZE})
        return pa.concat_tables(self.ray.get(thumbs.to_arrow_refs()))

    def to_arrow(self, result: Any) -> pa.Table:
        import numpy as np  # numpy: imported when the engine starts, after its threads are set

        rows = result.to_pylist()
        arrays = [np.frombuffer(r["pixels"], np.uint8).reshape(r["height"], r["width"], r["channels"]) for r in rows]
        return image_answer([r["image"] for r in rows], arrays)

    def close(self) -> None:
        if getattr(self, "ray", None) is not None:
            self.ray.shutdown()
