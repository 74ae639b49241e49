"""Many runs: a sweep file and its plan (points x replicates, each with its seed).

See docs/sweep.md.
"""

from .plan import Plan, RunTask, build_plan, derive_seed, plan_sweep
from .spec import SweepError, SweepSpec, load_spec, parse_spec

__all__ = [
    "Plan",
    "RunTask",
    "SweepError",
    "SweepSpec",
    "build_plan",
    "derive_seed",
    "load_spec",
    "parse_spec",
    "plan_sweep",
]
