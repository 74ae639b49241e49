"""The Python API: `credsim.run(scenario, **overrides)`."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

import pandas as pd

from .engine import Simulation
from .output import write_run
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
    summary.json).  Raises `credsim.ScenarioError` for bad input and `credsim.TooBig` when the
    run would not fit in the memory available (`memory_check=False` tries anyway).
    """
    sc = resolve(scenario, sets, **overrides)
    if out is not None:
        from .output.rundir import check_out_dir

        check_out_dir(Path(out))
    start = time.perf_counter()
    sim = Simulation(sc, memory_check=memory_check)
    for _ in range(sc.run.steps):
        row = sim.step()
        if on_step is not None:
            on_step(row)
    summary = sim.summary()
    wall = time.perf_counter() - start
    path = write_run(Path(out), sc, sim.rows, summary, wall) if out is not None else None
    return Result(scenario=sc, timeseries=pd.DataFrame(sim.rows), summary=summary, wall_time=wall, path=path)
