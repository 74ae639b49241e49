"""Scenario errors that a user can act on: each names the key, the value and what is allowed."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any, get_args, get_origin

from pydantic import BaseModel, ValidationError


@dataclass(frozen=True)
class Problem:
    key: str
    value: Any
    message: str

    def __str__(self) -> str:
        key = self.key or "(top level)"
        if self.value is _SECTION:
            return f"{key}: {self.message}"
        shown = "(missing)" if self.value is _MISSING else repr(self.value)
        return f"{key} = {shown}: {self.message}"


_MISSING = object()
_SECTION = object()  # a problem of a whole section (several keys together)


class ScenarioError(ValueError):
    """Bad scenario input (file, key or value).  The CLI prints it and exits with status 2."""

    def __init__(self, problems: list[Problem], source: str = ""):
        self.problems = problems
        self.source = source
        head = f"invalid scenario{f' {source}' if source else ''}"
        body = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"{head}:\n{body}")


def dotted(loc: tuple) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _model_at(model: type[BaseModel], loc: tuple) -> type[BaseModel] | None:
    """The pydantic model that holds the last element of `loc`, or None."""
    current: Any = model
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return None
        field = current.model_fields.get(part)
        if field is None:
            return None
        current = _unwrap(field.annotation)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return current
    return None


def _unwrap(annotation: Any) -> Any:
    """Tuple[X, ...] -> X; Annotated/Optional peeled to the model inside, if any."""
    origin = get_origin(annotation)
    if origin is None:
        return annotation
    for arg in get_args(annotation):
        inner = _unwrap(arg)
        if isinstance(inner, type) and issubclass(inner, BaseModel):
            return inner
    return annotation


def suggest(word: str, choices: list[str]) -> str | None:
    match = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return match[0] if match else None


def from_validation_error(err: ValidationError, root: type[BaseModel], data: Any) -> list[Problem]:
    problems = []
    for e in err.errors():
        loc = tuple(e.get("loc", ()))
        key = dotted(loc)
        value = e.get("input", _MISSING)
        if e["type"] == "extra_forbidden":
            holder = _model_at(root, loc)
            allowed = sorted(holder.model_fields) if holder else []
            hint = suggest(str(loc[-1]), allowed)
            msg = "unknown key"
            if hint:
                msg += f"; did you mean '{dotted(loc[:-1] + (hint,))}'?"
            if allowed:
                msg += f"{'' if hint else '.'} Allowed here: {', '.join(allowed)}"
            problems.append(Problem(key, value, msg))
            continue
        msg = e.get("msg", "invalid value")
        if msg.startswith("Value error, "):
            msg = msg[len("Value error, "):]
        if isinstance(value, dict) and e["type"] not in ("model_type", "dict_type"):
            value = _SECTION
        problems.append(Problem(key, value, _allowed_phrase(msg)))
    return problems


def _allowed_phrase(msg: str) -> str:
    replacements = {
        "Input should be ": "allowed: ",
        "Input should have ": "allowed: ",
        "Field required": "required",
    }
    for a, b in replacements.items():
        if msg.startswith(a):
            return b + msg[len(a):]
    return msg
