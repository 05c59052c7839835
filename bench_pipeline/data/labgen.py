"""The lab assignment's way of generating posts, kept as a baseline and as a test input.

It builds every column as Python objects (a Faker UUID per row, a NumPy choice
per row for the tags), then a pandas DataFrame, then one Parquet write: the
approach `datagen` replaces. The file it writes has the lab's column order and
pandas' string layout (`large_string` under pandas 3), which every engine must
accept. Use it to measure `datagen` against, not to make benchmark data.
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

from bench_pipeline.data.datagen import CATEGORIES, DEVICES, LOCATIONS, TAGS


def generate_lab_posts(num_records: int, output_path: str | os.PathLike, seed: int | None = None) -> None:
    from faker import Faker  # faker: only where it is used

    fake = Faker()
    if seed is not None:
        Faker.seed(seed)
        np.random.seed(seed)
    data = {
        "post_id": [fake.uuid4() for _ in range(num_records)],
        "user_id": np.random.randint(1, 100_000, num_records),
        "timestamp": pd.date_range(start="2023-01-01", periods=num_records, freq="s")
        .to_numpy()
        .astype("datetime64[us]"),
        "likes": np.random.randint(0, 10_000, num_records),
        "views": np.random.randint(0, 1_000_000, num_records),
        "category": np.random.choice(CATEGORIES, num_records),
        "tags": [
            np.random.choice(TAGS, size=np.random.randint(1, 4)).tolist() for _ in range(num_records)
        ],
        "location": np.random.choice(LOCATIONS, num_records),
        "device": np.random.choice(DEVICES, num_records),
        "latency": np.random.uniform(10.0, 500.0, num_records),
        "error_rate": np.random.beta(1, 10, num_records),
        "content": [fake.sentence() for _ in range(min(num_records, 1000))] * (num_records // 1000 + 1),
    }
    data["content"] = data["content"][:num_records]
    pd.DataFrame(data).to_parquet(output_path, engine="pyarrow")
