"""The Python API: `credsim.run(scenario, **overrides)`."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

import pandas as pd

from .engine import Simulation
from .output import RunWriter, StagedRun, finish_run, provenance_metadata
from .output.rundir import check_out_dir
from .scenario import DEFAULT_SCENARIO, Scenario, load_scenario

SHORTCUTS = {"agents": "population.agents", "steps": "run.steps", "seed": "run.seed"}


@dataclass
class Result:
    """A finished run: the resolved scenario, one row per step, the end-of-run summary."""

    scenario: Scenario
    timeseries: pd.DataFrame
    summary: dict
    wall_time: float
    path: Path | None = None
    output: dict | None = None  # with a run folder: register rows, bytes, write and report seconds


def resolve(scenario: str | Path | Mapping | Scenario = DEFAULT_SCENARIO,
            sets: Iterable[str] = (), **overrides: Any) -> Scenario:
    """The validated scenario with `--set`-style strings and keyword overrides applied.

    Keyword overrides take `agents`, `steps`, `seed`, or any dotted key written with `__`
    for the dots (`scoring__network_weight=0`) or passed as a dict (`**{"lists.naming": False}`).
    """
    dotted = {SHORTCUTS.get(k, k.replace("__", ".")): v for k, v in overrides.items() if v is not None}
    return load_scenario(scenario, sets=sets, overrides=dotted)


def run(scenario: str | Path | Mapping | Scenario = DEFAULT_SCENARIO, *, sets: Iterable[str] = (),
        out: str | Path | None = None, on_step: Callable[[dict], None] | None = None,
        memory_check: bool = True, **overrides: Any) -> Result:
    """Run a scenario (a built-in name, a TOML path, a dict or a `Scenario`).

    >>> result = credsim.run("seed", agents=10_000, steps=24, seed=3)
    >>> result.timeseries[["step", "blacklist_share"]]

    With `out`, the run folder is written there (scenario.toml, timeseries.parquet,
    summary.json, the register and snapshots, report.html; see docs/report.md), under a hidden
    name renamed when complete.  Raises `credsim.ScenarioError` for bad input and
    `credsim.TooBig` when the run would not fit in the memory available (`memory_check=False`
    tries anyway).
    """
    sc = resolve(scenario, sets, **overrides)
    if out is None:
        start = time.perf_counter()
        sim = _simulate(sc, on_step, Simulation(sc, memory_check=memory_check))
        summary = sim.summary()
        wall = time.perf_counter() - start
        return Result(scenario=sc, timeseries=pd.DataFrame(sim.rows), summary=summary, wall_time=wall)
    check_out_dir(Path(out))
    sim = Simulation(sc, memory_check=memory_check)  # refused before any folder is made
    with StagedRun(Path(out)) as staged:
        start = time.perf_counter()
        writer = RunWriter(staged.tmp, sim, provenance_metadata(sc))
        _simulate(sc, on_step, sim, writer)
        summary = sim.summary()
        output = writer.close(sim)
        wall = time.perf_counter() - start
        output["report_s"] = round(finish_run(staged, sc, sim.rows, summary, wall, output), 3)
        path = staged.commit()
    return Result(scenario=sc, timeseries=pd.DataFrame(sim.rows), summary=summary, wall_time=wall,
                  path=path, output=output)



def _simulate(sc: Scenario, on_step, sim: Simulation, writer: RunWriter | None = None) -> Simulation:
    for _ in range(sc.run.steps):
        row = sim.step()
        if writer is not None:
            writer.after_step(sim)
        if on_step is not None:
            on_step(row)
    return sim
