"""The Python API: `credsim.run(scenario, **overrides)`."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

import pandas as pd

from .engine import Simulation
from .engine.checkpoint import read_extra
from .output import RunWriter, StagedRun, finish_run, provenance_metadata
from .output.rundir import check_out_dir, checkpoint_of
from .scenario import DEFAULT_SCENARIO, Scenario, load_scenario, to_toml

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
        should_stop: Callable[[], bool] | None = None, memory_check: bool = True,
        **overrides: Any) -> Result:
    """Run a scenario (a built-in name, a TOML path, a dict or a `Scenario`).

    >>> result = credsim.run("seed", agents=10_000, steps=24, seed=3)
    >>> result.timeseries[["step", "blacklist_share"]]

    With `out`, the run folder is written there (scenario.toml, timeseries.parquet,
    summary.json, the register and snapshots, report.html; see docs/report.md), under a hidden
    name renamed when complete.  Raises `credsim.ScenarioError` for bad input and
    `credsim.TooBig` when the run would not fit in the memory available (`memory_check=False`
    tries anyway).  A run with a folder writes checkpoints (`output.checkpoint_every`); when
    `should_stop()` turns true it stops after the step, checkpoints and raises
    `RunInterrupted`; `credsim.resume(out)` continues it.
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
        (staged.tmp / "scenario.toml").write_text(to_toml(sc), encoding="utf-8")
        writer = RunWriter(staged.tmp, sim, provenance_metadata(sc))
        return _finish(staged, sc, sim, writer, on_step, should_stop, 0.0)


def resume(run_dir: str | Path, *, on_step: Callable[[dict], None] | None = None,
           should_stop: Callable[[], bool] | None = None, memory_check: bool = True) -> Result:
    """Continue an interrupted run from its last checkpoint (`credsim run --resume RUN_DIR`).

    The finished folder is byte for byte what the run would have written without the
    interruption (summary.json's timings aside).
    """
    with StagedRun(Path(run_dir), resume=True) as staged:
        sc = load_scenario(staged.tmp / "scenario.toml")
        ckpt = checkpoint_of(staged.tmp)
        sim = Simulation.from_checkpoint(sc, ckpt, memory_check=memory_check)
        elapsed = float(read_extra(ckpt).get("wall_time", 0.0))
        writer = RunWriter(staged.tmp, sim, provenance_metadata(sc))
        writer.resume(sim.state.step)
        return _finish(staged, sc, sim, writer, on_step, should_stop, elapsed)


class RunInterrupted(Exception):
    """A run stopped on request after writing a checkpoint; `credsim run --resume` continues it."""

    def __init__(self, out: Path, step: int, steps: int):
        self.out, self.step, self.steps = out, step, steps
        super().__init__(f"interrupted after step {step} of {steps}; resume with: credsim run --resume {out}")


def checkpoint_interval(sc: Scenario) -> int:
    """Steps between checkpoints: `output.checkpoint_every`, or by size when it is 0 (about
    every minute of a run on 2 cores: 12 steps from 1M persons, 24 from 100k, else 60)."""
    if sc.output.checkpoint_every:
        return sc.output.checkpoint_every
    n = sc.population.agents
    return 12 if n >= 1_000_000 else 24 if n >= 100_000 else 60


def _finish(staged, sc: Scenario, sim: Simulation, writer: RunWriter, on_step, should_stop,
            elapsed: float) -> Result:
    start = time.perf_counter() - elapsed
    every = checkpoint_interval(sc)

    def checkpoint() -> None:
        writer.checkpoint(sim.state.step)
        staged.save_checkpoint(lambda folder: sim.save_checkpoint(
            folder, {"wall_time": time.perf_counter() - start}))

    while sim.state.step < sc.run.steps:
        row = sim.step()
        writer.after_step(sim)
        if on_step is not None:
            on_step(row)
        done = sim.state.step
        if should_stop is not None and should_stop() and done < sc.run.steps:
            checkpoint()
            raise RunInterrupted(staged.out, done, sc.run.steps)
        if done % every == 0 and done < sc.run.steps:
            checkpoint()
    summary = sim.summary()
    output = writer.close(sim)
    wall = time.perf_counter() - start
    output["report_s"] = round(finish_run(staged, sc, sim.rows, summary, wall, output), 3)
    path = staged.commit()
    return Result(scenario=sc, timeseries=pd.DataFrame(sim.rows), summary=summary, wall_time=wall,
                  path=path, output=output)


def _simulate(sc: Scenario, on_step, sim: Simulation) -> Simulation:
    for _ in range(sc.run.steps):
        row = sim.step()
        if on_step is not None:
            on_step(row)
    return sim
