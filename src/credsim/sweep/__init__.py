"""Many runs: a sweep file, its plan, executors, streamed results and sensitivity analysis.

    from credsim.sweep import run_sweep, read_outcomes, open_dataset
    summary = run_sweep("examples/sweep-seed.toml", out="sweeps/seed", executor="processes")
    read_outcomes("sweeps/seed")          # one row per run
    open_dataset("sweeps/seed")           # xarray: point x replicate x step x outcome
    analyze("sweeps/sobol").table         # Sobol' or Morris indices (a sweep with a sampler)

See docs/sweep.md.
"""

from .assemble import open_dataset, read_outcomes, read_timeseries
from .plan import Plan, RunTask, build_plan, derive_seed, plan_sweep
from .runner import SweepSummary, run_sweep
from .sensitivity import Sensitivity, SensitivityError, analyze
from .spec import SweepError, SweepSpec, load_spec, parse_spec
from .task import RunResult, run_task

__all__ = [
    "Plan",
    "RunResult",
    "RunTask",
    "Sensitivity",
    "SensitivityError",
    "SweepError",
    "SweepSpec",
    "SweepSummary",
    "analyze",
    "build_plan",
    "derive_seed",
    "load_spec",
    "open_dataset",
    "parse_spec",
    "plan_sweep",
    "read_outcomes",
    "read_timeseries",
    "run_sweep",
    "run_task",
]
