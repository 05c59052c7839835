"""Benchmark of the dataset generator against the lab's, each in a fresh process.

`bench-pipeline bench-datagen` runs this: every generator call happens in its own
Python process whose peak RSS is sampled from outside (the same sampler the
cells use); the time is the generator call itself, measured inside the child,
so interpreter start-up counts for neither side.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass

from bench_pipeline.harness.sampler import TreeSampler


@dataclass
class GenMeasurement:
    generator: str  # "bench_pipeline" or "lab"
    rows: int
    seconds: float
    process_seconds: float
    peak_rss_bytes: int


def _child(generator: str, rows: int, out: str) -> None:
    if generator == "lab":
        from bench_pipeline.data.labgen import generate_lab_posts  # keeps numpy, pandas, pyarrow off the import path

        fn = lambda: generate_lab_posts(rows, f"{out}/posts.parquet", seed=42)  # noqa: E731
    else:
        from bench_pipeline.data.datagen import generate  # keeps numpy, pyarrow off the import path

        fn = lambda: generate(rows, out, seed=42)  # noqa: E731
    t0 = time.perf_counter()
    fn()
    print(json.dumps({"seconds": time.perf_counter() - t0}))


def measure(generator: str, rows: int) -> GenMeasurement:
    with tempfile.TemporaryDirectory(prefix="bench-datagen-") as out:
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-m", "bench_pipeline.data.datagen_bench", generator, str(rows), out],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        with TreeSampler(proc.pid, interval=0.01) as sampler:
            stdout, stderr = proc.communicate()
        elapsed = time.perf_counter() - t0
        if proc.returncode != 0:
            raise RuntimeError(f"{generator} generator failed: {stderr.strip()[-500:]}")
        seconds = json.loads(stdout.strip().splitlines()[-1])["seconds"]
        return GenMeasurement(generator, rows, seconds, elapsed, sampler.peak)


if __name__ == "__main__":
    _child(sys.argv[1], int(sys.argv[2]), sys.argv[3])
