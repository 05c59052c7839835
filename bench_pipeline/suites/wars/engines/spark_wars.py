"""PySpark: the ETL chain in the DataFrame API; the image pipeline as a Python UDF (the article's way).

Every image crosses from the JVM to a Python worker and back: the UDF returns
the resized pixels, so the work cannot be pruned away and the bytes travel.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from bench_pipeline.engines.spark_engine import SparkEngine
from bench_pipeline.suites.wars.engines import TaskEngine, images_url, wars_data
from bench_pipeline.suites.wars.tasks import ETL_MIN_SPEND, ETL_SINCE, image_answer


def _resize_udf():
    from pyspark.sql.functions import udf  # pyspark: imported when the engine starts, after its threads are set

    # pyspark: imported when the engine starts, after its threads are set
    from pyspark.sql.types import BinaryType, IntegerType, StructField, StructType

    schema = StructType([StructField("width", IntegerType()), StructField("height", IntegerType()),
                         StructField("channels", IntegerType()), StructField("pixels", BinaryType())])

    @udf(returnType=schema)
    def resize(url):
        # off the worker's import path (SQL planning)
        from bench_pipeline.suites.wars.engines.pandas_wars import download_and_resize

        img = download_and_resize(url)
        return (img.size[0], img.size[1], len(img.getbands()), img.tobytes())

    return resize


class SparkWars(TaskEngine, SparkEngine):
    def task_etl(self, data) -> Any:
        F = self.F
        return (
            self.spark.read.parquet(str(wars_data(data).events))
            .where(F.col("event_date") >= F.lit(ETL_SINCE))
            .groupBy("user_id")
            .agg(F.sum("purchase_amount").alias("total_spend"), F.count("event_id").alias("event_count"),
                 F.avg("session_duration").alias("avg_session"))
            .where(F.col("total_spend") > ETL_MIN_SPEND)
            .orderBy(F.desc("total_spend"), "user_id")
            .toArrow()
        )

    def task_images(self, data) -> Any:
        F = self.F
        images = (self.spark.read.csv(str(wars_data(data).manifest), header=True).select("image")
                  .repartition(int(self.threads)))  # one Python worker per core, not one for the whole file
        thumbs = images.withColumn("thumb", _resize_udf()(F.concat(F.lit(images_url()), F.col("image"))))
        return thumbs.select("image", "thumb.width", "thumb.height", "thumb.channels", "thumb.pixels").toArrow()

    def to_arrow(self, result: Any) -> pa.Table:
        if isinstance(result, pa.Table) and "pixels" in result.column_names:
            import numpy as np  # numpy: imported when the engine starts, after its threads are set

            rows = result.to_pylist()
            arrays = [np.frombuffer(r["pixels"], np.uint8).reshape(r["height"], r["width"], r["channels"])
                      for r in rows]
            return image_answer([r["image"] for r in rows], arrays)
        return super().to_arrow(result)
