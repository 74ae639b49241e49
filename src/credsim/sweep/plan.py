"""From a sweep file to run plans: points (grid x samples), replicates and their seeds.

Points are numbered grid cell first, sample second: point = cell * samples + sample, where
grid cells run over the listed parameters in file order (the first varies slowest) and samples
are the sampler's rows (one "sample" when nothing is sampled).  Each run's seed is derived from
(root seed, point, replicate) alone (`derive_seed`), so it never depends on the order in which
runs are executed or on which of them ran before.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from .._version import __version__
from ..scenario import Scenario, ScenarioError, builtin_names, load_scenario, scenario_hash, scenario_to_dict
from ..scenario.errors import Problem, suggest
from .spec import SweepError, SweepSpec, load_spec

SAMPLER_STREAM = 2**32 - 1  # the spawn key of the sampler's own stream, apart from every (point, replicate)
FORBIDDEN = {
    "run.seed": "the seed of each run is derived from the sweep's root `seed`, the point and the "
                "replicate; set the top-level `seed` and `replicates` instead",
}
LAST_YEAR = 12


def derive_seed(root_seed: int, point: int, replicate: int) -> int:
    """The run seed of (point, replicate): SeedSequence(root, spawn_key=(point, replicate)), 63 bits."""
    state = np.random.SeedSequence(root_seed, spawn_key=(point, replicate)).generate_state(1, np.uint64)
    return int(state[0] >> np.uint64(1))


def sampler_seed(root_seed: int) -> int:
    return int(np.random.SeedSequence(root_seed, spawn_key=(SAMPLER_STREAM,)).generate_state(1)[0])


@dataclass(frozen=True)
class RunTask:
    """What a worker needs for one run; small and picklable."""

    point: int
    replicate: int
    seed: int
    overrides: dict[str, Any]
    base: dict = field(repr=False)
    outcomes: dict[str, tuple[str, ...]] = field(repr=False)
    version: str = __version__

    @property
    def key(self) -> tuple[int, int]:
        return (self.point, self.replicate)


@dataclass(frozen=True)
class Plan:
    """The expanded sweep: every point's parameter values, every run's seed."""

    spec: SweepSpec
    base: dict                     # the resolved base scenario, constants applied
    base_hash: str
    points: list[dict[str, Any]]   # point -> {dotted key: value} of the grid and sampled parameters
    steps: list[int]               # point -> number of steps
    seeds: np.ndarray              # (points, replicates) int64
    samples: int                   # sampler rows per grid cell (1 without a sampler)
    problem: dict | None           # the SALib problem of the sampled parameters
    X: np.ndarray | None           # the sampler's rows (samples x sampled parameters), unrounded

    @property
    def n_points(self) -> int:
        return len(self.points)

    @property
    def n_runs(self) -> int:
        return self.n_points * self.spec.replicates

    @property
    def cells(self) -> int:
        return self.n_points // self.samples

    def digest(self) -> str:
        """Identifies the runs: the spec's hash with the resolved base scenario's."""
        import hashlib

        return hashlib.sha256(f"{self.spec.digest()}:{self.base_hash}".encode()).hexdigest()[:16]

    def tasks(self, skip: set[tuple[int, int]] = frozenset()) -> Iterator[RunTask]:
        outcomes = dict(self.spec.outcomes)
        for p, values in enumerate(self.points):
            for r in range(self.spec.replicates):
                if (p, r) not in skip:
                    yield RunTask(p, r, int(self.seeds[p, r]), values, self.base, outcomes)



def _base_source(spec: SweepSpec, source_dir: Path | None) -> str:
    name = spec.scenario
    if name in builtin_names() or source_dir is None or Path(name).is_absolute():
        return name
    candidate = source_dir / name
    return str(candidate) if candidate.is_file() else name


def _prefixed(exc: ScenarioError, where: str) -> list[Problem]:
    return [Problem(p.key, p.value, f"{p.message} ({where})") for p in exc.problems]


def _check_keys(spec: SweepSpec) -> None:
    problems = []
    for key in spec.parameters:
        if key in FORBIDDEN:
            problems.append(Problem(f'parameters."{key}"', spec.parameters[key].model_dump(exclude_none=True),
                                    FORBIDDEN[key]))
        elif key == "output" or key.startswith("output."):
            problems.append(Problem(f'parameters."{key}"', spec.parameters[key].model_dump(exclude_none=True),
                                    "a sweep writes no run folders, so [output] settings change nothing; "
                                    "allowed: keys of the other sections"))
    if problems:
        raise SweepError(problems)


def _lookup(data: dict, key: str) -> Any:
    node: Any = data
    for part in key.replace("[", ".").replace("]", "").split("."):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node


def _sample(spec: SweepSpec, problem: dict) -> np.ndarray:
    from SALib.sample import latin, morris, sobol

    s = spec.sampler
    seed = sampler_seed(spec.seed)
    if s.method == "sobol":
        return sobol.sample(problem, s.n, calc_second_order=False, seed=seed)
    if s.method == "latin":
        return latin.sample(problem, s.n, seed=seed)
    return morris.sample(problem, s.n, num_levels=s.morris_levels, seed=seed)


def _sampled_axes(spec: SweepSpec, base: dict) -> tuple[dict | None, np.ndarray | None, list[dict]]:
    sampled = spec.of_kind("sampled")
    if not sampled:
        return None, None, [{}]
    integer = {}
    problems = []
    for key, p in sampled.items():
        current = _lookup(base, key)
        if isinstance(current, bool) or not isinstance(current, (int, float)):
            problems.append(Problem(f'parameters."{key}".range', list(p.range),
                                    f"a range needs a number setting; '{key}' is {current!r} in the base "
                                    "scenario; allowed: a list of values (a grid axis)"))
        integer[key] = isinstance(current, int) and not isinstance(current, bool)
    if problems:
        raise SweepError(problems)
    problem = {"num_vars": len(sampled), "names": list(sampled),
               "bounds": [list(p.range) for p in sampled.values()]}
    X = _sample(spec, problem)
    rows = [{k: (int(round(x)) if integer[k] else float(x)) for k, x in zip(sampled, row)} for row in X]
    return problem, X, rows


def build_plan(spec: SweepSpec, source_dir: Path | None = None) -> Plan:
    """Expand a sweep: validate the base, every parameter value and every point; derive the seeds.

    Raises `SweepError` (exit status 2) naming the key, the value and what is allowed.
    """
    _check_keys(spec)
    constants = {k: p.value for k, p in spec.of_kind("constant").items()}
    try:
        base_sc = load_scenario(_base_source(spec, source_dir), overrides=constants)
    except ScenarioError as exc:
        where = "the base scenario with the sweep's constants"
        raise SweepError(_prefixed(exc, where)) from None
    base = scenario_to_dict(base_sc)
    grid = spec.of_kind("grid")
    problems = []
    for key, p in grid.items():
        for v in p.values:
            try:
                load_scenario(base, overrides={key: v})
            except ScenarioError as exc:
                problems += _prefixed(exc, f'a value of parameters."{key}"')
    for key, p in spec.of_kind("sampled").items():
        for v in p.range:
            try:
                load_scenario(base, overrides={key: v})
            except ScenarioError as exc:
                problems += _prefixed(exc, f'an end of parameters."{key}".range')
    if problems:
        raise SweepError(problems)
    problem, X, sample_rows = _sampled_axes(spec, base)
    points, steps = [], []
    for combo in itertools.product(*(p.values for p in grid.values())):
        cell = dict(zip(grid, combo))
        for row in sample_rows:
            values = {**cell, **row}
            steps.append(_validate_point(base, values, len(points)).run.steps)
            points.append(values)
    _check_outcomes(spec, base, points[0])
    P, R = len(points), spec.replicates
    seeds = np.array([[derive_seed(spec.seed, p, r) for r in range(R)] for p in range(P)], dtype=np.int64)
    if len(np.unique(seeds)) != seeds.size:  # 63-bit seeds: a collision is astronomically unlikely
        raise RuntimeError("two runs of this sweep got the same seed; choose another root seed")
    return Plan(spec=spec, base=base, base_hash=scenario_hash(base_sc), points=points, steps=steps,
                seeds=seeds, samples=len(sample_rows), problem=problem, X=X)


def plan_sweep(sweep_file: str | Path) -> Plan:
    """Read, validate and expand a sweep file (raises `SweepError` for bad input)."""
    path = Path(sweep_file)
    spec = load_spec(path)
    try:
        return build_plan(spec, path.resolve().parent)
    except SweepError as exc:
        raise SweepError(exc.problems, str(path)) from None


def _validate_point(base: dict, values: dict, point: int) -> Scenario:
    try:
        return load_scenario(base, overrides=values)
    except ScenarioError as exc:
        shown = ", ".join(f"{k} = {json.dumps(v)}" for k, v in values.items())
        raise SweepError(_prefixed(exc, f"point {point}: {shown}")) from None


def _check_outcomes(spec: SweepSpec, base: dict, first: dict) -> None:
    """Every outcome must be a numeric time-series column: checked on one step of a small run."""
    from .. import api

    sc = load_scenario(base, overrides=first)
    agents = min(sc.population.agents, max(500, sc.population.regions))
    ts = api.run(sc, steps=1, agents=agents).timeseries
    columns = [c for c in ts.columns if ts[c].dtype.kind in "biuf"]
    problems = []
    for column in spec.outcomes:
        if column not in columns:
            hint = suggest(column, columns)
            problems.append(Problem(f"outcomes.{column}", list(spec.outcomes[column]),
                                    "not a time-series column of this scenario"
                                    + (f"; did you mean '{hint}'?" if hint else "")
                                    + f" Allowed: {', '.join(columns)}"))
    if problems:
        raise SweepError(problems)
