"""One run of a sweep, as a worker does it: simulate, keep the chosen columns, reduce them.

The worker returns only the small result (the chosen columns step by step and the reduced
outcomes), never the society, so that memory stays flat however many runs a sweep has.  A run
that raises returns its error instead: the sweep records it and goes on.
"""

from __future__ import annotations

import threading
import time
import traceback
from dataclasses import dataclass, field

import numpy as np

from .plan import LAST_YEAR, RunTask

_RUN_LOCK = threading.Lock()  # one simulation at a time per process (Numba's thread pool is not re-entrant)


@dataclass
class RunResult:
    point: int
    replicate: int
    seed: int
    steps: np.ndarray | None = None                      # the step numbers
    series: dict[str, np.ndarray] = field(default_factory=dict)
    measures: dict[str, float] = field(default_factory=dict)
    error: str | None = None
    traceback: str | None = None
    wall_s: float = 0.0
    attempts: int = 1

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def key(self) -> tuple[int, int]:
        return (self.point, self.replicate)


def reduce(values: np.ndarray, how: str) -> float:
    """One number from a column over time: final, mean, sum, min, max or last_year (last 12 steps)."""
    v = np.asarray(values, dtype=np.float64)
    if how == "final":
        return float(v[-1])
    if how == "mean":
        return float(v.mean())
    if how == "sum":
        return float(v.sum())
    if how == "min":
        return float(v.min())
    if how == "max":
        return float(v.max())
    if how == "last_year":
        return float(v[-LAST_YEAR:].mean())
    raise ValueError(f"unknown reduction {how!r}")


def failure(task: RunTask, error: str, tb: str | None = None, attempts: int = 1) -> RunResult:
    return RunResult(task.point, task.replicate, task.seed, error=error, traceback=tb, attempts=attempts)


def run_task(task: RunTask, threads: int | None = None) -> RunResult:
    """Simulate one (point, replicate); `threads` sets Numba's thread count for the run."""
    from .. import api
    from .._version import __version__

    if task.version != __version__:
        return failure(task, f"this worker has credsim {__version__}; the sweep was planned with "
                             f"{task.version}: install the same version on every worker")
    start = time.perf_counter()
    try:
        with _RUN_LOCK:
            if threads is not None:
                import numba

                numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
            result = api.run(task.base, seed=task.seed, **task.overrides)
        ts = result.timeseries
        series = {c: ts[c].to_numpy() for c in task.outcomes}
        measures = {f"{c}_{how}": reduce(series[c], how) for c, hows in task.outcomes.items() for how in hows}
        return RunResult(task.point, task.replicate, task.seed, steps=ts["step"].to_numpy(), series=series,
                         measures=measures, wall_s=time.perf_counter() - start)
    except Exception as exc:  # noqa: BLE001 - recorded with the run; the sweep goes on
        return failure(task, f"{type(exc).__name__}: {exc}", traceback.format_exc())
