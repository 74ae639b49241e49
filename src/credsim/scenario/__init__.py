"""Scenarios: the schema, loading (built-ins, files, `extends`, `--set`) and clear errors."""

from .errors import Problem, ScenarioError
from .load import (
    DEFAULT_SCENARIO,
    builtin_names,
    builtin_summary,
    load_raw,
    load_scenario,
    scenario_hash,
    scenario_to_dict,
    to_toml,
)
from .schema import Scenario

__all__ = [
    "DEFAULT_SCENARIO",
    "Problem",
    "Scenario",
    "ScenarioError",
    "builtin_names",
    "builtin_summary",
    "load_raw",
    "load_scenario",
    "scenario_hash",
    "scenario_to_dict",
    "to_toml",
]
