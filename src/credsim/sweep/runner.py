"""`run_sweep`: plan, skip what is done, run the rest, record every result as it comes, assemble."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from .assemble import assemble
from .executors import EXECUTORS, RunFn, execute
from .plan import Plan, plan_sweep
from .store import SweepDir
from .task import RunResult, run_task


@dataclass
class SweepSummary:
    out: Path
    runs: int               # planned
    reused: int             # finished in an earlier attempt, not computed again
    succeeded: int = 0      # computed now
    failed: int = 0         # computed now, and failed (recorded in runs/point=P/rep=R.error.json)
    wall_s: float = 0.0
    run_s: float = 0.0      # sum of the computed runs' wall times
    errors: list[str] = field(default_factory=list)  # the first few


def default_out(name: str) -> Path:
    return Path("sweeps") / name


def run_sweep(sweep_file: str | Path, out: str | Path | None = None, executor: str = "processes",
              workers: int | None = None, scheduler: str | None = None,
              on_start: Callable[[Plan, int], None] | None = None,
              on_result: Callable[[RunResult], None] | None = None, fn: RunFn = run_task) -> SweepSummary:
    """Run every run of a sweep that has no result yet in `out`, then (re)build the combined outputs.

    `executor` is `sequential`, `processes` (this machine's cores) or `dask` (a local cluster,
    or the cluster at `scheduler`: an address such as tcp://host:8786 or a scheduler file).
    `on_start(plan, reused)` is called once the folder is ready; `on_result(result)` after
    each run is recorded.  Raises `SweepError` or `RunFolderError` for bad input.
    """
    if executor not in EXECUTORS:
        raise ValueError(f"executor {executor!r}; allowed: {', '.join(EXECUTORS)}")
    if scheduler is not None and executor != "dask":
        raise ValueError("a scheduler address needs executor='dask'")
    start = time.perf_counter()
    path = Path(sweep_file)
    plan = plan_sweep(path)
    folder = SweepDir(Path(out) if out is not None else default_out(plan.spec.name))
    folder.prepare(plan, path.read_text(encoding="utf-8"))
    done = {(p, r) for p, r in folder.finished() if p < plan.n_points and r < plan.spec.replicates}
    summary = SweepSummary(out=folder.root, runs=plan.n_runs, reused=len(done))
    if on_start is not None:
        on_start(plan, len(done))
    for result in execute(plan.tasks(skip=done), executor, workers, scheduler, plan.spec.retries, fn):
        folder.write(result)
        if result.ok:
            summary.succeeded += 1
            summary.run_s += result.wall_s
        else:
            summary.failed += 1
            if len(summary.errors) < 5:
                summary.errors.append(f"point {result.point}, replicate {result.replicate}: {result.error}")
        if on_result is not None:
            on_result(result)
    assemble(folder, plan)
    summary.wall_s = time.perf_counter() - start
    return summary
