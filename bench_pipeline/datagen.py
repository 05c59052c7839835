"""Synthetic social-media dataset: posts and users (SPEC §1), vectorised and chunked.

Every column is drawn with NumPy from a generator seeded by (seed, chunk index),
so the same seed gives the same files, and memory stays flat: one chunk is built,
written as a row group, and dropped. Faker is used only
for the pool of 1,000 sentences.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from bench_pipeline.dataset import POSTS_FILE, USERS_FILE, Dataset

CATEGORIES = ["Tech", "Health", "Travel", "Food", "Fashion", "Politics", "Sports"]
TAGS = ["#viral", "#new", "#trending", "#hot", "#update"]
LOCATIONS = ["USA", "UK", "DE", "PL", "FR", "JP", "BR"]
DEVICES = ["Mobile", "Desktop", "Tablet"]
TIERS = ["free", "premium", "business"]
TIER_P = [0.7, 0.2, 0.1]
N_USERS = 99_999
SENTENCE_POOL = 1_000
CHUNK_ROWS = 200_000
START = dt.datetime(2023, 1, 1)

POSTS_ARROW_SCHEMA = pa.schema(
    [
        ("post_id", pa.string()),
        ("user_id", pa.int64()),
        ("timestamp", pa.timestamp("us")),
        ("content", pa.string()),
        ("likes", pa.int64()),
        ("views", pa.int64()),
        ("category", pa.string()),
        ("tags", pa.list_(pa.string())),
        ("location", pa.string()),
        ("device", pa.string()),
        ("latency", pa.float64()),
        ("error_rate", pa.float64()),
    ]
)

# Dictionary pages only where values repeat (pools and small ranges); random
# high-cardinality columns and UUIDs are stored plain and uncompressed, where
# compression would spend time for almost no gain.
POSTS_WRITE_OPTIONS = dict(
    use_dictionary=["content", "category", "tags", "location", "device"],
    compression={c: ("snappy" if c in ("timestamp", "likes", "tags") else "none") for c in POSTS_ARROW_SCHEMA.names},
)

# Byte value -> its two hex digits as one little-endian uint16, for a single-lookup encode.
_HEX_PAIRS = np.array([ord(f"{b:02x}"[0]) | ord(f"{b:02x}"[1]) << 8 for b in range(256)], dtype=np.uint16)


def _uuid4_strings(rng: np.random.Generator, n: int) -> pa.Array:
    """n random UUID4 texts built as one byte buffer, no Python object per row."""
    raw = rng.integers(0, 256, size=(n, 16), dtype=np.uint8)
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40  # version 4
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80  # RFC 4122 variant
    hexed = _HEX_PAIRS[raw].view(np.uint8)  # shape (n, 32)
    text = np.full((n, 36), ord("-"), dtype=np.uint8)
    for src, dst, width in ((0, 0, 8), (8, 9, 4), (12, 14, 4), (16, 19, 4), (20, 24, 12)):
        text[:, dst : dst + width] = hexed[:, src : src + width]
    offsets = np.arange(0, 36 * (n + 1), 36, dtype=np.int32)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(text))


def _pick(rng: np.random.Generator, pool: pa.Array, n: int, p=None) -> pa.Array:
    return pool.take(pa.array(rng.choice(len(pool), size=n, p=p)))


def sentence_pool(seed: int) -> pa.Array:
    # Only the lorem provider: a full Faker() loads every provider and costs ~0.15 s.
    from faker import Generator
    from faker.providers.lorem.en_US import Provider

    fake = Generator()
    fake.add_provider(Provider)
    fake.seed_instance(seed)
    return pa.array([fake.sentence() for _ in range(SENTENCE_POOL)], pa.string())


def posts_chunk(seed: int, chunk: int, start_row: int, n: int, sentences: pa.Array) -> pa.Table:
    rng = np.random.default_rng([seed, chunk])
    n_tags = rng.integers(1, 4, size=n)
    tag_offsets = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(n_tags, out=tag_offsets[1:])
    tag_values = _pick(rng, pa.array(TAGS), int(tag_offsets[-1]))
    start_us = int(START.replace(tzinfo=dt.UTC).timestamp()) * 1_000_000
    ts = start_us + (np.arange(start_row, start_row + n, dtype=np.int64) * 1_000_000)
    columns = {
        "post_id": _uuid4_strings(rng, n),
        "user_id": pa.array(rng.integers(1, N_USERS + 1, size=n, dtype=np.int64)),
        "timestamp": pa.array(ts, pa.timestamp("us")),
        "content": _pick(rng, sentences, n),
        "likes": pa.array(rng.integers(0, 10_000, size=n, dtype=np.int64)),
        "views": pa.array(rng.integers(0, 1_000_000, size=n, dtype=np.int64)),
        "category": _pick(rng, pa.array(CATEGORIES), n),
        "tags": pa.ListArray.from_arrays(pa.array(tag_offsets), tag_values),
        "location": _pick(rng, pa.array(LOCATIONS), n),
        "device": _pick(rng, pa.array(DEVICES), n),
        "latency": pa.array(rng.uniform(10.0, 500.0, size=n)),
        "error_rate": pa.array(rng.beta(1.0, 10.0, size=n)),
    }
    return pa.table(columns, schema=POSTS_ARROW_SCHEMA)


def users_table(seed: int) -> pa.Table:
    rng = np.random.default_rng([seed, 1_000_000_007])
    n = N_USERS
    first = dt.date(2015, 1, 1).toordinal()
    last = dt.date(2022, 12, 31).toordinal()
    epoch = dt.date(1970, 1, 1).toordinal()
    days = rng.integers(first - epoch, last - epoch + 1, size=n).astype(np.int32)
    return pa.table(
        {
            "user_id": pa.array(np.arange(1, n + 1, dtype=np.int64)),
            "signup_date": pa.array(days, pa.date32()),
            "country": _pick(rng, pa.array(LOCATIONS), n),
            "tier": _pick(rng, pa.array(TIERS), n, p=TIER_P),
            "followers": pa.array(np.floor(np.exp(rng.normal(6.0, 1.5, size=n))).astype(np.int64)),
        }
    )


def generate(rows: int, out: str | os.PathLike, seed: int = 42, chunk_rows: int = CHUNK_ROWS) -> Dataset:
    """Write posts.parquet and users.parquet into `out`; return the Dataset.

    Files are written into a temporary folder beside `out` and moved in at the
    end, so a failure or interruption never leaves a half-written dataset.
    """
    if not isinstance(rows, int) or rows <= 0:
        raise ValueError(f"--rows must be a positive whole number, got {rows!r}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".generating-", dir=out))
    try:
        sentences = sentence_pool(seed)
        starts = range(0, rows, chunk_rows)

        def build(chunk: int) -> pa.Table:
            return posts_chunk(seed, chunk, starts[chunk], min(chunk_rows, rows - starts[chunk]), sentences)

        # Build chunk i+1 on a second thread while chunk i is encoded: both NumPy and
        # the Parquet writer release the GIL, so the two cores overlap.
        with (
            pq.ParquetWriter(tmp / POSTS_FILE, POSTS_ARROW_SCHEMA, **POSTS_WRITE_OPTIONS) as writer,
            ThreadPoolExecutor(max_workers=1) as pool,
        ):
            pending = pool.submit(build, 0)
            for chunk in range(len(starts)):
                table = pending.result()
                if chunk + 1 < len(starts):
                    pending = pool.submit(build, chunk + 1)
                writer.write_table(table, row_group_size=table.num_rows)
                del table
        pq.write_table(users_table(seed), tmp / USERS_FILE, compression="snappy")
        for name in (POSTS_FILE, USERS_FILE):
            os.replace(tmp / name, out / name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return Dataset(out.resolve())


PARTITIONED_DIR = "posts_by_category"


def partition_by_category(data: Dataset) -> Path:
    """Write posts again as a Hive-style folder partitioned by category (the lab's tip for clusters).

    Streams record batches, so memory stays flat; written beside the files and
    renamed into place, so a reader never sees half of it. Returns the folder.
    """
    import pyarrow.dataset as pads

    out = data.root / PARTITIONED_DIR
    tmp = Path(tempfile.mkdtemp(prefix=".partitioning-", dir=data.root))
    try:
        pads.write_dataset(
            pads.dataset(data.posts, format="parquet"), tmp, format="parquet",
            partitioning=pads.partitioning(pa.schema([("category", pa.string())]), flavor="hive"),
            existing_data_behavior="overwrite_or_ignore", max_rows_per_group=CHUNK_ROWS,
        )
        if out.exists():
            shutil.rmtree(out)
        os.replace(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out
