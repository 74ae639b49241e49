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


def timeseries_table(rows: list[dict], scenario: Scenario) -> pa.Table:
    table = pa.Table.from_pandas(pd.DataFrame(rows), preserve_index=False)
    meta = {f"credsim.{k}": str(v) for k, v in provenance(scenario).items()}
    return table.replace_schema_metadata(meta)


def write_run(out: Path, scenario: Scenario, rows: list[dict], summary: dict, wall_time: float) -> Path:
    out = Path(out)
    check_out_dir(out)
    parent = out.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RunFolderError(f"--out {out}: cannot create {parent}: {exc.strerror}") from None
    tmp = parent / f".{out.name}.partial-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        tmp.mkdir()
        (tmp / "scenario.toml").write_text(to_toml(scenario), encoding="utf-8")
        pq.write_table(timeseries_table(rows, scenario), tmp / "timeseries.parquet")
        doc = dict(provenance(scenario), wall_time_s=round(wall_time, 3), **summary)
        text = json.dumps(finite(doc), indent=2, allow_nan=False)
        (tmp / "summary.json").write_text(text + "\n", encoding="utf-8")
        if out.exists():
            out.rmdir()  # an empty folder the user made for us
        os.rename(tmp, out)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise RunFolderError(f"--out {out}: cannot write the run: {exc.strerror or exc}") from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out
