"""The suite's data: events.parquet (ETL, hand-off), sales.csv (CSV ingest) and generated images.

Shapes follow the article's notebook: events of ~40 per user over a year from
2024-06-01 with a 10 % purchase share, sales rows with a region and a revenue,
and photos-like JPEGs of 320-640 x 240-480 pixels. Everything comes from one
seed; the same arguments give the same bytes.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from bench_pipeline.suites.wars.imagegen import write_images

EVENTS_FILE = "events.parquet"
SALES_FILE = "sales.csv"
IMAGES_DIR = "images"
MANIFEST_FILE = "manifest.csv"  # image, width, height, mean: the reference of the image pipeline
PARAMS_FILE = "params.json"

EVENT_TYPES = ["page_view", "click", "purchase", "signup", "logout"]
EVENT_P = [0.5, 0.25, 0.1, 0.1, 0.05]
EVENTS_PER_USER = 40
REGIONS = ["North", "South", "East", "West", "Central"]
PRODUCTS = ["Widget A", "Widget B", "Widget C", "Gadget X", "Gadget Y"]
EVENTS_START = dt.datetime(2024, 6, 1)
EVENTS_HOURS = 365 * 24


class WarsDataError(ValueError):
    pass


@dataclass(frozen=True)
class WarsData:
    root: Path

    @property
    def events(self) -> Path:
        return self.root / EVENTS_FILE

    @property
    def sales(self) -> Path:
        return self.root / SALES_FILE

    @property
    def images(self) -> Path:
        return self.root / IMAGES_DIR

    @property
    def manifest(self) -> Path:
        return self.images / MANIFEST_FILE

    def params(self) -> dict:
        return json.loads((self.root / PARAMS_FILE).read_text())

    def fingerprint(self) -> str:
        """Written at generation: a hash of every file's bytes (the data version)."""
        return self.params()["fingerprint"]

    def image_names(self) -> list[str]:
        with open(self.manifest, newline="") as f:
            return [row["image"] for row in csv.DictReader(f)]


def _events(rows: int, rng: np.random.Generator) -> pa.Table:
    users = max(rows // EVENTS_PER_USER, 10)
    user_ids = np.char.add("user_", np.char.zfill(rng.integers(1, users + 1, rows).astype(str), 5))
    hours = rng.integers(0, EVENTS_HOURS, rows)
    kind = rng.choice(len(EVENT_TYPES), rows, p=EVENT_P)
    is_purchase = kind == EVENT_TYPES.index("purchase")
    amount = np.where(is_purchase, rng.uniform(5, 500, rows), rng.uniform(0, 100, rows)).round(2)
    return pa.table({
        "event_id": pa.array(np.char.add("evt_", np.char.zfill(np.arange(rows).astype(str), 8))),
        "user_id": pa.array(user_ids),
        "event_type": pa.array(np.array(EVENT_TYPES)[kind]),
        "event_date": pa.array(np.datetime64(EVENTS_START, "us") + hours.astype("timedelta64[h]")),
        "purchase_amount": pa.array(amount),
        "session_duration": pa.array(rng.exponential(300, rows).round(0)),
    })


def _sales(rows: int, rng: np.random.Generator) -> pa.Table:
    return pa.table({
        "region": pa.array(np.array(REGIONS)[rng.integers(0, len(REGIONS), rows)]),
        "product": pa.array(np.array(PRODUCTS)[rng.integers(0, len(PRODUCTS), rows)]),
        "revenue": pa.array(rng.uniform(10, 1000, rows).round(2)),
        "quantity": pa.array(rng.integers(1, 50, rows)),
        # One sale a minute from 2024-01-01 (Arrow has no minute unit: seconds).
        "date": pa.array(np.datetime64("2024-01-01T00:00:00", "s") + np.arange(rows) * np.timedelta64(60, "s")),
    })


def _hash_files(paths) -> str:
    h = hashlib.sha256()
    for path in paths:
        h.update(path.name.encode())
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 22), b""):
                h.update(block)
    return h.hexdigest()[:16]


def generate_wars(root: str | os.PathLike, events_rows: int, sales_rows: int, images: int, seed: int = 42) -> WarsData:
    """Write the suite's data into `root` (replacing it whole, so no half-written folder is ever left)."""
    root = Path(root)
    tmp = root.with_name(root.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    pq.write_table(_events(events_rows, rng), tmp / EVENTS_FILE, row_group_size=max(events_rows // 8, 1))
    pacsv.write_csv(_sales(sales_rows, rng), tmp / SALES_FILE)
    write_images(tmp / IMAGES_DIR, images, seed)
    data = WarsData(tmp)
    files = [data.events, data.sales, data.manifest, *sorted(data.images.glob("*.jpg"))]
    params = {"events_rows": events_rows, "sales_rows": sales_rows, "images": images, "seed": seed,
              "fingerprint": _hash_files(files)}
    (tmp / PARAMS_FILE).write_text(json.dumps(params, indent=2))
    shutil.rmtree(root, ignore_errors=True)
    tmp.replace(root)
    return WarsData(root.resolve())


def open_wars(root: str | os.PathLike, events_rows: int | None = None, sales_rows: int | None = None,
              images: int | None = None, seed: int | None = None) -> WarsData:
    """The suite's data in `root`, checked to be complete (and generated with these arguments, if given)."""
    data = WarsData(Path(root).resolve())
    try:
        params = data.params()
    except (OSError, ValueError):
        raise WarsDataError(f"{root}: no Engine Wars data (missing or unreadable {PARAMS_FILE})") from None
    for path in (data.events, data.sales, data.manifest):
        if not path.is_file():
            raise WarsDataError(f"{path}: file not found")
    asked = {"events_rows": events_rows, "sales_rows": sales_rows, "images": images, "seed": seed}
    differ = [k for k, v in asked.items() if v is not None and params.get(k) != v]
    if differ:
        raise WarsDataError(f"{root}: generated with other {', '.join(differ)}")
    return data
