"""What the page sends, checked: a built-in name or an uploaded file's text, and control values.

Everything goes through the scenario schema (`load_scenario`); every problem comes back tied
to the control it belongs to, so the page can show it there.  Nothing here reads a path the
page names: an uploaded file is TOML text parsed in memory, and its `extends` may name a
built-in scenario only.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from typing import Any

from ..scenario import Scenario, ScenarioError, builtin_names, load_scenario
from ..society import TooBig, check_memory
from . import levers

MAX_UPLOAD = 64 * 1024  # characters of an uploaded scenario file


@dataclass(frozen=True)
class Issue:
    """A problem shown on the page: `control` is a lever key, 'scenario' or 'upload'."""

    control: str
    key: str
    value: Any
    message: str

    def as_dict(self) -> dict:
        value = self.value if isinstance(self.value, (str, int, float, bool, type(None))) else repr(self.value)
        return {"control": self.control, "key": self.key, "value": value, "message": self.message}


class BadRequest(Exception):
    def __init__(self, issues: list[Issue]):
        self.issues = issues
        super().__init__("; ".join(f"{i.key}: {i.message}" for i in issues))


@dataclass(frozen=True)
class Resolved:
    base: Scenario              # the chosen scenario as it stands (control values not applied)
    scenario: Scenario | None   # with the control values applied: what a run would run
    issues: list[Issue]         # why `scenario` cannot run (shown next to the controls)
    source: str                 # 'builtin:NAME' or 'upload:NAME'


def parse_upload(upload: Any) -> dict:
    """An uploaded scenario file ({"name": ..., "text": ...}) as data, its `extends` checked."""
    if not isinstance(upload, dict) or not isinstance(upload.get("text"), str):
        raise BadRequest([Issue("upload", "upload", None, "expected the text of a .toml file")])
    text = upload["text"]
    if len(text) > MAX_UPLOAD:
        raise BadRequest([Issue("upload", "upload", f"{len(text):,} characters",
                                f"allowed: a scenario file of at most {MAX_UPLOAD:,} characters")])
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise BadRequest([Issue("upload", "upload", None, f"not valid TOML: {exc}")]) from None
    parent = data.get("extends")
    if parent is not None and parent not in builtin_names():
        raise BadRequest([Issue("upload", "extends", parent,
                                "the dashboard reads no files: allowed here are the built-in scenarios "
                                + ", ".join(builtin_names()))])
    return data


def _base_source(request: dict) -> tuple[Any, str]:
    upload = request.get("upload")
    if upload is not None:
        data = parse_upload(upload)
        name = str(upload.get("name") or "uploaded.toml")
        data.setdefault("name", name.rsplit(".", 1)[0][:80] or "uploaded")
        return data, f"upload:{name}"
    name = request.get("scenario")
    if name not in builtin_names():
        raise BadRequest([Issue("scenario", "scenario", name,
                                "allowed: a built-in scenario (" + ", ".join(builtin_names()) + ") or an uploaded file")])
    return name, f"builtin:{name}"


def _bound_issue(key: str, value: Any) -> Issue | None:
    """An issue if a value (months for run.steps) is outside the dashboard's tighter bounds."""
    lo, hi = levers.DASHBOARD_BOUNDS[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or lo <= value <= hi:
        return None  # the schema names a value of the wrong type
    if key == "run.steps":
        months = levers.MONTHS
        return Issue(key, key, value / months, f"allowed in the dashboard: {lo // months} to {hi // months} years")
    return Issue(key, key, value, f"allowed in the dashboard: {lo:,} to {hi:,}; larger runs: `credsim run`")


def _bound_issues(values: dict) -> list[Issue]:
    found = (_bound_issue(key, value) for key, value in values.items() if key in levers.DASHBOARD_BOUNDS)
    return [issue for issue in found if issue is not None]


def _check_values(values: Any) -> dict:
    if not isinstance(values, dict):
        raise BadRequest([Issue("scenario", "values", None, "expected an object of control values")])
    issues = []
    for key, value in values.items():
        if key not in levers.LEVERS:
            issues.append(Issue("scenario", str(key), value, "not a control of the dashboard"))
        elif not isinstance(value, (bool, int, float)):
            issues.append(Issue(key, key, value, "allowed: a number or true/false"))
    if issues:
        raise BadRequest(issues)
    return values


def _issues(exc: ScenarioError, fallback: str | None) -> list[Issue]:
    """Problems tied to their controls; with `fallback`, all tied to that one."""
    out = []
    for p in exc.problems:
        control = fallback or levers.control_of(p.key) or "scenario"
        value = p.value / levers.MONTHS if control == "run.steps" and isinstance(p.value, (int, float)) else p.value
        out.append(Issue(control, p.key, value, p.message))
    return out


def resolve_request(request: Any) -> Resolved:
    """The base scenario and the scenario to run with every problem of the control values.

    Raises `BadRequest` when there is no base scenario to show (an unknown name, a bad upload).
    """
    if not isinstance(request, dict):
        raise BadRequest([Issue("scenario", "request", None, "expected a JSON object")])
    source, ident = _base_source(request)
    try:
        base = load_scenario(source)
    except ScenarioError as exc:
        raise BadRequest(_issues(exc, "upload" if ident.startswith("upload:") else "scenario")) from None
    overrides = levers.overrides(_check_values(request.get("values") or {}))
    issues = _bound_issues(overrides)  # before the schema, whose bounds are wider
    if issues:
        return Resolved(base, None, issues, ident)
    try:
        scenario = load_scenario(base, overrides=overrides)
    except ScenarioError as exc:
        return Resolved(base, None, _issues(exc, None), ident)
    issues = _bound_issues({key: levers.lookup(scenario, key) for key in levers.DASHBOARD_BOUNDS})
    if not issues:
        try:
            check_memory(scenario)
        except TooBig as exc:
            issues.append(Issue("population.agents", "population.agents", scenario.population.agents, str(exc)))
    return Resolved(base, None if issues else scenario, issues, ident)


def describe(resolved: Resolved) -> dict:
    """What the page shows of a scenario: its name, description and controls."""
    base = resolved.base
    return {
        "name": base.name,
        "source": resolved.source,
        "description": " ".join(base.description.split()),
        "timeline": len(base.timeline),
        "levers": levers.specs(base),
        "problems": [i.as_dict() for i in resolved.issues],
    }
