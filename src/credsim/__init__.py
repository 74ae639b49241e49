"""credsim: simulate social credit systems in synthetic societies.

    import credsim
    result = credsim.run("seed", agents=10_000, steps=24)
    result.timeseries, result.summary
"""

from ._version import __version__
from .api import Result, resolve, run
from .engine import Simulation
from .scenario import Scenario, ScenarioError, builtin_names, load_scenario, to_toml
from .society import TooBig

__all__ = [
    "Result",
    "Scenario",
    "ScenarioError",
    "Simulation",
    "TooBig",
    "__version__",
    "builtin_names",
    "load_scenario",
    "resolve",
    "run",
    "to_toml",
]
