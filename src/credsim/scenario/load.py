"""Loading scenarios: built-in names, TOML files, dicts; `extends`; `--set` overrides."""

from __future__ import annotations

import copy
import hashlib
import json
import math
import re
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any, Iterable, Mapping

import tomli_w
from pydantic import ValidationError

from .errors import Problem, ScenarioError, from_validation_error, suggest
from .schema import Scenario
from .timeline import check_entries

BUILTIN_PACKAGE = "credsim.scenario.builtin"
DEFAULT_SCENARIO = "seed"


def builtin_names() -> list[str]:
    files = resources.files(BUILTIN_PACKAGE).iterdir()
    order = ["baseline", "sesame", "court-blacklist", "rongcheng", "seed", "safeguards",
             "seed-lifted", "seed-reformed"]
    names = sorted(p.name[:-5] for p in files if p.name.endswith(".toml"))
    return [n for n in order if n in names] + [n for n in names if n not in order]


def builtin_summary(name: str) -> str:
    """The first sentence of a built-in scenario's description, without its full stop."""
    desc = " ".join(str(load_raw(name).get("description", "")).split())
    return desc.split(". ")[0].rstrip(".")


def _builtin_text(name: str) -> str:
    return resources.files(BUILTIN_PACKAGE).joinpath(f"{name}.toml").read_text(encoding="utf-8")


def _parse_toml(text: str, source: str) -> dict:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError([Problem("", source, f"not valid TOML: {exc}")], source) from None


def _read_source(source: str | Path, chain: tuple[str, ...]) -> tuple[dict, str, Path | None]:
    """Raw data of a built-in or a file, with its `extends` already merged in."""
    text_source = str(source)
    if isinstance(source, str) and source in builtin_names():
        data = _parse_toml(_builtin_text(source), source)
        ident, base_dir, default_name = f"builtin:{source}", None, source
    else:
        path = Path(source)
        if not path.is_file():
            names = builtin_names()
            hint = suggest(text_source, names)
            msg = "no such built-in scenario or file; built-ins: " + ", ".join(names)
            if hint:
                msg = f"did you mean '{hint}'? " + msg
            raise ScenarioError([Problem("scenario", text_source, msg)])
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ScenarioError([Problem("scenario", text_source, f"cannot be read: {exc}")]) from None
        data = _parse_toml(text, text_source)
        ident, base_dir, default_name = str(path.resolve()), path.resolve().parent, path.stem
    if ident in chain:
        raise ScenarioError([Problem("extends", text_source, "extends itself (a cycle): " + " -> ".join(chain + (ident,)))])
    data.setdefault("name", default_name)
    parent = data.pop("extends", None)
    if parent is not None:
        data = _merge(_resolve_parent(parent, base_dir, chain + (ident,)), data)
    return data, ident, base_dir


def _resolve_parent(parent: Any, base_dir: Path | None, chain: tuple[str, ...]) -> dict:
    if not isinstance(parent, str):
        raise ScenarioError([Problem("extends", parent, "allowed: a built-in name or a path to a .toml file")])
    if parent not in builtin_names() and base_dir is not None and not Path(parent).is_absolute():
        candidate = base_dir / parent
        if candidate.is_file():
            parent = str(candidate)
    parent_data, _, _ = _read_source(parent, chain)
    parent_data.pop("name", None)
    parent_data.pop("description", None)
    return parent_data


def _merge(base: dict, top: Mapping) -> dict:
    """Deep merge: tables merge key by key, timelines add up, everything else is replaced."""
    out = copy.deepcopy(base)
    for key, value in top.items():
        if key == "timeline" and isinstance(value, list) and isinstance(out.get(key), list):
            out[key] = copy.deepcopy(out[key]) + copy.deepcopy(value)  # timelines add up
        elif isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


_INDEX = re.compile(r"\[(\d+)\]")


def parse_assignment(text: str) -> tuple[str, Any]:
    """`a.b=1` -> ("a.b", 1).  The value is read as a TOML value, else kept as a string."""
    if "=" not in text:
        raise ScenarioError([Problem(text, "(no value)", "allowed: KEY=VALUE, e.g. scoring.network_weight=0")])
    key, raw = text.split("=", 1)
    key, raw = key.strip(), raw.strip()
    if not key:
        raise ScenarioError([Problem("(empty key)", raw, "allowed: KEY=VALUE with a dotted key")])
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw
    return key, value


