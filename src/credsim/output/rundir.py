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


class StagedRun:
    """A run folder being written: a hidden sibling `.NAME.partial-PID` until `commit()`.

        with StagedRun(out) as staged:
            ... write into staged.tmp ...
            staged.commit()          # renamed to `out`; leaving the block early removes tmp
    """

    def __init__(self, out: Path):
        self.out = Path(out)
        check_out_dir(self.out)
        try:
            self.out.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise RunFolderError(f"--out {self.out}: cannot create {self.out.parent}: {exc.strerror}") from None
        self.tmp = self.out.parent / f".{self.out.name}.partial-{os.getpid()}"
        shutil.rmtree(self.tmp, ignore_errors=True)
        try:
            self.tmp.mkdir()
        except OSError as exc:
            raise RunFolderError(f"--out {self.out}: cannot write the run: {exc.strerror or exc}") from None
        self.committed = False

    def commit(self) -> Path:
        if self.out.exists():
            self.out.rmdir()  # an empty folder the user made for us
        os.rename(self.tmp, self.out)
        self.committed = True
        return self.out

    def abort(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)

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
