"""Daft: the image pipeline in its native expressions, download -> decode_image -> resize, all in Rust; on the
native runner (the Engine Wars suite) and on a Ray cluster (the cluster suite's image cells)."""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from bench_pipeline.engines.daft_engine import DaftEngine, DaftRayEngine
from bench_pipeline.suites.wars.engines import TaskEngine, images_url, wars_data
from bench_pipeline.suites.wars.tasks import IMAGE_SIZE, image_answer


class DaftWars(TaskEngine, DaftEngine):
    spread_images = False  # one partition per worker CPU (the manifest is one small file: one partition)

    def task_images(self, data) -> Any:
        daft = self.daft
        # daft: imported when the engine starts, after its threads are set
        from daft.functions import decode_image, download, resize

        col = daft.col
        urls = daft.read_csv(str(wars_data(data).manifest)).select(
            "image", (daft.lit(images_url()) + col("image")).alias("url"))
        if self.spread_images:
            urls = urls.into_partitions(int(self.threads))
        return urls.select(
            "image", resize(decode_image(download(col("url"))), IMAGE_SIZE, IMAGE_SIZE).alias("thumbnail")
        ).collect()

    def to_arrow(self, result: Any) -> pa.Table:
        if "thumbnail" in result.column_names:
            cols = result.to_pydict()
            return image_answer(cols["image"], cols["thumbnail"])
        return super().to_arrow(result)


class DaftRayWars(DaftWars, DaftRayEngine):
    """The same pipeline on Daft's Ray runner (start-up and threads from DaftRayEngine), spread over the workers."""

    spread_images = True
