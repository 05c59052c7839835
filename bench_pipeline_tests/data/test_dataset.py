from __future__ import annotations

import shutil

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from bench_pipeline.data.dataset import DatasetError, open_dataset


def _copy(small_data, tmp_path):
    for f in (small_data.posts, small_data.users):
        shutil.copy(f, tmp_path / f.name)
    return tmp_path


def test_lab_file_is_accepted(lab_data):
    schema = pq.read_schema(lab_data.posts)
    assert schema.field("post_id").type == pa.large_string()  # pandas 3 writes large strings
    assert open_dataset(lab_data.root).posts_rows() == 5_000


def test_missing_folder(tmp_path):
    with pytest.raises(DatasetError, match="does not exist"):
        open_dataset(tmp_path / "nope")


def test_missing_users_file(small_data, tmp_path):
    shutil.copy(small_data.posts, tmp_path / "posts.parquet")
    with pytest.raises(DatasetError, match="users.parquet: file not found"):
        open_dataset(tmp_path)


def test_corrupt_file(small_data, tmp_path):
    root = _copy(small_data, tmp_path)
    (root / "posts.parquet").write_bytes(b"PAR1 this is not parquet")
    with pytest.raises(DatasetError, match="not a readable Parquet file"):
        open_dataset(root)


def test_wrong_column_type(small_data, tmp_path):
    root = _copy(small_data, tmp_path)
    posts = pq.read_table(root / "posts.parquet")
    posts = posts.set_column(posts.schema.get_field_index("likes"), "likes", posts["likes"].cast(pa.float64()))
    pq.write_table(posts, root / "posts.parquet")
    with pytest.raises(DatasetError, match="'likes' has type double, expected int64"):
        open_dataset(root)


def test_missing_column(small_data, tmp_path):
    root = _copy(small_data, tmp_path)
    pq.write_table(pq.read_table(root / "posts.parquet").drop_columns(["device"]), root / "posts.parquet")
    with pytest.raises(DatasetError, match="'device' is missing"):
        open_dataset(root)
