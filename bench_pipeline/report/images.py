"""A PNG as a data URI: the report page and the Dagster UI show figures inline, neither serves files."""

from __future__ import annotations

import base64
from pathlib import Path


def data_uri(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(Path(path).read_bytes()).decode()
