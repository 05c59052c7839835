"""A month of nights in an hour: the real dagster-daemon fires the nightly schedules every minute on a fresh
state folder with small data, while the nights change what a real month changes and faults arrive at random.

    python -m bench_pipeline_tests.soak --nights 60 [--seed S] [--json]

A benchmark command, like `calibrate`, not a test: it takes about a minute and a half a night. Time is
compressed by BENCH_NIGHTLY_CRON (every minute), which only the soak sets; the daemon itself evaluates the
schedules' ticks, launches the runs and monitors them, as it does for a user. The daemon and its runs import the
package from a copy made for the soak, so that a night can change an engine's code (a line added to its module)
or inject a fault in it (an engine that hangs, a worker that dies after "ready") without touching the checkout.

Before the first night the state folder is written by `--earlier` (default: none; give a checkout of an earlier
release to check the upgrade in place). Each night, from the store, the instance and the process table:

- hangs: a run STARTED with no new event for STALL_S, or runs QUEUED while none has started for STALL_S, or
  a run in progress at the night's end;
- lost: a cell the night should have measured that is neither measured nor named as failed;
- twice: a cell measured by two cell runs in one night, or measured while it was fresh;
- left behind: an engine worker, JVM or scratch folder of an ended run;
- growth: the store, the Dagster instance's storage and logs, the daemon's memory and its code servers'.

Faults (seeded, on about one night in three; --fault-rate): kill -9 of the run's process mid-cell, kill -9 of the
daemon (restarted), a full disk (BENCH_HOME on a tmpfs made for the soak, filled), a corrupt store, an engine that
hangs past its timeout, a worker that dies after "ready", and the machine busy with other work.

A night is one tick of each schedule: the soak stops them once they ticked and starts them again for the next night
(the every-minute cron would otherwise tick again within a long night and retry at once a cell that failed).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import psutil

PACKAGE = Path(__file__).resolve().parents[1] / "bench_pipeline"
FAULTS = ("kill_step", "kill_daemon", "full_disk", "corrupt_store", "hang", "die_after_ready", "busy")
CHANGES = ("engine_code", "setting", "dataset_size")
NIGHT_DEADLINE_S = 900  # the longest a night waits for its runs (a hanging engine costs TIMEOUT_S a query)
STALL_S = 180  # a started run with no new event for this long has hung
FULL_LEFT_MIB = 8  # what the full-disk fault leaves free on the state folder's disk
TIMEOUT_S = 10  # a query's timeout in the soak (the hanging engine's fault ends there)
QUERY_BUDGETS_S = (1.0, 1.5)  # the soak's query budget, and the one a night's "setting" change switches to


@dataclass
class Night:
    number: int
    change: str | None
    fault: str | None
    expected: list[str] = field(default_factory=list)  # the cells stale before the night
    measured: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # cell -> its run's failure, in one line
    lost: list[str] = field(default_factory=list)
    twice: list[str] = field(default_factory=list)
    hung: list[str] = field(default_factory=list)  # runs stalled (no event for STALL_S) or stuck in the queue
    left_processes: list[str] = field(default_factory=list)
    left_folders: list[str] = field(default_factory=list)
    stale_after: list[str] = field(default_factory=list)  # cells still stale when the night ended
    lines: list[str] = field(default_factory=list)  # what the fault's runs said (full disk, corrupt store)
    store_bytes: int = 0
    instance_bytes: int = 0
    log_bytes: int = 0
    daemon_rss: int = 0  # the daemon's own process
    code_server_rss: int = 0  # the code servers it started
    rows: int = 0
    seconds: float = 0.0

    @property
    def finished_on_its_own(self) -> bool:
        return not (self.failed or self.lost or self.hung or self.stale_after)


def _size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.exists() else 0


class Soak:
    def __init__(self, root: Path, seed: int, rows: int, say=print):
        self.root, self.rng, self.rows, self.say = root, random.Random(seed), rows, say
        self.home = root / "home"
        self.code = root / "code"
        self.tmp = root / "tmp"
        self.daemon: subprocess.Popen | None = None
        self._instance = None
        self._idle_since: float | None = None  # since when no run is started (a queue that does not drain)
        self.mounted = False
        self.settings = {"rows": rows, "engines": ["duckdb", "polars"], "threads": [1], "repeats": 1,
                         "query_budget_s": QUERY_BUDGETS_S[0], "timeout_s": float(TIMEOUT_S)}

    # ------------------------------------------------------------------ the machine
    def env(self) -> dict:
        return {**os.environ, "BENCH_HOME": str(self.home), "DAGSTER_HOME": str(self.home / "dagster"),
                "BENCH_NIGHTLY_CRON": "* * * * *", "PYTHONPATH": str(self.code), "TMPDIR": str(self.tmp),
                "BENCH_CALIBRATION_DIR": str(self.root / "calibration"), "TZ": "UTC",
                "BENCH_LOCK_FILE": str(self.root / "measurement.lock")}

    def setup(self, earlier: Path | None, disk_mib: int) -> None:
        self.home.mkdir(parents=True)
        self.tmp.mkdir()
        try:  # the state folder on a small filesystem of its own, so that a full disk fills it alone
            subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={disk_mib}m", "tmpfs", str(self.home)],
                           check=True, capture_output=True)
            self.mounted = True
        except (OSError, subprocess.CalledProcessError):
            self.say("soak: cannot mount a tmpfs here (not root?): the full-disk fault is left out")
        shutil.copytree(PACKAGE, self.code / "bench_pipeline", ignore=shutil.ignore_patterns("__pycache__"))
        (self.home / "settings.json").write_text(json.dumps(self.settings, indent=2))
        for key, value in self.env().items():
            os.environ[key] = value
        sys.path.insert(0, str(self.code))  # this process reads the staleness with the daemon's code
        if earlier is not None:  # the state an earlier release left: its store and instance, upgraded in place
            self._cli(earlier, "run", "--time-budget", "3m")
        self._cli(None, "run", "--time-budget", "3m")  # the data, and every cell measured once
        self.start_daemon()

    def _cli(self, checkout: Path | None, *args: str) -> None:
        """`bench-pipeline ARGS` with the soak's copy of the code, or an earlier checkout's (run from its folder:
        `python -m` puts the working directory first on the path)."""
        code = checkout or self.code
        r = subprocess.run([sys.executable, "-m", "bench_pipeline.cli", *args],
                           env=self.env() | {"PYTHONPATH": str(code)}, cwd=code, capture_output=True, text=True,
                           timeout=1800)
        if r.returncode != 0:
            raise SystemExit(f"soak: bench-pipeline {' '.join(args)} failed: {r.stderr.strip()[-2000:]}")

    def start_daemon(self) -> None:
        log = open(self.root / "daemon.log", "ab")
        self.daemon = subprocess.Popen(
            [str(Path(sys.executable).with_name("dagster-daemon")), "run", "-m", "bench_pipeline.defs.definitions"],
            env=self.env(), cwd=self.code, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def daemon_rss(self) -> tuple[int, int]:
        """The daemon's own memory, and its code servers' (not the runs they launch), each process read apart:
        one that ends meanwhile is not counted, and does not zero the rest. Apart, because the daemon starts its
        code servers again now and then, which moves their sum by hundreds of MiB without any leak."""
        try:
            daemon = psutil.Process(self.daemon.pid)
            own, tree = daemon.memory_info().rss, daemon.children(recursive=True)
        except psutil.Error:
            return 0, 0
        servers = 0
        for q in tree:
            with contextlib.suppress(psutil.Error):
                if "spawn_main" not in " ".join(q.cmdline()) and "harness.worker" not in " ".join(q.cmdline()):
                    servers += q.memory_info().rss
        return own, servers

    def ours(self) -> list[psutil.Process]:
        """Every process of the soak's state folder but this one."""
        out = []
        for p in psutil.process_iter(["pid", "cmdline"]):
            try:
                if p.pid != os.getpid() and p.environ().get("BENCH_HOME") == str(self.home):
                    out.append(p)
            except psutil.Error:
                continue
        return out

    def teardown(self, keep: bool = False) -> None:
        if self.daemon is not None:
            with contextlib.suppress(OSError, psutil.Error, subprocess.TimeoutExpired):
                os.killpg(self.daemon.pid, signal.SIGTERM)
                self.daemon.wait(30)
        for p in self.ours():
            with contextlib.suppress(psutil.Error):
                p.kill()
        if self.mounted and not keep:
            subprocess.run(["umount", "-l", str(self.home)], capture_output=True)

    # ------------------------------------------------------------------ the instance and the store
    def instance(self):
        import dagster as dg

        if self._instance is None:
            self._instance = dg.DagsterInstance.get()
        return self._instance

    def groups(self):
        from bench_pipeline.config.settings import Settings
        from bench_pipeline.suites.grid import cells

        return [cells.group(Settings.from_env(self.home))]

    def stale_now(self) -> dict[str, str]:
        from bench_pipeline.config.settings import Settings
        from bench_pipeline.defs.staleness import stale
        from bench_pipeline.suites import SuiteConfig
        from bench_pipeline.suites.grid.cells import grid_keys

        settings = Settings.from_env(self.home)
        run = SuiteConfig(settings)
        try:
            in_store = self.cell_runs_in_store()
            return {k: why for g in self.groups() for k, why in stale(self.instance(), g, run, in_store).items()
                    if why}
        except Exception:  # noqa: BLE001 - an unreadable store (moved aside, every cell measured again) or a
            # full disk (the instance cannot be read): every cell is the night's
            return {k: "the state cannot be read" for k in grid_keys(settings.engines, settings.threads)}

    def read_store(self, sql: str, params: list | None = None) -> list[tuple] | None:
        """Rows of the store, read-only (the daemon's runs write it meanwhile); None when it cannot be read."""
        import duckdb

        try:
            with duckdb.connect(str(self.home / "results.duckdb"), read_only=True) as con:
                return con.execute(sql, params or []).fetchall()
        except duckdb.Error:
            return None

    def cell_runs_in_store(self) -> set[str]:
        rows = self.read_store("SELECT DISTINCT cell_run_id FROM measurements")
        if rows is None:
            raise RuntimeError("the store cannot be read")
        return {r[0] for r in rows}

    def in_progress(self) -> list:
        try:
            return self._in_progress()
        except Exception:  # noqa: BLE001 - sqlite's disk I/O error on a full disk: nothing can be launched
            return []

    def _in_progress(self) -> list:
        import dagster as dg

        return self.instance().get_run_records(dg.RunsFilter(statuses=[
            dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTING,
            dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.CANCELING]))

    def cell_runs_since(self, since: dt.datetime, whole: bool = False) -> dict[str, set[str]]:
        """cell key -> the cell runs stored since `since` (whole: only those whose every row is ok, a real
        measurement: a failed cell's rows and its retry are not a cell measured twice)."""
        rows = self.read_store("SELECT engine || '|' || threads_asked, cell_run_id FROM measurements "
                               "WHERE suite = 'grid' AND measured_at >= ? GROUP BY ALL "
                               "HAVING NOT ? OR bool_and(status IN ('ok', 'unsupported'))", [since, whole])
        out: dict[str, set[str]] = {}
        for key, run in rows or []:
            out.setdefault(key, set()).add(run)
        return out

    def store_rows(self) -> int:
        rows = self.read_store("SELECT count(*) FROM measurements")
        return rows[0][0] if rows else -1

    def failures_since(self, since: float) -> dict[str, str]:
        """partition -> why its latest run that failed since `since` failed (the step's failure, else the run's)."""
        import dagster as dg

        out = {}
        for r in self.instance().get_run_records(dg.RunsFilter(statuses=[dg.DagsterRunStatus.FAILURE])):
            if (r.end_time or 0) >= since and (key := r.dagster_run.tags.get("dagster/partition")):
                out.setdefault(key, " ".join(self._why(r.dagster_run.run_id).split())[:300])
        return out

    def _why(self, run_id: str) -> str:
        for e in reversed(self.instance().all_logs(run_id)):
            ev = e.dagster_event
            if ev is None:
                continue
            if ev.event_type_value == "STEP_FAILURE":
                data = ev.step_failure_data
                user = getattr(data, "user_failure_data", None)
                return (user.description if user and user.description else
                        data.error.message if data.error else e.message) or "step failed"
            if ev.event_type_value in ("RUN_FAILURE", "PIPELINE_FAILURE"):
                return e.message or "run failed"
        return "failed"

    def ticked(self, since: float) -> bool:
        """Has the daemon evaluated every schedule's tick at or after `since`? (Not while the instance cannot be
        read: a full disk.)"""
        try:
            return self._ticked(since)
        except Exception:  # noqa: BLE001 - sqlite's disk I/O error on a full disk
            return False

    def _schedules(self) -> list:
        from dagster._core.scheduler.instigation import InstigatorType

        return list(self.instance().all_instigator_state(instigator_type=InstigatorType.SCHEDULE))

    def _ticked(self, since: float) -> bool:
        states = self._schedules()
        for state in states:
            ticks = self.instance().get_ticks(state.instigator_origin_id, state.selector_id, limit=1)
            if not (ticks and ticks[0].timestamp >= since and ticks[0].status.value != "STARTED"):
                return False
        return any(s.instigator_name == "nightly_stale_cells" for s in states)

    def schedules(self, running: bool) -> None:
        """Start or stop every schedule, as the UI's toggle does. A night is one tick of each: stopped once it
        ticked, started again for the next night. Without it, the every-minute cron ticks again while a night
        is still going and retries a cell that failed that night at once, minute after minute (a real night's
        next tick is the next night)."""
        from dagster._core.scheduler.instigation import InstigatorStatus, ScheduleInstigatorData

        with contextlib.suppress(Exception):  # a full disk: the schedules skip the night on their own
            for state in self._schedules():
                if running and state.status == InstigatorStatus.STOPPED:  # its ticks from now, none caught up
                    self.instance().update_instigator_state(state.with_status(InstigatorStatus.RUNNING).with_data(
                        ScheduleInstigatorData(state.instigator_data.cron_schedule, time.time())))
                elif not running and state.status != InstigatorStatus.STOPPED:
                    self.instance().update_instigator_state(state.with_status(InstigatorStatus.STOPPED))

    # ------------------------------------------------------------------ a night
    def change(self, what: str | None) -> None:
        settings = json.loads((self.home / "settings.json").read_text())
        if what == "engine_code":  # an engine's code version: a line added to its module
            module = self.code / "bench_pipeline" / "engines" / self.rng.choice(["duckdb_engine.py",
                                                                               "polars_engine.py"])
            module.write_text(module.read_text() + f"# changed on a soak night {time.time():.0f}\n")
        elif what == "setting":
            # toggled between two budgets: one that only grew would lengthen every later night of the soak
            settings["query_budget_s"] = QUERY_BUDGETS_S[settings["query_budget_s"] == QUERY_BUDGETS_S[0]]
        elif what == "dataset_size":  # a user asking for another size materializes its data, then the night
            settings["rows"] = self.rng.choice([r for r in (self.rows, self.rows * 2, self.rows * 3)
                                                if r != settings["rows"]])
        if what in ("setting", "dataset_size"):
            (self.home / "settings.json").write_text(json.dumps(settings, indent=2))
        if what == "dataset_size":
            subprocess.run([sys.executable, "-m", "dagster", "asset", "materialize", "-m",
                            "bench_pipeline.defs.definitions", "--select", "dataset"], env=self.env(),
                           cwd=self.code, capture_output=True, timeout=600)

    def _patch(self, relative: str, old: str, new: str) -> tuple[Path, str]:
        path = self.code / "bench_pipeline" / relative
        text = path.read_text()
        assert old in text, (relative, old)
        path.write_text(text.replace(old, new, 1))
        return path, text

    def before(self, fault: str | None) -> list:
        """Set up a fault that acts from the start of the night; what undoes it."""
        undo = []
        if fault in ("kill_step", "kill_daemon", "busy", "full_disk"):
            self.change("setting")  # cells to measure while the fault acts
        if fault == "corrupt_store":
            store = self.home / "results.duckdb"
            with open(store, "r+b") as f:
                f.write(os.urandom(4096))
        elif fault == "hang":
            hang = '        __import__("time").sleep(3600)\n'
            collect = "    def collect(self, result: Any) -> Any:\n"
            path, text = self._patch("engines/duckdb_engine.py", collect, collect + hang)
            undo.append(lambda: path.write_text(text))
        elif fault == "die_after_ready":
            path, text = self._patch("harness/worker.py", "    talk.wait_go()\n    i = 0\n",
                                     "    talk.wait_go()\n    os._exit(9)\n    i = 0\n")
            undo.append(lambda: path.write_text(text))
        elif fault == "full_disk" and self.mounted:
            # Filled to FULL_LEFT_MIB: a disk a user calls full, where the instance's SQLite still reads (at zero
            # bytes it cannot: the daemon then logs sqlite's "disk I/O error" and evaluates no schedule at all).
            filler = self.home / "filler"
            with contextlib.suppress(OSError), open(filler, "wb") as f:
                while shutil.disk_usage(self.home).free > FULL_LEFT_MIB << 20:
                    f.write(b"\0" * (1 << 20))
                    f.flush()
            undo.append(lambda: filler.unlink(missing_ok=True))
        elif fault == "busy":
            burners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2)]
            undo.append(lambda: [b.kill() for b in burners])
        return undo

    def stalled(self) -> list[str]:
        """Runs that hang (see `stalled_runs`), read from the instance; remembers since when no run is started."""
        import dagster as dg

        now = time.time()
        records = self.in_progress()
        started = [(r.dagster_run.run_id, r.dagster_run.job_name,
                    (logs[-1].timestamp if (logs := self.instance().all_logs(r.dagster_run.run_id)) else now))
                   for r in records if r.dagster_run.status in (dg.DagsterRunStatus.STARTED,
                                                                 dg.DagsterRunStatus.STARTING)]
        queued = [(r.dagster_run.run_id, r.dagster_run.job_name) for r in records
                  if r.dagster_run.status in (dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED)]
        self._idle_since = None if started else (self._idle_since or now)
        return stalled_runs(now, started, queued, self._idle_since)

    def cells_running(self) -> bool:
        import dagster as dg

        return bool(self.instance().get_run_records(dg.RunsFilter(
            statuses=[dg.DagsterRunStatus.STARTED], job_name="benchmark_cells_job"), limit=1))

    def during(self, fault: str | None, deadline: float) -> list[str]:
        """A fault that strikes mid-cell: once an engine worker of a cell's run is up (runs go one at a time, so
        it is that run's); what was done."""
        if fault not in ("kill_step", "kill_daemon"):
            return []
        while time.time() < deadline:
            workers = [p for p in self.ours() if "bench_pipeline.harness.worker" in " ".join(p.cmdline())]
            if workers and self.cells_running():
                if fault == "kill_step":  # the run's process: its in-process executor runs the step
                    run = workers[0].parent() or workers[0]  # the worker's runner: the run's own process
                    what = f"kill -9 {run.pid} ({' '.join(run.cmdline())[:80]})"
                    with contextlib.suppress(psutil.Error):
                        run.kill()
                    return [what]
                with contextlib.suppress(psutil.Error):
                    self.daemon.kill()  # the daemon's main process, as a crash would leave it
                self.daemon.wait(30)
                time.sleep(5)
                self.start_daemon()  # the service manager starts it again
                return [f"kill -9 the daemon mid-cell; started again as pid {self.daemon.pid}"]
            time.sleep(0.5)
        return [f"{fault}: no cell's worker came up before the deadline"]

    def night(self, n: int, change: str | None, fault: str | None) -> Night:
        t0 = time.time()
        night = Night(n, change, fault)
        log_from = _size(self.root / "daemon.log")
        self.change(change)
        undo = self.before(fault)
        night.expected = sorted(self.stale_now())
        start = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        self.schedules(running=True)
        tick = (int(time.time()) // 60 + 1) * 60  # the next minute: the schedules' tick
        deadline = tick + NIGHT_DEADLINE_S
        while time.time() < deadline and not self.ticked(tick - 1):
            if fault == "full_disk" and time.time() > tick and any(
                    "no cell launched tonight" in line for line in self._said(log_from)):
                break  # the tick itself may not be recorded on the full disk: the schedule said why
            time.sleep(1)
        self.schedules(running=False)
        night.lines += self.during(fault, deadline)
        quiet_since, self._idle_since = None, None
        while time.time() < deadline:  # done once quiet for 20 s, or a run hangs
            if hung := self.stalled():
                night.hung = hung
                break
            if self.in_progress():
                quiet_since = None
            elif quiet_since is None:
                quiet_since = time.time()
            elif time.time() - quiet_since > 20:
                break
            time.sleep(1)
        if time.time() >= deadline and not night.hung:
            night.hung = [f"{r.dagster_run.run_id} (in progress at the night's end)" for r in self.in_progress()]
        for u in undo:
            u()
        runs = self.cell_runs_since(start)
        night.failed = {k: v for k, v in self.failures_since(t0).items() if k in night.expected or "|" in k}
        if fault == "full_disk":  # the schedule launched nothing and said why on the daemon's log
            said = [line for line in self._said(log_from) if "no cell launched tonight" in line]
            night.failed |= {k: said[0] for k in night.expected if said and k not in runs and k not in night.failed}
        for key in night.expected:
            if key in runs:
                night.measured.append(key)
            elif key not in night.failed:
                night.lost.append(key)
        whole = self.cell_runs_since(start, whole=True)
        night.twice = sorted(k for k, r in whole.items() if len(r) > 1 or k not in night.expected)
        if fault in ("full_disk", "corrupt_store"):
            night.lines += sorted(set(night.failed.values()))[:3] + self._store_lines(t0) + self._said(log_from)
        while self.in_progress() and time.time() < deadline:  # leftovers are counted once nothing runs
            time.sleep(2)
        time.sleep(2)
        night.left_processes = [f"{p.pid} {' '.join(p.cmdline())[:120]}" for p in self.ours()
                                if p.pid != self.daemon.pid and self.daemon.pid not in [a.pid for a in p.parents()]]
        night.left_folders = sorted(p.name for p in self.tmp.iterdir()
                                    if p.name.startswith(("bench-query-", "bench-spark-", "ray")))
        night.stale_after = sorted(self.stale_now())
        night.store_bytes = _size(self.home / "results.duckdb")
        night.instance_bytes = _size(self.home / "dagster" / "storage") + _size(self.home / "dagster" / "history")
        night.log_bytes = _size(self.root / "daemon.log") + _size(self.home / "dagster" / "logs")
        night.daemon_rss, night.code_server_rss = self.daemon_rss()
        night.rows = self.store_rows()
        night.seconds = round(time.time() - t0, 1)
        return night

    def _said(self, offset: int) -> list[str]:
        """The project's own lines in the daemon's log since `offset` (the schedule's, its code server's)."""
        with open(self.root / "daemon.log", "rb") as f:
            f.seek(offset)
            text = f.read().decode(errors="replace")
        return sorted({line.strip()[:300] for line in text.splitlines() if "bench-pipeline:" in line})[:5]

    def _store_lines(self, since: float) -> list[str]:
        aside = [p.name for p in self.home.glob("results.duckdb.unreadable-*") if p.stat().st_mtime >= since
                 and not p.name.endswith(".wal")]
        return [f"kept aside: {', '.join(aside)}"] if aside else []


def stalled_runs(now: float, started: list[tuple[str, str, float]], queued: list[tuple[str, str]],
                 idle_since: float | None) -> list[str]:
    """The runs that hang: a started run (id, job, its last event's time) with no new event for STALL_S, or
    queued runs (id, job) while no run has been started for STALL_S (`idle_since`: since when none is). A run
    queued long behind a slow one is not hung: with one run at a time, the observers and plots queue behind a
    cell that hangs until its timeout, and drain once it ends."""
    out = [f"{run_id} {job} (no event for {now - last:.0f} s)" for run_id, job, last in started
           if now - last > STALL_S]
    if not started and idle_since is not None and now - idle_since > STALL_S:
        out += [f"{run_id} {job} (queued while no run started for {now - idle_since:.0f} s)"
                for run_id, job in queued]
    return out


def plan(nights: int, rng: random.Random, faults: tuple[str, ...],
         rate: float = 0.4) -> list[tuple[str | None, str | None]]:
    """Each night's change and fault: a fault with probability `rate` after a night without one (never two
    nights running, so that every fault night is followed by one that must finish on its own: a fraction
    rate / (1 + rate) of the nights, 0.4 about one in three), most other nights change nothing."""
    out, last_fault = [], False
    for n in range(nights):
        fault = rng.choice(faults) if n > 0 and not last_fault and rng.random() < rate else None
        change = None if fault else rng.choices([None, *CHANGES], weights=[6, 1, 1, 1])[0]
        out.append((change, fault))
        last_fault = fault is not None
    return out


def mib(n: int | None) -> float | None:
    return round(n / 2**20, 1) if n else None


def measured_rows(nights: list[Night]) -> list[int]:
    """Rows measured by the end of each night, all nights so far (a store moved aside starts again at zero)."""
    out, total, last = [], 0, 0
    for n in nights:
        if n.rows >= 0:
            total += n.rows - last if n.rows >= last else n.rows
            last = n.rows
        out.append(total)
    return out


def summary(nights: list[Night], seed: int) -> dict:
    faulted = [n for n in nights if n.fault]
    after = {n.number: nights[i + 1] for i, n in enumerate(nights[:-1]) if n.fault}
    fifth = nights[4].daemon_rss if len(nights) > 4 else None
    return {
        "seed": seed, "nights": len(nights), "fault_nights": len(faulted),
        "faults": {f: sum(n.fault == f for n in nights) for f in FAULTS},
        "changes": {c: sum(n.change == c for n in nights) for c in CHANGES},
        "hangs": sum(len(n.hung) for n in nights), "cells_lost": sum(len(n.lost) for n in nights),
        "cells_measured_twice": sum(len(n.twice) for n in nights),
        "processes_left": sum(len(n.left_processes) for n in nights),
        "folders_left": sum(len(n.left_folders) for n in nights),
        "fault_nights_followed_by_a_night_that_finished_on_its_own":
            f"{sum(a.finished_on_its_own for a in after.values())} of {len(after)}",
        "store_bytes_per_row": [round(n.store_bytes / n.rows) if n.rows > 0 else None for n in nights[::10]],
        "instance_bytes": [n.instance_bytes for n in nights[::10]],
        # the instance keeps every night's runs (the store may start again after a corrupt one): per row measured
        "instance_bytes_per_row_measured": [round(n.instance_bytes / m) if m else None
                                            for n, m in list(zip(nights, measured_rows(nights), strict=True))[::10]],
        "rows": [n.rows for n in nights[::10]],
        "daemon_rss_mib": {"night 5": mib(fifth), "last": mib(nights[-1].daemon_rss if nights else None),
                           "last / night 5": round(nights[-1].daemon_rss / fifth, 3) if fifth else None},
        "code_servers_rss_mib": {"night 5": mib(nights[4].code_server_rss if len(nights) > 4 else None),
                                 "last": mib(nights[-1].code_server_rss if nights else None),
                                 "range": [mib(min((n.code_server_rss for n in nights), default=None)),
                                           mib(max((n.code_server_rss for n in nights), default=None))]},
        "full_disk_lines": sorted({line for n in nights if n.fault == "full_disk" for line in n.lines}),
        "corrupt_store_lines": sorted({line for n in nights if n.fault == "corrupt_store" for line in n.lines}),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench_pipeline_tests.soak", description=__doc__.split("\n\n")[0])
    ap.add_argument("--nights", type=int, default=60)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--rows", type=int, default=3000)
    ap.add_argument("--earlier", type=Path, default=None, help="a checkout of an earlier release: it writes the "
                    "state folder first, and the first night upgrades its store and instance in place")
    ap.add_argument("--disk-mib", type=int, default=512, help="the state folder's own filesystem")
    ap.add_argument("--faults", default=",".join(FAULTS), help=f"the faults drawn from (default: {','.join(FAULTS)})")
    ap.add_argument("--fault-rate", type=float, default=0.4, help="the chance of a fault on a night after one "
                    "without (default 0.4: about one night in three; 0.6: about three in eight)")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--keep", action="store_true", help="keep the soak's folder")
    args = ap.parse_args(argv)
    if args.nights < 1 or args.rows < 1:
        ap.error("--nights and --rows must be positive")
    if not 0 <= args.fault_rate <= 1:
        ap.error("--fault-rate must be between 0 and 1")
    chosen = tuple(f.strip() for f in args.faults.split(",") if f.strip())
    if unknown := [f for f in chosen if f not in FAULTS]:
        ap.error(f"--faults: unknown {', '.join(unknown)}; choose from {', '.join(FAULTS)}")
    seed = args.seed if args.seed is not None else random.randrange(10**6)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # a soak stopped with kill tears down as with ^C
    root = Path(tempfile.mkdtemp(prefix="bench-soak-"))
    soak = Soak(root, seed, args.rows, say=lambda line: print(line, file=sys.stderr, flush=True))
    nights: list[Night] = []
    try:
        soak.setup(args.earlier, args.disk_mib)
        faults = chosen if soak.mounted else tuple(f for f in chosen if f != "full_disk")
        for n, (change, fault) in enumerate(plan(args.nights, soak.rng, faults, args.fault_rate), start=1):
            night = soak.night(n, change, fault)
            nights.append(night)
            print(f"night {n}: change {change or '-'}, fault {fault or '-'}: {len(night.expected)} stale, "
                  f"{len(night.measured)} measured, {len(night.failed)} failed, {len(night.lost)} lost, "
                  f"{len(night.twice)} twice, {len(night.hung)} hung, {len(night.left_processes)} processes and "
                  f"{len(night.left_folders)} folders left, {len(night.stale_after)} stale after; "
                  f"{night.rows} rows, daemon {night.daemon_rss / 2**20:.0f} MiB (code servers "
                  f"{night.code_server_rss / 2**20:.0f} MiB), {night.seconds:.0f} s",
                  file=sys.stderr, flush=True)
            for line in night.lines:
                print(f"  {line}", file=sys.stderr, flush=True)
    finally:
        soak.teardown(keep=args.keep)
        if args.keep:
            print(f"soak: kept {root} (its state folder still mounted: umount {soak.home})", file=sys.stderr)
        else:
            shutil.rmtree(root, ignore_errors=True)
    out = summary(nights, seed)
    if args.json:
        print(json.dumps({"summary": out, "nights": [asdict(n) for n in nights]}, indent=2, default=str))
    else:
        print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
