"""Photo-like test images, made here (no outside network): smooth gradients with a few shapes, as JPEG.

Each image's mean pixel value is written to the manifest: a resized image
keeps its mean to within a few levels whichever resampling filter an engine
uses, so the mean tells whether the right image landed in the right row.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

SIZES = [(320, 240), (400, 300), (480, 360), (640, 480), (300, 400)]
JPEG_QUALITY = 90


def _image(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    base = rng.uniform(40, 215, 3).astype(np.float32)
    slope = rng.uniform(-60, 60, (2, 3)).astype(np.float32)
    img = base + (x[..., None] / width - 0.5) * slope[0] + (y[..., None] / height - 0.5) * slope[1]
    for _ in range(3):  # a few soft discs, so images are not just gradients
        cx, cy, r = rng.uniform(0, width), rng.uniform(0, height), rng.uniform(20, min(width, height) / 3)
        mask = np.clip(1 - np.hypot(x - cx, y - cy) / r, 0, 1)[..., None]
        img = img * (1 - mask) + rng.uniform(0, 255, 3).astype(np.float32) * mask
    return np.clip(img, 0, 255).astype(np.uint8)


def write_images(folder: Path, count: int, seed: int) -> Path:
    """Write `count` JPEGs and manifest.csv (image, width, height, mean of the decoded file) into `folder`."""
    from PIL import Image  # PIL: optional (an extra)

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng([seed, 224])
    rows = []
    for i in range(count):
        width, height = SIZES[i % len(SIZES)]
        name = f"img_{i:05d}.jpg"
        Image.fromarray(_image(rng, width, height)).save(folder / name, quality=JPEG_QUALITY)
        with Image.open(folder / name) as decoded:
            mean = float(np.asarray(decoded.convert("RGB"), dtype=np.float64).mean())
        rows.append({"image": name, "width": width, "height": height, "mean": round(mean, 4)})
    manifest = folder / "manifest.csv"
    with open(manifest, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["image", "width", "height", "mean"])
        writer.writeheader()
        writer.writerows(rows)
    return manifest
