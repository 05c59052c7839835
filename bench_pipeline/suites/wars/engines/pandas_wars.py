"""pandas: eager reads, groupby; the image pipeline with Pillow, one image after another (the article's way)."""

from __future__ import annotations

import io
import urllib.request
from typing import Any

import pyarrow as pa

from bench_pipeline.engines.pandas_engine import PandasEngine
from bench_pipeline.suites.wars.engines import TaskEngine, images_url, wars_data
from bench_pipeline.suites.wars.tasks import ETL_MIN_SPEND, ETL_SINCE, IMAGE_SIZE, image_answer

# Straight to 127.0.0.1: no proxy from the environment may sit in between.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def download_and_resize(url: str):
    from PIL import Image  # PIL: imported when the engine starts, after its threads are set

    with _OPENER.open(url, timeout=30) as response:
        payload = response.read()
    with Image.open(io.BytesIO(payload)) as img:
        return img.convert("RGB").resize((IMAGE_SIZE, IMAGE_SIZE))


class PandasWars(TaskEngine, PandasEngine):
    def task_etl(self, data) -> Any:
        pd = self.pd
        df = pd.read_parquet(wars_data(data).events,
                             columns=["user_id", "event_id", "purchase_amount", "session_duration"],
                             filters=[("event_date", ">=", pd.Timestamp(ETL_SINCE))])
        out = (df.groupby("user_id", sort=False)
               .agg(total_spend=("purchase_amount", "sum"), event_count=("event_id", "count"),
                    avg_session=("session_duration", "mean"))
               .reset_index())
        out = out[out["total_spend"] > ETL_MIN_SPEND]
        return out.sort_values(["total_spend", "user_id"], ascending=[False, True], kind="stable")

    def task_csv_groupby(self, data) -> Any:
        df = self.pd.read_csv(wars_data(data).sales, usecols=["region", "revenue"])
        return df.groupby("region", sort=True)["revenue"].mean().rename("avg_revenue").reset_index()

    def task_images(self, data) -> Any:
        df = self.pd.read_csv(wars_data(data).manifest, usecols=["image"])
        df["thumbnail"] = (images_url() + df["image"]).map(download_and_resize)
        return df

    def to_arrow(self, result: Any) -> pa.Table:
        if "thumbnail" in result.columns:
            import numpy as np  # numpy: imported when the engine starts, after its threads are set

            return image_answer(result["image"].tolist(), [np.asarray(img) for img in result["thumbnail"]])
        return super().to_arrow(result.reset_index(drop=True))
