"""The sweep file (TOML): a base scenario, parameters by dotted key, replicates, outcomes.

The expansion rule, stated once (as Agents.jl's `paramscan`): under `[parameters]`

- a **list** expands: its values are a grid axis (`"scoring.decay" = [0.01, 0.02]`);
- a **range** goes to the sampler (`"scoring.decay" = { range = [0.0, 0.05] }`);
- **anything else is a constant** (`"population.agents" = 5000`).

The long form `{ values = [...] }`, `{ range = [lo, hi] }` or `{ value = x }` may carry a role,
`role = "lever"` or `role = "uncertainty"` (the XLRM framing of exploratory modelling); a
setting whose value is itself a list is written `{ value = [...] }`.  Dotted keys may be
quoted (`"scoring.decay" = ...`) or written as TOML tables (`scoring.decay = ...`).

Errors are `SweepError`s (a `ScenarioError`): each names the key, the value and what is
allowed, and the command line answers them with exit status 2.
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ..scenario.errors import Problem, ScenarioError, from_validation_error, suggest
from ..scenario.load import finite

REDUCTIONS = ("final", "mean", "sum", "min", "max", "last_year")
Reduction = Literal["final", "mean", "sum", "min", "max", "last_year"]
Role = Literal["uncertainty", "lever"]
SPEC_KEYS = ("values", "range", "value", "role")
SAMPLERS = ("sobol", "latin", "morris")


class SweepError(ScenarioError):
    """Bad sweep input (file, key or value).  The CLI prints it and exits with status 2."""

    def __init__(self, problems: list[Problem], source: str = ""):
        super().__init__(problems, source)
        body = "\n".join(f"  - {p}" for p in problems)
        self.args = (f"invalid sweep{f' {source}' if source else ''}:\n{body}",)

    def __str__(self) -> str:
        return self.args[0]


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Parameter(_Frozen):
    """One scenario setting: a grid axis (`values`), a sampled range (`range`) or a constant."""

    values: tuple[Any, ...] | None = None
    range: tuple[float, float] | None = None
    value: Any = None
    role: Role | None = None

    @model_validator(mode="after")
    def _one_kind(self):
        given = [k for k in ("values", "range", "value") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of values (a grid axis), range (sampled) or value "
                             f"(a constant); got {', '.join(given) or 'none'}")
        if self.values is not None and not self.values:
            raise ValueError("values: allowed: a non-empty list")
        if self.values is not None:
            seen = [json.dumps(v, sort_keys=True) for v in self.values]
            if len(set(seen)) != len(seen):
                raise ValueError("values: allowed: distinct values (a repeated value would be a "
                                 "repeated grid point; use replicates for repeated runs)")
        if self.range is not None and not self.range[0] < self.range[1]:
            raise ValueError(f"range: allowed: [low, high] with low < high; got {list(self.range)}")
        return self

    @property
    def kind(self) -> str:
        return "grid" if self.values is not None else "sampled" if self.range is not None else "constant"


class Sampler(_Frozen):
    """How ranges are sampled (SALib): Sobol' (Saltelli's scheme), Latin hypercube or Morris."""

    method: Literal["sobol", "latin", "morris"]
    n: Annotated[int, Field(ge=1, le=10_000_000)]
    levels: Annotated[int, Field(ge=2, le=100)] | None = None

    @model_validator(mode="after")
    def _check(self):
        if self.method == "sobol" and self.n & (self.n - 1):
            raise ValueError(f"n = {self.n}: allowed for sobol: a power of two (e.g. 16, 64, 256); "
                             "the Sobol' sequence only balances at powers of two")
        if self.levels is not None and self.method != "morris":
            raise ValueError("levels: allowed only with method = \"morris\"")
        return self

    @property
    def morris_levels(self) -> int:
        return self.levels or 4


class SweepSpec(_Frozen):
    """A validated sweep file."""

    name: Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")]
    description: str = ""
    scenario: Annotated[str, Field(min_length=1)]
    seed: Annotated[int, Field(ge=0, le=2**63 - 1)] = 1
    replicates: Annotated[int, Field(ge=1, le=1_000_000)] = 1
    retries: Annotated[int, Field(ge=0, le=10)] = 2
    parameters: dict[str, Parameter] = {}
    sampler: Sampler | None = None
    outcomes: dict[str, tuple[Reduction, ...]]

    @field_validator("outcomes", mode="before")
    @classmethod
    def _outcome_lists(cls, v):
        if isinstance(v, dict):
            return {k: (r,) if isinstance(r, str) else r for k, r in v.items()}
        return v

    def of_kind(self, kind: str) -> dict[str, Parameter]:
        return {k: p for k, p in self.parameters.items() if p.kind == kind}

    @property
    def measures(self) -> list[str]:
        """The names of the reduced outcomes: `<column>_<reduction>`, in file order."""
        return [f"{c}_{r}" for c, rs in self.outcomes.items() for r in rs]

    def digest(self) -> str:
        """A hash of everything in the file that decides the runs (not name or description)."""
        data = self.model_dump(mode="json", exclude={"name", "description"})
        return hashlib.sha256(json.dumps(finite(data), sort_keys=True).encode()).hexdigest()[:16]


def flatten_parameters(table: Any) -> tuple[dict[str, Any], list[Problem]]:
    """The `[parameters]` table as {dotted key: long-form dict}, with problems found."""
    if not isinstance(table, dict):
        return {}, [Problem("parameters", table, "allowed: a table of dotted scenario keys")]
    out: dict[str, Any] = {}
    problems: list[Problem] = []

    def walk(prefix: str, node: dict) -> None:
        for key, value in node.items():
            dotted = f"{prefix}.{key}" if prefix else key
            if isinstance(value, dict) and not any(k in SPEC_KEYS for k in value):
                if not value:
                    problems.append(Problem(f'parameters."{dotted}"', value, "allowed: a value, a list of "
                                            "values, { range = [low, high] } or { value = ... }"))
                walk(dotted, value)
            elif isinstance(value, dict):
                for k in value:
                    if k not in SPEC_KEYS:
                        hint = suggest(k, list(SPEC_KEYS))
                        problems.append(Problem(f'parameters."{dotted}".{k}', value[k], "unknown key"
                                                + (f"; did you mean '{hint}'?" if hint else ".")
                                                + f" Allowed here: {', '.join(SPEC_KEYS)}"))
                out[dotted] = value
            elif isinstance(value, list):
                out[dotted] = {"values": value}
            else:
                out[dotted] = {"value": value}

    walk("", table)
    return out, problems




def parse_spec(data: dict, source: str = "", default_name: str = "sweep") -> SweepSpec:
    """Validate the data of a sweep file (raises `SweepError` naming every problem)."""
    if not isinstance(data, dict):
        raise SweepError([Problem("", data, "allowed: a TOML table")], source)
    data = dict(data)
    data.setdefault("name", re.sub(r"[^A-Za-z0-9._-]", "-", default_name).lstrip("._-") or "sweep")
    params, problems = flatten_parameters(data.get("parameters", {}))
    if problems:
        raise SweepError(problems, source)
    data["parameters"] = params
    try:
        spec = SweepSpec.model_validate(data)
    except ValidationError as exc:
        problems = []
        for p in from_validation_error(exc, SweepSpec, data):
            key = p.key
            for name in params:  # parameters.scoring.decay.values -> parameters."scoring.decay".values
                if key.startswith(f"parameters.{name}"):
                    key = f'parameters."{name}"' + key[len(f"parameters.{name}"):]
                    break
            problems.append(Problem(key, p.value, p.message))
        raise SweepError(problems, source) from None
    problems = _cross_check(spec)
    if problems:
        raise SweepError(problems, source)
    return spec


def _cross_check(spec: SweepSpec) -> list[Problem]:
    problems = []
    if not spec.outcomes:
        problems.append(Problem("outcomes", {}, "allowed: at least one time-series column with its reductions, "
                                "e.g. blacklist_share = [\"final\", \"mean\"]"))
    for column, reductions in spec.outcomes.items():
        if not reductions or len(set(reductions)) != len(reductions):
            problems.append(Problem(f"outcomes.{column}", list(reductions),
                                    f"allowed: one or more distinct reductions of {', '.join(REDUCTIONS)}"))
    sampled = list(spec.of_kind("sampled"))
    if sampled and spec.sampler is None:
        problems.append(Problem("sampler", "(missing)", f"parameters {', '.join(sampled)} have a range; add "
                                f"[sampler] with method = one of {', '.join(SAMPLERS)} and n"))
    if spec.sampler is not None and not sampled:
        problems.append(Problem("sampler.method", spec.sampler.method,
                                "no parameter has a range to sample; allowed: a [sampler] with at least one "
                                "parameter written { range = [low, high] }"))
    return problems


def load_spec(path: str | Path) -> SweepSpec:
    """Read and validate a sweep file."""
    path = Path(path)
    if not path.is_file():
        raise SweepError([Problem("SWEEP_FILE", str(path), "no such file; allowed: a sweep .toml file "
                                  "(see docs/sweep.md)")])
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise SweepError([Problem("SWEEP_FILE", str(path), f"cannot be read: {exc}")]) from None
    except tomllib.TOMLDecodeError as exc:
        raise SweepError([Problem("", str(path), f"not valid TOML: {exc}")], str(path)) from None
    return parse_spec(data, str(path), default_name=path.stem)
