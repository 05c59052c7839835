"""The dataset on disk: where its files are, what schema they must have, its fingerprint.

A dataset is a folder holding posts.parquet and users.parquet (SPEC §1). Any
Parquet file with the posts columns and types is accepted, whichever string
layout its writer chose, so the lab's own file works too.
"""

from __future__ import annotations

import hashlib
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


# column -> (predicate on the Arrow type, the type as the SPEC names it)
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
        """A short hash of both files' size and Parquet footer.

        The footer holds row counts and per-column statistics, so it changes with
        the content, while reading it costs microseconds even for 20M rows.
        """
        h = hashlib.sha256()
        for path in (self.posts, self.users):
            size = path.stat().st_size
            with open(path, "rb") as f:
                f.seek(max(0, size - 8))
                tail = f.read(8)
                footer_len = int.from_bytes(tail[:4], "little")
                f.seek(max(0, size - 8 - footer_len))
                h.update(path.name.encode())
                h.update(size.to_bytes(8, "little"))
                h.update(f.read(footer_len + 8))
        return h.hexdigest()[:16]


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
    return ds
