"""credsim: simulate social credit systems in synthetic societies.

    import credsim
    result = credsim.run("seed", agents=10_000, steps=24)
    result.timeseries, result.summary

    run = credsim.open_run("runs/seed-1-...")        # a finished run folder
    run.sql("SELECT event, count(*) FROM register GROUP BY event")
"""

from ._version import __version__
from .api import Result, RunInterrupted, resolve, resume, run
from .engine import Simulation
from .output.runs import RunFolder, open_run
from .scenario import Scenario, ScenarioError, builtin_names, load_scenario, to_toml
from .society import TooBig

__all__ = [
    "Result",
    "RunInterrupted",
    "RunFolder",
    "Scenario",
    "ScenarioError",
    "Simulation",
    "TooBig",
    "__version__",
    "builtin_names",
    "load_scenario",
    "open_run",
    "resolve",
    "resume",
    "run",
    "to_toml",
]
