"""Writing a run's folder atomically: everything goes to a hidden sibling, renamed when complete.

A folder named like a run is therefore always a finished run; an interrupted one leaves at
most a hidden `.NAME.partial-PID` folder, which the next write of the same name removes.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from .._version import __version__
from ..scenario import Scenario, scenario_hash, to_toml
from ..scenario.load import finite


class RunFolderError(ValueError):
    """The output folder cannot be used (exists, or cannot be written)."""


def default_run_dir(scenario: Scenario, root: Path = Path("runs")) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return root / f"{scenario.name}-{scenario.run.seed}-{stamp}"


def check_out_dir(out: Path) -> None:
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise RunFolderError(f"--out {out}: already exists and is not an empty folder; choose another or remove it")


def provenance(scenario: Scenario) -> dict:
    return {
        "credsim_version": __version__,
        "scenario": scenario.name,
        "scenario_hash": scenario_hash(scenario),
        "seed": scenario.run.seed,
        "agents": scenario.population.agents,
        "steps": scenario.run.steps,
    }


def provenance_metadata(scenario: Scenario) -> dict:
    """The provenance as Parquet key-value metadata (`credsim.seed`, `credsim.scenario_hash`, ...)."""
    return {f"credsim.{k}": str(v) for k, v in provenance(scenario).items()}


def timeseries_table(rows: list[dict], scenario: Scenario) -> pa.Table:
    table = pa.Table.from_pandas(pd.DataFrame(rows), preserve_index=False)
    return table.replace_schema_metadata(provenance_metadata(scenario))


PARTIAL = ".partial"
LOCK = "writer.pid"
CHECKPOINT = "checkpoint"


def partial_path(out: Path) -> Path:
    """Where the run folder `out` is written until it is complete: `.NAME.partial` beside it."""
    out = Path(out)
    return out.parent / f".{out.name}{PARTIAL}"


def final_path(path: Path) -> Path:
    """The run folder a path names: itself, or the folder a `.NAME.partial` will become."""
    path = Path(path)
    name = path.name
    if name.startswith(".") and name.endswith(PARTIAL):
        return path.parent / name[1:-len(PARTIAL)]
    return path


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def checkpoint_of(partial: Path) -> Path | None:
    """The last whole checkpoint in a partial folder (None if there is none)."""
    for name in (CHECKPOINT, CHECKPOINT + ".old"):
        if (partial / name / "meta.json").is_file():
            return partial / name
    return None


class StagedRun:
    """A run folder being written: the hidden sibling `.NAME.partial` until `commit()`.

        with StagedRun(out) as staged:
            ... write into staged.tmp ...
            staged.commit()          # renamed to `out`

    Leaving the block early removes the partial folder, unless it holds a checkpoint: then it
    stays for `credsim run --resume`.  A `writer.pid` file keeps two runs off one folder.
    """

    def __init__(self, out: Path, resume: bool = False):
        self.out = final_path(Path(out))
        self.tmp = partial_path(self.out)
        self.committed = False
        check_out_dir(self.out)
        if resume:
            if checkpoint_of(self.tmp) is None:
                raise RunFolderError(f"--resume {self.out}: no interrupted run with a checkpoint is there "
                                     f"(looked for {self.tmp}/{CHECKPOINT})")
            self._lock()
            return
        if self.tmp.exists():
            self._check_not_busy()
            if checkpoint_of(self.tmp) is not None:
                raise RunFolderError(f"--out {self.out}: an interrupted run of this folder can be resumed: "
                                     f"`credsim run --resume {self.out}`, or remove {self.tmp} to start again")
            shutil.rmtree(self.tmp, ignore_errors=True)
        try:
            self.out.parent.mkdir(parents=True, exist_ok=True)
            self.tmp.mkdir()
        except OSError as exc:
            raise RunFolderError(f"--out {self.out}: cannot write the run: {exc.strerror or exc}") from None
        self._lock()

    def _check_not_busy(self) -> None:
        lock = self.tmp / LOCK
        try:
            pid = int(lock.read_text())
        except (OSError, ValueError):
            return
        if pid != os.getpid() and _alive(pid):
            raise RunFolderError(f"--out {self.out}: another credsim run (process {pid}) is writing it")

    def _lock(self) -> None:
        self._check_not_busy()
        try:
            (self.tmp / LOCK).write_text(str(os.getpid()))
        except OSError as exc:
            raise RunFolderError(f"--out {self.out}: cannot write the run: {exc.strerror or exc}") from None

    def commit(self) -> Path:
        for name in (LOCK,):
            (self.tmp / name).unlink(missing_ok=True)
        for name in (CHECKPOINT, CHECKPOINT + ".old", CHECKPOINT + ".new", "parts"):
            shutil.rmtree(self.tmp / name, ignore_errors=True)
        if self.out.exists():
            self.out.rmdir()  # an empty folder the user made for us
        os.rename(self.tmp, self.out)
        self.committed = True
        return self.out

    def save_checkpoint(self, save) -> None:
        """Write a checkpoint with `save(folder)` next to the last one, then swap them in."""
        new, cur, old = (self.tmp / f"{CHECKPOINT}{x}" for x in (".new", "", ".old"))
        shutil.rmtree(new, ignore_errors=True)
        try:
            save(new)
            shutil.rmtree(old, ignore_errors=True)
            if cur.exists():
                cur.rename(old)
            new.rename(cur)
            shutil.rmtree(old, ignore_errors=True)
        except OSError as exc:
            shutil.rmtree(new, ignore_errors=True)
            raise RunFolderError(f"--out {self.out}: cannot write a checkpoint ({exc.strerror or exc}); "
                                 "the last checkpoint is kept") from None

    def abort(self) -> None:
        if checkpoint_of(self.tmp) is None:
            shutil.rmtree(self.tmp, ignore_errors=True)
        else:
            (self.tmp / LOCK).unlink(missing_ok=True)

    def __enter__(self) -> "StagedRun":
        return self

    def __exit__(self, kind, exc, tb) -> None:
        if not self.committed:
            self.abort()
        if isinstance(exc, OSError):
            raise RunFolderError(f"--out {self.out}: cannot write the run: {exc.strerror or exc}") from None


def write_files(folder: Path, scenario: Scenario, rows: list[dict], summary: dict, wall_time: float,
                output: dict | None = None) -> None:
    """scenario.toml, timeseries.parquet and summary.json (with `output`: what else was written)."""
    (folder / "scenario.toml").write_text(to_toml(scenario), encoding="utf-8")
    pq.write_table(timeseries_table(rows, scenario), folder / "timeseries.parquet")
    doc = dict(provenance(scenario), wall_time_s=round(wall_time, 3), **summary)
    if output:
        doc["output"] = output
    text = json.dumps(finite(doc), indent=2, allow_nan=False)
    (folder / "summary.json").write_text(text + "\n", encoding="utf-8")


def finish_run(staged: StagedRun, scenario: Scenario, rows: list[dict], summary: dict, wall_time: float,
               output: dict | None = None) -> float:
    """Write the tables and the report into the staged folder; returns the report's seconds."""
    write_files(staged.tmp, scenario, rows, summary, wall_time, output)
    if not scenario.output.report:
        return 0.0
    from ..report import write_report

    start = time.perf_counter()
    write_report(staged.tmp)
    return time.perf_counter() - start


def write_run(out: Path, scenario: Scenario, rows: list[dict], summary: dict, wall_time: float) -> Path:
    """Write a run folder from rows already in memory (no register), atomically."""
    with StagedRun(out) as staged:
        finish_run(staged, scenario, rows, summary, wall_time)
        return staged.commit()
