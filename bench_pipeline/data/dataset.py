"""The dataset on disk: where its files are, what schema they must have, its fingerprint.

A dataset is a folder holding posts.parquet and users.parquet (docs/contract.md). Any
Parquet file with the posts columns and types is accepted, whichever string
layout its writer chose, so the lab's own file works too.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

POSTS_FILE = "posts.parquet"
USERS_FILE = "users.parquet"

_STRING_TYPES = (pa.string(), pa.large_string(), pa.string_view())


def _is_string(t: pa.DataType) -> bool:
    return t in _STRING_TYPES


def _is_string_list(t: pa.DataType) -> bool:
    return (pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_list_view(t)) and _is_string(
        t.value_type
    )


def _is_ts_us(t: pa.DataType) -> bool:
    return pa.types.is_timestamp(t) and t.unit == "us" and t.tz is None


# column -> (predicate on the Arrow type, the type as docs/contract.md names it)
POSTS_SCHEMA = {
    "post_id": (_is_string, "string"),
    "user_id": (pa.types.is_int64, "int64"),
    "timestamp": (_is_ts_us, "timestamp[us]"),
    "content": (_is_string, "string"),
    "likes": (pa.types.is_int64, "int64"),
    "views": (pa.types.is_int64, "int64"),
    "category": (_is_string, "string"),
    "tags": (_is_string_list, "list<string>"),
    "location": (_is_string, "string"),
    "device": (_is_string, "string"),
    "latency": (pa.types.is_float64, "float64"),
    "error_rate": (pa.types.is_float64, "float64"),
}
USERS_SCHEMA = {
    "user_id": (pa.types.is_int64, "int64"),
    "signup_date": (pa.types.is_date32, "date32"),
    "country": (_is_string, "string"),
    "tier": (_is_string, "string"),
    "followers": (pa.types.is_int64, "int64"),
}


class DatasetError(ValueError):
    """The dataset folder or one of its files is missing, unreadable or of the wrong schema."""


@dataclass(frozen=True)
class Dataset:
    root: Path

    @property
    def posts(self) -> Path:
        return self.root / POSTS_FILE

    @property
    def users(self) -> Path:
        return self.root / USERS_FILE

    def posts_rows(self) -> int:
        return pq.ParquetFile(self.posts).metadata.num_rows

    def fingerprint(self) -> str:
        """A short hash of both files' bytes.

        Hashing 100 MB takes a fraction of a second; the result is cached (see
        `_cached`), so it is computed once per version of the files.
        Regenerating the same bytes gives the same fingerprint.
        """

        def compute() -> str:
            h = hashlib.sha256()
            for path in (self.posts, self.users):
                h.update(path.name.encode())
                with open(path, "rb") as f:
                    for block in iter(lambda: f.read(1 << 22), b""):
                        h.update(block)
            return h.hexdigest()[:16]

        return self._cached("fingerprint", compute)

    def posts_arrow_bytes(self) -> int:
        """The posts table's size in memory as Arrow (read batch by batch, never whole)."""

        def compute() -> int:
            return sum(b.nbytes for b in pq.ParquetFile(self.posts).iter_batches(batch_size=200_000))

        return self._cached("posts_arrow_bytes", compute)

    def _cached(self, name: str, compute):
        """compute(), kept in .reference/NAME.json under the files' size and modification time."""
        stamp = [[p.name, p.stat().st_size, p.stat().st_mtime_ns] for p in (self.posts, self.users)]
        cache = self.root / ".reference" / f"{name}.json"
        try:
            saved = json.loads(cache.read_text())
            if saved["stamp"] == stamp:
                return saved["value"]
        except (OSError, ValueError, KeyError):
            pass
        value = compute()
        try:
            cache.parent.mkdir(exist_ok=True)
            tmp = cache.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps({"stamp": stamp, "value": value}))
            tmp.replace(cache)
        except OSError:
            pass  # a read-only data folder: computed again next time
        return value


def _check_file(path: Path, schema: dict) -> None:
    if not path.is_file():
        raise DatasetError(f"{path}: file not found")
    try:
        arrow_schema = pq.read_schema(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise DatasetError(f"{path}: not a readable Parquet file ({exc})") from None
    for column, (ok, type_name) in schema.items():
        idx = arrow_schema.get_field_index(column)
        if idx < 0:
            raise DatasetError(f"{path}: column {column!r} is missing")
        if not ok(arrow_schema.field(idx).type):
            raise DatasetError(
                f"{path}: column {column!r} has type {arrow_schema.field(idx).type}, expected {type_name}"
            )


def open_dataset(root: str | os.PathLike) -> Dataset:
    """Check that `root` holds a usable dataset and return it, or raise DatasetError."""
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(f"data folder {root} does not exist")
    ds = Dataset(root.resolve())
    _check_file(ds.posts, POSTS_SCHEMA)
    _check_file(ds.users, USERS_SCHEMA)
    for path in (ds.posts, ds.users):
        if pq.ParquetFile(path).metadata.num_rows == 0:
            raise DatasetError(f"{path}: has no rows; there is nothing to measure")
    return ds
