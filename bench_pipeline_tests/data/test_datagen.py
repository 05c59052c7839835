from __future__ import annotations

import datetime as dt

import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from bench_pipeline.data import datagen
from bench_pipeline.data.datagen import (
    CATEGORIES,
    DEVICES,
    LOCATIONS,
    N_USERS,
    POSTS_ARROW_SCHEMA,
    POSTS_WRITE_OPTIONS,
    TAGS,
    generate,
    posts_chunk,
    sentence_pool,
)
from bench_pipeline.data.dataset import open_dataset


def test_posts_follow_the_spec(small_data):
    posts = pq.read_table(small_data.posts)
    assert posts.num_rows == 20_000
    assert [f.name for f in posts.schema] == [
        "post_id", "user_id", "timestamp", "content", "likes", "views", "category", "tags",
        "location", "device", "latency", "error_rate",
    ]
    assert str(posts.schema.field("timestamp").type) == "timestamp[us]"
    assert str(posts.schema.field("tags").type) == "list<element: string>"
    ids = posts["post_id"].to_pylist()
    assert len(set(ids)) == len(ids) and all(len(i) == 36 and i[14] == "4" for i in ids)
    ts = posts["timestamp"].to_pylist()
    assert ts[0] == dt.datetime(2023, 1, 1) and ts[-1] == dt.datetime(2023, 1, 1) + dt.timedelta(seconds=19_999)
    assert all(b - a == dt.timedelta(seconds=1) for a, b in zip(ts, ts[1:], strict=False))
    assert pc.min(posts["user_id"]).as_py() >= 1 and pc.max(posts["user_id"]).as_py() <= N_USERS
    assert 0 <= pc.min(posts["likes"]).as_py() and pc.max(posts["likes"]).as_py() <= 9_999
    assert pc.max(posts["views"]).as_py() <= 999_999
    assert set(posts["category"].to_pylist()) == set(CATEGORIES)
    assert set(posts["location"].to_pylist()) == set(LOCATIONS)
    assert set(posts["device"].to_pylist()) == set(DEVICES)
    lengths = pc.list_value_length(posts["tags"]).to_pylist()
    assert set(lengths) == {1, 2, 3}
    assert set(pc.list_flatten(posts["tags"]).to_pylist()) == set(TAGS)
    assert 10 <= pc.min(posts["latency"]).as_py() and pc.max(posts["latency"]).as_py() < 500
    assert 0.07 < pc.mean(posts["error_rate"]).as_py() < 0.11  # Beta(1, 10) has mean 1/11
    assert len(set(posts["content"].to_pylist())) <= 1_000


def test_users_follow_the_spec(small_data):
    users = pq.read_table(small_data.users)
    assert users["user_id"].to_pylist() == list(range(1, N_USERS + 1))
    assert str(users.schema.field("signup_date").type) == "date32[day]"
    dates = users["signup_date"]
    assert pc.min(dates).as_py() >= dt.date(2015, 1, 1) and pc.max(dates).as_py() <= dt.date(2022, 12, 31)
    tiers = users["tier"].value_counts().to_pylist()
    share = {t["values"]: t["counts"] / N_USERS for t in tiers}
    assert share["free"] == pytest.approx(0.7, abs=0.01) and share["business"] == pytest.approx(0.1, abs=0.01)
    assert pc.min(users["followers"]).as_py() >= 0


def test_same_seed_same_bytes_other_seed_other_data(tmp_path):
    a = generate(3_000, tmp_path / "a", seed=5, chunk_rows=1_000)
    b = generate(3_000, tmp_path / "b", seed=5, chunk_rows=1_000)
    c = generate(3_000, tmp_path / "c", seed=6, chunk_rows=1_000)
    assert a.posts.read_bytes() == b.posts.read_bytes()
    assert a.users.read_bytes() == b.users.read_bytes()
    assert a.fingerprint() == b.fingerprint() != c.fingerprint()
    assert pq.read_table(a.posts)["post_id"] != pq.read_table(c.posts)["post_id"]


def test_rows_not_a_multiple_of_the_chunk(tmp_path):
    ds = generate(2_345, tmp_path, seed=1, chunk_rows=1_000)
    meta = pq.ParquetFile(ds.posts).metadata
    assert meta.num_rows == 2_345 and meta.num_row_groups == 3
    open_dataset(tmp_path)  # passes its own schema check
    assert [p.name for p in tmp_path.iterdir()] and not list(tmp_path.glob(".generating-*"))


def test_same_bytes_whatever_the_number_of_workers(tmp_path):
    one = generate(5_500, tmp_path / "one", seed=9, chunk_rows=1_000, workers=1)
    three = generate(5_500, tmp_path / "three", seed=9, chunk_rows=1_000, workers=3)
    assert one.posts.read_bytes() == three.posts.read_bytes()
    assert one.users.read_bytes() == three.users.read_bytes()
    assert one.fingerprint() == three.fingerprint()
    assert pq.ParquetFile(three.posts).metadata.num_row_groups == 6


def test_posts_are_what_one_parquet_writer_writes_chunk_by_chunk(tmp_path):
    """Chunks built on several threads give the bytes of one ParquetWriter writing the chunks in turn."""
    rows, chunk_rows, seed = 4_500, 1_000, 11
    ds = generate(rows, tmp_path / "gen", seed=seed, chunk_rows=chunk_rows, workers=2)
    sentences = sentence_pool(seed)
    reference = tmp_path / "reference.parquet"
    with pq.ParquetWriter(reference, POSTS_ARROW_SCHEMA, **POSTS_WRITE_OPTIONS) as writer:
        for chunk, start in enumerate(range(0, rows, chunk_rows)):
            table = posts_chunk(seed, chunk, start, min(chunk_rows, rows - start), sentences)
            writer.write_table(table, row_group_size=table.num_rows)
    assert ds.posts.read_bytes() == reference.read_bytes()
    assert pq.read_table(ds.posts).equals(pq.read_table(reference))


def test_a_failing_chunk_leaves_nothing_behind(tmp_path, monkeypatch):
    real = datagen.posts_chunk

    def failing(seed, chunk, *args):
        if chunk == 3:
            raise RuntimeError("chunk 3 failed")
        return real(seed, chunk, *args)

    monkeypatch.setattr(datagen, "posts_chunk", failing)
    with pytest.raises(RuntimeError, match="chunk 3 failed"):
        generate(9_000, tmp_path, seed=1, chunk_rows=1_000, workers=2)
    assert list(tmp_path.iterdir()) == []


def test_workers_must_be_positive(tmp_path):
    with pytest.raises(ValueError, match="workers"):
        generate(10, tmp_path, workers=0)


@pytest.mark.parametrize("rows", [0, -3])
def test_rows_must_be_positive(tmp_path, rows):
    with pytest.raises(ValueError, match="--rows"):
        generate(rows, tmp_path / "out")
    assert not (tmp_path / "out").exists()