def set_dotted(data: dict, key: str, value: Any) -> None:
    """Assign `value` at a dotted key (`rules.0.points` or `rules[0].points` index lists)."""
    parts = [p for p in _INDEX.sub(r".\1", key).split(".")]
    target: Any = data
    for i, part in enumerate(parts[:-1]):
        here = ".".join(parts[: i + 1])
        if isinstance(target, list):
            target = _list_item(target, part, here, value)
            continue
        nxt = target.get(part)
        if nxt is None:
            nxt = [] if parts[i + 1].isdigit() else {}
            target[part] = nxt
        if not isinstance(nxt, (dict, list)):
            raise ScenarioError([Problem(key, value, f"'{here}' is a value, not a section")])
        target = nxt
    last = parts[-1]
    if isinstance(target, list):
        idx = _index(last, len(target), key, value)
        if idx == len(target):
            target.append(value)
        else:
            target[idx] = value
    else:
        target[last] = value


def _index(part: str, length: int, key: str, value: Any) -> int:
    if not part.isdigit() or int(part) > length:
        raise ScenarioError([Problem(key, value, f"list index '{part}' out of range; allowed: 0..{length}")])
    return int(part)


def _list_item(target: list, part: str, here: str, value: Any) -> Any:
    idx = _index(part, len(target), here, value)
    if idx == len(target):
        target.append({})
    return target[idx]


def load_raw(source: str | Path | Mapping | Scenario = DEFAULT_SCENARIO) -> dict:
    """The merged, unvalidated data of a scenario source."""
    if isinstance(source, Scenario):
        return scenario_to_dict(source)
    if isinstance(source, Mapping):
        data = copy.deepcopy(dict(source))
        data.setdefault("name", "custom")
        parent = data.pop("extends", None)
        if parent is not None:
            data = _merge(_resolve_parent(parent, None, ()), data)
        return data
    data, _, _ = _read_source(source, ())
    return data


def load_scenario(
    source: str | Path | Mapping | Scenario = DEFAULT_SCENARIO,
    sets: Iterable[str] = (),
    overrides: Mapping[str, Any] | None = None,
) -> Scenario:
    """Resolve and validate a scenario.  Raises `ScenarioError` naming every problem."""
    data = load_raw(source)
    for text in sets:
        key, value = parse_assignment(text)
        set_dotted(data, key, value)
    for key, value in (overrides or {}).items():
        set_dotted(data, key, value)
    return validate_data(data, source=str(source) if isinstance(source, (str, Path)) else "")


def validate_data(data: dict, source: str = "") -> Scenario:
    try:
        data = dict(data, timeline=check_entries(data.get("timeline")))
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(from_validation_error(exc, Scenario, data), source) from None
    except ScenarioError as exc:
        raise ScenarioError(exc.problems, source) from None
    timeline_scenarios(scenario, source)
    return scenario


def timeline_scenarios(scenario: Scenario, source: str = "") -> list[tuple[int, Scenario, int]]:
    """(step, scenario in force from that step, number of keys set) for each timeline entry.

    Entries apply cumulatively in order; each resulting scenario is validated like `--set`.
    """
    data = scenario_to_dict(scenario)
    data["timeline"] = []
    out = []
    order = sorted(range(len(scenario.timeline)), key=lambda k: (scenario.timeline[k].step, k))
    for i in order:
        entry = scenario.timeline[i]
        for key, value in entry.set.items():
            try:
                set_dotted(data, key, value)
            except ScenarioError as exc:
                raise ScenarioError([Problem(f"timeline[{i}].set.{p.key}", p.value, p.message)
                                     for p in exc.problems], source) from None
        try:
            out.append((entry.step, Scenario.model_validate(data), len(entry.set)))
        except ValidationError as exc:
            problems = from_validation_error(exc, Scenario, data)
            raise ScenarioError([Problem(f"timeline[{i}].set.{p.key}", p.value, p.message)
                                 for p in problems], source) from None
    return out


def scenario_to_dict(scenario: Scenario) -> dict:
    return _plain(scenario.model_dump(mode="python"))


def _plain(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    return obj


def to_toml(scenario: Scenario) -> str:
    return tomli_w.dumps(scenario_to_dict(scenario))


def scenario_hash(scenario: Scenario) -> str:
    """A hash of everything that decides a run's outcome (the seed included).

    The `[output]` section is left out: it decides what is written, never what happens.
    """
    data = scenario_to_dict(scenario)
    data.pop("output", None)
    text = json.dumps(finite(data), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def finite(obj: Any) -> Any:
    """JSON-safe copy: infinities and NaN become strings ('inf', '-inf', 'nan')."""
    if isinstance(obj, dict):
        return {k: finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [finite(v) for v in obj]
    if isinstance(obj, float) and not math.isfinite(obj):
        return repr(obj)
    return obj
