"""How the project writes numbers, sizes and missing values, and tables of rows (markdown, rich, HTML).

One place, so the terminal, the Dagster UI's metadata and the report say the same
thing the same way. A table's columns are (key, header, spec) triples, made from
the one vocabulary of fields (fields.columns): `spec` is a format spec for
`format()` ("" for text), or "MiB" for a byte count shown in MiB. A missing value
(None) is always MISSING, never 0.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence

MiB = 2**20
GiB = 2**30
MISSING = "-"

Column = tuple[str, str, str]  # (row key, header, spec)


def value(v: object, spec: str = "") -> str:
    """One value as text: MISSING for None, a byte count in MiB for spec "MiB", else format(v, spec)."""
    if v is None:
        return MISSING
    if spec == "MiB":
        return f"{v / MiB:,.0f}"
    return format(v, spec) if spec else str(v)


def size(n: float) -> str:
    """A byte count in the largest binary unit under 1024 of it: '1.5 GiB', '300 bytes'."""
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024:
            return f"{n:,.0f} {unit}" if unit == "bytes" else f"{n:,.1f} {unit}"
        n /= 1024
    return f"{n:,.1f} PiB"


def minutes(seconds: float) -> str:
    """A duration still to spend, in whole minutes: 'under a minute', '1 minute', '52 minutes'."""
    m = round(seconds / 60)
    return "under a minute" if m < 1 else "1 minute" if m == 1 else f"{m:,} minutes"


def gib(n: float) -> str:
    return f"{n / GiB:.2f} GiB"


def mark(v: object) -> str:
    """yes / no / MISSING for a boolean or None; anything else as its text."""
    return {True: "yes", False: "no"}.get(v, MISSING) if isinstance(v, bool | None) else str(v)


def cells(row: dict, columns: Sequence[Column]) -> list[str]:
    return [value(row.get(key), spec) for key, _, spec in columns]


def markdown(rows: Iterable[dict], columns: Sequence[Column]) -> str:
    """A markdown table (the Dagster UI's metadata)."""
    lines = ["| " + " | ".join(h for _, h, _ in columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cells(r, columns)) + " |" for r in rows]
    return "\n".join(lines)


def print_rich(rows: Iterable[dict], columns: Sequence[Column], title: str, caption: str | None = None,
               width: int = 180) -> None:
    """A rich table on stdout: numbers right-aligned, text left (full width on a terminal)."""
    from rich.console import Console  # rich: only where it is used
    from rich.table import Table  # rich: only where it is used

    table = Table(title=title, caption=caption)
    for _, header, spec in columns:
        table.add_column(header, justify="right" if spec else "left")
    for r in rows:
        table.add_row(*cells(r, columns))
    Console(width=None if sys.stdout.isatty() else width).print(table)
