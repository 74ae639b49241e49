"""Policy timelines: `[[timeline]]` entries change settings at the start of a given step.

    [[timeline]]
    at = "year 10"                       # or a step number, "step 120", "month 120"
    set = { "lists.naming" = false, "channels.cameras.coverage" = 0.9 }

Entries apply in order of `at`, cumulatively: from its step on, the run follows the scenario
with every earlier entry's and this entry's `set` applied, validated exactly like `--set`.
Keys that shape the society built at the start cannot change mid-run.
"""

from __future__ import annotations

import re
from typing import Any, Mapping

from .errors import Problem, ScenarioError

FIXED_SECTIONS = ("name", "description", "run", "population", "network", "timeline", "output")
FIXED_KEYS = ("scoring.grades",)
_AT = re.compile(r"^\s*(year|years|step|month)?\s*([0-9]+(?:\.[0-9]+)?)\s*$", re.IGNORECASE)


def parse_at(at: Any) -> int:
    """`60`, "step 60", "month 60" -> 60; "year 5" -> 60 (the first month of year 6)."""
    if isinstance(at, bool):
        raise ValueError("allowed: a step number, 'step N', 'month N' or 'year Y'")
    if isinstance(at, int):
        if at < 0:
            raise ValueError("allowed: a step number >= 0")
        return at
    if isinstance(at, str):
        m = _AT.match(at)
        if m:
            unit, number = (m.group(1) or "step").lower(), float(m.group(2))
            steps = number * 12 if unit.startswith("year") else number
            if steps == int(steps):
                return int(steps)
            raise ValueError(f"'{at}' is not a whole number of months")
    raise ValueError("allowed: a step number, 'step N', 'month N' or 'year Y' (e.g. 'year 5')")


def flatten(values: Mapping, prefix: str = "") -> dict[str, Any]:
    """{"lists": {"naming": False}} and {"lists.naming": False} -> {"lists.naming": False}."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        full = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, Mapping) and value:
            out.update(flatten(value, full))
        else:
            out[full] = value
    return out


def fixed_key(key: str) -> str | None:
    """The reason a key cannot change mid-run, or None."""
    head = key.split(".")[0].split("[")[0]
    if head in FIXED_SECTIONS:
        return f"'{head}' cannot change mid-run (the society and the run are set up once)"
    for fixed in FIXED_KEYS:
        if key == fixed or key.startswith(fixed + ".") or key.startswith(fixed + "["):
            return f"'{fixed}' cannot change mid-run (the time series' grade columns are fixed)"
    return None


def check_entries(raw: Any) -> list[dict[str, Any]]:
    """Normalise `[[timeline]]` entries to {"at": as given, "set": {dotted key: value}}, in
    file order; raise `ScenarioError` naming each problem."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise ScenarioError([Problem("timeline", raw, "allowed: a list of [[timeline]] entries with `at` and `set`")])
    problems: list[Problem] = []
    parsed = []
    for i, entry in enumerate(raw):
        where = f"timeline[{i}]"
        if not isinstance(entry, Mapping):
            problems.append(Problem(where, entry, "allowed: a table with `at` and `set`"))
            continue
        extra = sorted(set(entry) - {"at", "set"})
        for key in extra:
            problems.append(Problem(f"{where}.{key}", entry[key], "unknown key; allowed: at, set"))
        try:
            parse_at(entry.get("at"))
        except ValueError as exc:
            problems.append(Problem(f"{where}.at", entry.get("at"), str(exc)))
        sets = entry.get("set")
        if not isinstance(sets, Mapping) or not sets:
            problems.append(Problem(f"{where}.set", sets, "allowed: a table of dotted keys and values, e.g. set = { \"lists.naming\" = false }"))
            continue
        flat = flatten(sets)
        for key, value in flat.items():
            reason = fixed_key(key)
            if reason:
                problems.append(Problem(f"{where}.set.{key}", value, reason))
        parsed.append({"at": entry["at"], "set": flat})
    if problems:
        raise ScenarioError(problems)
    return parsed
