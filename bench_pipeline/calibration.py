"""The machine's measured noise between processes and the rule's error rates on it, stored per machine.

`bench-pipeline calibrate` measures them (suites-free: `calibrate.py`) and writes
`$BENCH_HOME/calibration.json`, one record per machine (hostname and CPU model):
the noise (a log-scale standard deviation and its degrees of freedom), the A/A
false-positive rate, the power on known differences and the smallest difference
the default budget resolves. The verdict, the rounds and the history read the
noise as their prior (stats.Noise); without a record for this machine, or with a
file that cannot be read, they use stats.DEFAULT and say so in one line.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

from bench_pipeline import stats

FILE = "calibration.json"


def machine_id() -> str:
    from bench_pipeline.harness import provenance

    m = provenance.machine()
    return f"{m['hostname']}|{m['cpu_model']}"


def path(home: Path) -> Path:
    return Path(home) / FILE


def _read(home: Path) -> tuple[dict, str | None]:
    """(the file's machines, a one-line note when it could not be used)."""
    p = path(home)
    try:
        data = json.loads(p.read_text())
        machines = data["machines"]
        if not isinstance(machines, dict):
            raise ValueError("'machines' is not an object")
        return machines, None
    except FileNotFoundError:
        return {}, None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return {}, f"calibration file {p} cannot be used ({exc.__class__.__name__}: {exc}); using the default noise"


def record(home: Path) -> tuple[dict | None, str | None]:
    """This machine's calibration record, or None; and a note when the file could not be used."""
    machines, note = _read(home)
    rec = machines.get(machine_id())
    if rec is not None and not _valid(rec):
        return None, f"calibration file {path(home)}: this machine's record is not valid; using the default noise"
    return rec, note


def _valid(rec) -> bool:
    try:
        return float(rec["noise"]) > 0 and float(rec["noise_df"]) >= 0
    except (TypeError, KeyError, ValueError):
        return False


def prior(home: Path) -> tuple[stats.Noise, str | None]:
    """The noise prior for this machine (its calibration, else stats.DEFAULT) and a note for the user, if any."""
    rec, note = record(home)
    if rec is None:
        return stats.DEFAULT, note
    when = str(rec.get("measured_at", ""))[:10]
    return stats.Noise(float(rec["noise"]), float(rec["noise_df"]), f"calibrated on this machine {when}"), note


def resolves(home: Path) -> str | None:
    """'7.5 % (calibrated 2026-12-05)': the smallest difference the default budget resolves, as measured here."""
    rec, _ = record(home)
    r = (rec or {}).get("resolves")
    if not isinstance(r, int | float):
        return None
    return f"{r - 1:.1%} (bench-pipeline calibrate, {str(rec.get('measured_at', ''))[:10]})"


def save(home: Path, rec: dict) -> Path:
    """Add or replace this machine's record (a corrupt file is replaced: its content could not be used anyway)."""
    machines, _ = _read(home)
    machines[machine_id()] = {**rec, "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
    p = path(home)
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps({"machines": machines}, indent=2))
    tmp.replace(p)
    return p
