"""Runs started from the page: one at a time, in a background thread, the last few kept.

A run steps through `credsim.run(..., out=FOLDER, on_step=...)`: each row is kept (the columns
the page draws) as it comes, and the run folder, register, snapshots and report.html are
written as for `credsim run`, into a temporary folder the server owns and removes when it
stops.  Nothing is written anywhere a request names.  Stop ends the run after the step in
progress; a stopped run keeps its rows on the page but has no folder.
"""

from __future__ import annotations

import math
import re
import shutil
import threading
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from ..api import run as run_scenario
from ..scenario import Scenario
from ..society import TooBig

KEEP = 4  # runs kept for comparison (the oldest finished one goes first)
COLOURS = ("#b2182b", "#2166ac", "#4d9221", "#762a83", "#e08214", "#35978f", "#c51b7d", "#8c510a")
BASELINE_COLOUR = "#666666"
RUNNING, WRITING, DONE, STOPPED, FAILED = "running", "writing", "done", "stopped", "failed"
ENDED = (DONE, STOPPED, FAILED)


class Busy(Exception):
    """A run is in progress; the page runs one at a time."""


class Stopped(Exception):
    """Raised from the step callback to end a run early."""


def safe_name(text: str) -> str:
    """A file name made of letters, digits, dots, dashes and underscores only."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip(".-")[:60] or "run"


@dataclass
class Run:
    id: str
    label: str
    changes: list[str]
    scenario: Scenario
    colour: str
    columns: tuple[str, ...]
    folder: Path
    state: str = RUNNING
    message: str = ""
    rows: list[dict] = field(default_factory=list)
    started: float = field(default_factory=time.perf_counter)
    first_row_s: float | None = None
    wall_s: float | None = None
    stop_requested: threading.Event = field(default_factory=threading.Event)

    def push(self, row: dict) -> None:
        """The step callback: keep the row's drawn columns; raise `Stopped` if asked to stop."""
        self.rows.append({c: _plain(row.get(c)) for c in self.columns})
        if self.first_row_s is None:
            self.first_row_s = time.perf_counter() - self.started
        if len(self.rows) == self.scenario.run.steps:
            self.state = WRITING
        elif self.stop_requested.is_set():
            raise Stopped

    @property
    def run_dir(self) -> Path:
        """The run folder: SCENARIO-SEED, the name made safe for a file system."""
        return self.folder / f"{safe_name(self.scenario.name)}-{self.scenario.run.seed}"

    def info(self) -> dict:
        sc = self.scenario
        return {"id": self.id, "label": self.label, "changes": self.changes, "scenario": sc.name,
                "colour": self.colour, "agents": sc.population.agents, "steps": sc.run.steps,
                "seed": sc.run.seed, "state": self.state, "message": self.message, "done_steps": len(self.rows),
                "first_row_s": self.first_row_s, "wall_s": self.wall_s,
                "report": self.state == DONE and sc.output.report}


def _plain(value):
    """A JSON-safe number: NaN and infinities become None."""
    if value is None or isinstance(value, bool):
        return value
    value = float(value)
    return value if math.isfinite(value) else None


class RunBook:
    """The runs of this server, in the order they were started."""

    def __init__(self, root: Path, columns: tuple[str, ...], keep: int = KEEP):
        self.root = Path(root)
        self.columns = columns
        self.keep = keep
        self.runs: dict[str, Run] = {}
        self.lock = threading.Lock()
        self.count = 0

    def get(self, run_id: str) -> Run | None:
        return self.runs.get(run_id)

    def active(self) -> Run | None:
        return next((r for r in self.runs.values() if r.state not in ENDED), None)

    def start(self, scenario: Scenario, label: str, changes: list[str]) -> tuple[Run, list[str]]:
        """Start a run in the background; returns it and the ids of runs dropped to make room."""
        with self.lock:
            if self.active() is not None:
                raise Busy("a run is in progress: wait for it or stop it")
            self.count += 1
            run_id = f"r{self.count}"
            is_baseline = scenario.name == "baseline" and not changes
            colour = BASELINE_COLOUR if is_baseline else COLOURS[(self.count - 1) % len(COLOURS)]
            run = Run(run_id, label, changes, scenario, colour, self.columns, self.root / run_id)
            dropped = []
            while len(self.runs) >= self.keep:
                old = next(iter(self.runs))
                dropped.append(old)
                self._forget(old)
            self.runs[run_id] = run
        threading.Thread(target=self._work, args=(run,), name=f"credsim-{run_id}", daemon=True).start()
        return run, dropped

    def _forget(self, run_id: str) -> None:
        run = self.runs.pop(run_id)
        shutil.rmtree(run.folder, ignore_errors=True)

    def _work(self, run: Run) -> None:
        try:
            run.folder.mkdir(parents=True)
            run_scenario(run.scenario, out=run.run_dir, on_step=run.push)
        except Stopped:
            run.state, run.message = STOPPED, f"stopped after month {len(run.rows)}"
        except TooBig as exc:
            run.state, run.message = FAILED, str(exc)
        except Exception as exc:  # noqa: BLE001 - shown on the page, the server goes on
            run.state, run.message = FAILED, f"internal error: {type(exc).__name__}: {exc}"
        else:
            run.state = DONE
        run.wall_s = time.perf_counter() - run.started

    def stop(self, run_id: str) -> None:
        run = self.runs.get(run_id)
        if run is not None:
            run.stop_requested.set()

    def stop_all(self, timeout: float = 10.0) -> None:
        for run in list(self.runs.values()):
            run.stop_requested.set()
        deadline = time.monotonic() + timeout
        while self.active() is not None and time.monotonic() < deadline:
            time.sleep(0.05)

    def zip_path(self, run: Run) -> Path:
        """The run folder as one zip file (made once, next to the folder)."""
        out = run.folder / f"{run.run_dir.name}.zip"
        if not out.exists():
            tmp = out.with_name(f".{out.name}.partial-{threading.get_ident()}")
            with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
                for path in sorted(run.run_dir.rglob("*")):
                    if path.is_file():
                        zf.write(path, Path(run.run_dir.name) / path.relative_to(run.run_dir))
            tmp.replace(out)
        return out
