"""Synthetic social-media dataset: posts and users (docs/contract.md), vectorised and chunked.

Every column is drawn with NumPy from a generator seeded by (seed, chunk index),
so the same seed gives the same files, and memory stays flat: each chunk is
built, encoded as a row group, and dropped. Chunks are built on every core at
once while one thread encodes them into posts.parquet in order, so the bytes do
not depend on the number of cores. Faker is used only for the pool of 1,000
sentences.
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
import shutil
import tempfile
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from bench_pipeline.data.dataset import POSTS_FILE, USERS_FILE, Dataset, DatasetError, open_dataset

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


# Arrow arrays are made from buffers, never with pa.array(): its first call imports
# pandas (~0.2 s, a quarter of a 1M-row run) to check for pandas types.
def _numeric(values: np.ndarray, type_: pa.DataType) -> pa.Array:
    """A 1-D NumPy array as an Arrow array of `type_` (same width), zero-copy."""
    values = np.ascontiguousarray(values)
    return pa.Array.from_buffers(type_, len(values), [None, pa.py_buffer(values)])


def _strings(texts: list[str]) -> pa.Array:
    encoded = [t.encode() for t in texts]
    offsets = np.zeros(len(encoded) + 1, dtype=np.int32)
    np.cumsum([len(e) for e in encoded], out=offsets[1:])
    return pa.StringArray.from_buffers(len(encoded), pa.py_buffer(offsets), pa.py_buffer(b"".join(encoded)))


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
    return pool.take(_numeric(rng.choice(len(pool), size=n, p=p), pa.int64()))


def sentence_pool(seed: int) -> pa.Array:
    # Only the lorem provider: a full Faker() loads every provider and costs ~0.15 s.
    from faker import Generator
    from faker.providers.lorem.en_US import Provider  # faker: only where it is used

    fake = Generator()
    fake.add_provider(Provider)
    fake.seed_instance(seed)
    return _strings([fake.sentence() for _ in range(SENTENCE_POOL)])


def posts_chunk(
    seed: int, chunk: int, start_row: int, n: int, sentences: pa.Array | Callable[[], pa.Array]
) -> pa.Table:
    """Rows start_row .. start_row+n-1, drawn from a generator seeded by (seed, chunk).

    `sentences` may be a callable giving the pool of SENTENCE_POOL sentences; it is
    called once every number is drawn, so a chunk can be built while the pool is
    still being made.
    """
    rng = np.random.default_rng([seed, chunk])
    # Drawn in this order, always: the order fixes which numbers each column gets.
    n_tags = rng.integers(1, 4, size=n)
    tag_offsets = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(n_tags, out=tag_offsets[1:])
    tag_values = _pick(rng, _strings(TAGS), int(tag_offsets[-1]))
    post_id = _uuid4_strings(rng, n)
    user_id = rng.integers(1, N_USERS + 1, size=n, dtype=np.int64)
    content = rng.choice(SENTENCE_POOL, size=n)  # indices into the pool, looked up at the end
    likes = rng.integers(0, 10_000, size=n, dtype=np.int64)
    views = rng.integers(0, 1_000_000, size=n, dtype=np.int64)
    category = _pick(rng, _strings(CATEGORIES), n)
    location = _pick(rng, _strings(LOCATIONS), n)
    device = _pick(rng, _strings(DEVICES), n)
    latency = rng.uniform(10.0, 500.0, size=n)
    error_rate = rng.beta(1.0, 10.0, size=n)
    start_us = int(START.replace(tzinfo=dt.UTC).timestamp()) * 1_000_000
    ts = start_us + (np.arange(start_row, start_row + n, dtype=np.int64) * 1_000_000)
    pool = sentences() if callable(sentences) else sentences
    if len(pool) != SENTENCE_POOL:
        raise ValueError(f"the sentence pool must hold {SENTENCE_POOL} sentences, not {len(pool)}")
    columns = [
        post_id,
        _numeric(user_id, pa.int64()),
        _numeric(ts, pa.timestamp("us")),
        pool.take(_numeric(content, pa.int64())),
        _numeric(likes, pa.int64()),
        _numeric(views, pa.int64()),
        category,
        pa.ListArray.from_arrays(_numeric(tag_offsets, pa.int32()), tag_values),
        location,
        device,
        _numeric(latency, pa.float64()),
        _numeric(error_rate, pa.float64()),
    ]
    return pa.Table.from_arrays(columns, schema=POSTS_ARROW_SCHEMA)


def users_table(seed: int) -> pa.Table:
    rng = np.random.default_rng([seed, 1_000_000_007])
    n = N_USERS
    first = dt.date(2015, 1, 1).toordinal()
    last = dt.date(2022, 12, 31).toordinal()
    epoch = dt.date(1970, 1, 1).toordinal()
    days = rng.integers(first - epoch, last - epoch + 1, size=n).astype(np.int32)
    return pa.table(
        {
            "user_id": _numeric(np.arange(1, n + 1, dtype=np.int64), pa.int64()),
            "signup_date": _numeric(days, pa.date32()),
            "country": _pick(rng, _strings(LOCATIONS), n),
            "tier": _pick(rng, _strings(TIERS), n, p=TIER_P),
            "followers": _numeric(np.floor(np.exp(rng.normal(6.0, 1.5, size=n))).astype(np.int64), pa.int64()),
        }
    )


_MOST_IN_FLIGHT = 8


def generate(
    rows: int, out: str | os.PathLike, seed: int = 42, chunk_rows: int = CHUNK_ROWS, workers: int | None = None
) -> Dataset:
    """Write posts.parquet and users.parquet into `out`; return the Dataset.

    `workers` threads (default: one per core) build chunks, at most `workers` + 1
    in memory at once, while this thread encodes them into posts.parquet in chunk
    order, so the bytes do not depend on `workers` (chunks are seeded by (seed,
    chunk index)). Files are written into a temporary folder beside `out` and
    moved in at the end, so a failure or interruption never leaves a
    half-written dataset.
    """
    if not isinstance(rows, int) or rows <= 0:
        raise ValueError(f"--rows must be a positive whole number, got {rows!r}")
    if workers is None:
        workers = os.cpu_count() or 1
    if not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be a positive whole number, got {workers!r}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".generating-", dir=out))
    try:
        starts = range(0, rows, chunk_rows)
        # NumPy, Arrow and the Parquet writer release the GIL: builders and the encoder share the cores.
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="datagen") as pool:
            # First in the queue: the chunks draw their numbers meanwhile and look sentences up at the end.
            sentences = pool.submit(sentence_pool, seed)

            def build(chunk: int) -> pa.Table:
                n = min(chunk_rows, rows - starts[chunk])
                return posts_chunk(seed, chunk, starts[chunk], n, sentences.result)

            chunks = iter(range(len(starts)))
            # At most this many chunks in memory (about 50 MB each), however many cores build them.
            ahead = deque(pool.submit(build, chunk)
                          for chunk in itertools.islice(chunks, min(workers, _MOST_IN_FLIGHT) + 1))
            users = pool.submit(lambda: pq.write_table(users_table(seed), tmp / USERS_FILE, compression="snappy"))
            try:
                with pq.ParquetWriter(tmp / POSTS_FILE, POSTS_ARROW_SCHEMA, **POSTS_WRITE_OPTIONS) as writer:
                    while ahead:
                        table = ahead.popleft().result()
                        if (chunk := next(chunks, None)) is not None:
                            ahead.append(pool.submit(build, chunk))
                        writer.write_table(table, row_group_size=table.num_rows)
                        del table
                users.result()
            finally:
                for future in ahead:  # after an error, build nothing more
                    future.cancel()
        for name in (POSTS_FILE, USERS_FILE):
            os.replace(tmp / name, out / name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return Dataset(out.resolve())


PARTITIONED_DIR = "posts_by_category"


def partition_by_category(spark, data: Dataset, target: str | None = None) -> str:
    """Write posts again, Hive-style partitioned by category (the lab's tip for clusters), with Spark's
    `partitionBy`: the Spark session is the caller's (the Dagster layer's PySparkResource), so the same code
    writes to a cluster's data URI (`target`, e.g. hdfs://.../posts_partitioned) as to the local folder.

    Locally it is written beside the files and renamed into place, so a reader never sees half of it; Spark's
    checksum and marker files are left out. Returns where it was written."""
    frame = spark.read.parquet(data.posts.as_uri())
    if target is not None:
        frame.write.mode("overwrite").partitionBy("category").parquet(target)
        return target
    out = data.root / PARTITIONED_DIR
    tmp = Path(tempfile.mkdtemp(prefix=".partitioning-", dir=data.root))
    try:
        frame.write.mode("overwrite").partitionBy("category").parquet((tmp / "out").as_uri())
        for junk in [*(tmp / "out").rglob(".*.crc"), *(tmp / "out").glob("_SUCCESS")]:
            junk.unlink()
        if out.exists():
            shutil.rmtree(out)
        os.replace(tmp / "out", out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return str(out)


def ensure_dataset(path: str | os.PathLike, rows: int, seed: int) -> Dataset:
    """The dataset in `path`, generated (under the measurement lock: the CPU it takes would slow a measurement)
    when it is not there."""
    from bench_pipeline.harness.machine_lock import measurement_lock  # keeps psutil off the import path

    try:
        return open_dataset(path)
    except DatasetError:
        with measurement_lock(f"generating {rows:,} rows"):
            return generate(rows, path, seed=seed)
