"""Run functions for sweep tests, importable by worker processes (module level).

Each wraps the real `run_task`; tests bind `markers` (a folder) with `functools.partial`.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

from credsim.sweep.task import run_task


def _marker(markers: str, task, name: str) -> Path:
    return Path(markers) / f"{name}-{task.point}-{task.replicate}"


def dies(task, threads=None, *, markers: str):
    """Run (0, 0) kills its worker process the first time it is tried, run (1, 0) every time."""
    marker = _marker(markers, task, "died")
    if task.key == (1, 0) or (task.key == (0, 0) and not marker.exists()):
        marker.touch()
        os._exit(1)
    return run_task(task, threads)


def bad_point_one(task, threads=None):
    """The runs of point 1 get an invalid setting, so that the simulation itself raises."""
    if task.point == 1:
        task = dataclasses.replace(task, overrides={**task.overrides, "lists.min_term": -1})
    return run_task(task, threads)


def counting(task, threads=None, *, markers: str):
    """Leaves a marker for every run it computes."""
    _marker(markers, task, "ran").touch()
    return run_task(task, threads)
