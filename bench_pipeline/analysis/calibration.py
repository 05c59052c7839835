"""The machine's measured noise between processes and the rule's error rates on it: one file per machine.

`bench-pipeline calibrate` measures them (`calibrate.py`) and writes one file per
host and CPU model in the user's config folder (`~/.config/bench_pipeline/calibration/`
by the platform's convention, or `calibration_dir`, `BENCH_CALIBRATION_DIR`), so
every state folder on the machine finds it. A state folder's own
`$BENCH_HOME/calibration.json` (the earlier place: one record per machine), if it
holds this machine, still wins. The record: the noise (a log-scale standard
deviation and its degrees of freedom), the A/A false-positive rate, the power on
known differences and the smallest difference the default budget resolves. The
verdict, the rounds and the history read the noise as their prior (stats.Noise);
without a record for this machine, or with a file that cannot be read, they use
stats.DEFAULT and the command says so in one line.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
from pathlib import Path

from bench_pipeline.analysis import stats
from bench_pipeline.report import fmt

STATE_FILE = "calibration.json"  # in a state folder: {"machines": {machine id: record}}
ENGINE = "duckdb"  # what calibrate measures: its noise stands for the machine's
PROCESSES = 20  # calibrate's default processes per query
JOBS = 8  # its queries: the grid's four and four known amounts of work


def machine_id() -> str:
    from bench_pipeline.harness import provenance  # keeps psutil off the import path

    m = provenance.machine()
    return f"{m['hostname']}|{m['cpu_model']}"


def machine_dir(home: Path) -> Path:
    """Where this machine's calibration file lives: the setting, else the user's config folder."""
    # keeps pyarrow, pydantic, pydantic_settings off the import path
    from bench_pipeline.config.settings import Settings

    chosen = Settings.from_env(home).calibration_dir
    if chosen is not None:
        return Path(chosen)
    import platformdirs  # platformdirs: only where it is used

    return Path(platformdirs.user_config_dir("bench_pipeline")) / "calibration"


def machine_file(home: Path) -> Path:
    """One file per host and CPU model: 'myhost-3f2a9c41d0.json'."""
    host, cpu = machine_id().split("|", 1)
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", host) or "host"
    return machine_dir(home) / f"{safe}-{hashlib.sha256(cpu.encode()).hexdigest()[:10]}.json"


def state_file(home: Path) -> Path:
    return Path(home) / STATE_FILE


def _load(path: Path) -> dict | None:
    """The file's JSON object; None when there is no file; ValueError/OSError when it cannot be used."""
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    if not isinstance(data, dict):
        raise ValueError(f"holds {type(data).__name__}, not an object")
    return data


def _unusable(path: Path, exc: Exception) -> str:
    return f"calibration file {path} cannot be used ({exc.__class__.__name__}: {exc}); using the default noise"


def record(home: Path) -> tuple[dict | None, str | None]:
    """This machine's calibration record, or None; and a one-line note when a file could not be used. The state
    folder's record wins over the machine's file."""
    notes = []
    for path, pick in ((state_file(home), lambda d: (d.get("machines") or {}).get(machine_id())),
                       (machine_file(home), lambda d: d if d.get("machine") == machine_id() else None)):
        try:
            data = _load(path)
            if data is None:
                continue
            if "machines" in data and not isinstance(data["machines"], dict):
                raise ValueError("'machines' is not an object")
            rec = pick(data)
        except (OSError, ValueError, TypeError) as exc:
            notes.append(_unusable(path, exc))
            continue
        if rec is None:
            continue
        if _valid(rec):
            return rec, None
        notes.append(f"calibration file {path}: this machine's record is not valid; using the default noise")
    return None, notes[0] if notes else None


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


def not_calibrated(home: Path, duckdb_process_s: float | None) -> str | None:
    """The one line a command says when this machine has no calibration (None when it has one): how long
    `bench-pipeline calibrate` takes here, from the seconds a process of ENGINE took here."""
    rec, note = record(home)
    if rec is not None:
        return None
    if note:
        return note
    how_long = (f", in about {_minutes(PROCESSES * JOBS * duckdb_process_s)} here ({PROCESSES * JOBS} {ENGINE} "
                f"processes of about {duckdb_process_s:.1f} s)" if duckdb_process_s else
                f" ({PROCESSES * JOBS} {ENGINE} processes)")
    return (f"this machine is not calibrated: the rule uses the default noise between processes, "
            f"{stats.DEFAULT_NOISE:.2f}; `bench-pipeline calibrate` measures it once for every state folder on this "
            f"machine{how_long}")


def _minutes(seconds: float) -> str:
    return fmt.minutes(seconds)


def save(home: Path, rec: dict) -> Path:
    """Write this machine's file (and replace its record in the state folder's file, where that file holds
    one, since that one wins). A corrupt file is replaced: its content could not be used anyway."""
    rec = {**rec, "machine": machine_id(), "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
    path = machine_file(home)
    _write(path, rec)
    legacy = state_file(home)
    try:
        data = _load(legacy)
    except (OSError, ValueError):
        data = None
    if data is not None and isinstance(data.get("machines"), dict) and machine_id() in data["machines"]:
        data["machines"][machine_id()] = rec
        _write(legacy, data)
    return path


def _write(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, indent=2))
    tmp.replace(path)
