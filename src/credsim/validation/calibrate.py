"""Calibration: fit named scenario keys to targets computed from a run's time series.

A targets file (TOML):

    [settings]                  # all optional
    agents = 20000              # persons per run
    steps = 66                  # months per run
    replications = 3            # seeds per evaluation (common random numbers: seeds 1..R)
    max_evaluations = 40        # Nelder-Mead budget

    [fixed]                     # keys set in every run and in the fitted scenario (optional)
    "behaviour.rail_rate" = 0.02

    [[parameters]]              # the keys fitted, with bounds
    key = "behaviour.court_default_base"
    lo = -9.0
    hi = -5.0
    [[parameters]]              # a value set by the scenario's timeline entry 0 (by index)
    key = "timeline.0.set.behaviour.fulfil_base"
    lo = -9.0
    hi = -5.0

    [[targets]]
    statistic = "stock_growth"  # a name of STATISTICS
    value = 0.295               # the public figure
    lo = 0.27                   # accepted range (or `tolerance`, relative, for value +- tolerance)
    hi = 0.32
    source = "China Daily 2018-01-10 ..."

The objective is the sum over targets of ((simulated - value) / half-width)^2, the
simulated value being the mean over the replications.  Nelder-Mead (SciPy) searches the
parameters scaled to [0, 1] (clipped at the bounds) from each parameter's `start` (default:
the scenario's own value).
`fit` returns the fitted values and a table of target vs simulated with a 95 % interval
over replications; `fitted_toml` writes a scenario that `extends` the original.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .. import api
from ..scenario import load_scenario


def _last(ts: pd.DataFrame, months: int = 12) -> pd.DataFrame:
    return ts.iloc[-months:]


def _ratio(a: float, b: float) -> float:
    return float(a) / float(b) if b else float("nan")


def stock_growth(ts):
    """Growth of the share of persons listed, in % of persons a year (slope over the last 2 years)."""
    y = ts["blacklist_share"].to_numpy()[-24:] * 100.0
    return float(np.polyfit(np.arange(len(y)) / 12.0, y, 1)[0])


# Steps of the run (October 2013 is step 0) at which public figures were taken.
SEP_2018, END_2018 = 59, 62


def _persons(ts) -> float:
    """Persons of the run: `ts.attrs["agents"]` (set by `simulate`), else from the stock identity."""
    if "agents" in ts.attrs:
        return float(ts.attrs["agents"])
    stock = ts["blacklist_inflow"].sum() - ts["blacklist_outflow"].sum()
    return float(stock / ts["blacklist_share"].iloc[-1])


def listed_growth(ts):
    """Growth of the persons' entries made so far (cumulative, as the SPC counts the list), in %
    of persons a year: slope over the last 2 years."""
    y = np.cumsum(ts["blacklist_inflow"].to_numpy())[-24:] * 100.0 / _persons(ts)
    return float(np.polyfit(np.arange(len(y)) / 12.0, y, 1)[0])


def listed_total(ts):
    """Persons' entries made by the end of 2018 (step 62), in % of persons."""
    return float(ts["blacklist_inflow"].iloc[:END_2018 + 1].sum() * 100.0 / _persons(ts))


def flow_balance(ts):
    """Exits per entry of persons and companies together, over the last 12 months."""
    t = _last(ts)
    return _ratio(t["blacklist_outflow"].sum() + t["company_blacklist_outflow"].sum(),
                  t["blacklist_inflow"].sum() + t["company_blacklist_inflow"].sum())


def person_entry_share(ts):
    """Natural persons' share of new entries, over the last 12 months."""
    t = _last(ts)
    p = t["blacklist_inflow"].sum()
    return _ratio(p, p + t["company_blacklist_inflow"].sum())


def company_exits_per_entry(ts):
    t = _last(ts)
    return _ratio(t["company_blacklist_outflow"].sum(), t["company_blacklist_inflow"].sum())


def person_exits_per_entry(ts):
    t = _last(ts)
    return _ratio(t["blacklist_outflow"].sum(), t["blacklist_inflow"].sum())


def complied_share(ts):
    """Persons who left the list (paid) per entry, from the start to September 2018 (step 59;
    the whole run if shorter)."""
    t = ts.iloc[:SEP_2018 + 1]
    return _ratio(t["blacklist_outflow"].sum(), t["blacklist_inflow"].sum())


def flight_rail_ratio(ts):
    """Cumulative refused flight purchases per refused rail purchase."""
    return _ratio(ts["trips_refused_flight"].sum(), ts["trips_refused_rail"].sum())


STATISTICS = {f.__name__: f for f in (stock_growth, listed_growth, listed_total, flow_balance, person_entry_share,
                                      company_exits_per_entry, person_exits_per_entry,
                                      complied_share, flight_rail_ratio)}


@dataclass(frozen=True)
class Target:
    statistic: str
    value: float
    lo: float
    hi: float
    source: str = ""

    @property
    def half(self) -> float:
        return max((self.hi - self.lo) / 2.0, 1e-12)


@dataclass(frozen=True)
class Parameter:
    key: str
    lo: float
    hi: float
    start: float | None = None  # where the search starts (default: the scenario's value)


@dataclass(frozen=True)
class Spec:
    parameters: tuple
    targets: tuple
    agents: int = 20_000
    steps: int = 66
    replications: int = 3
    max_evaluations: int = 40
    fixed: tuple = ()


def read_targets(path, **settings) -> Spec:
    """A `Spec` from a targets file; keyword settings (not None) override its [settings]."""
    data = tomllib.loads(Path(path).read_text())
    unknown = set(data) - {"settings", "fixed", "parameters", "targets"}
    if unknown:
        raise ValueError(f"{path}: unknown section(s) {sorted(unknown)}; "
                         "allowed: settings, fixed, parameters, targets")
    targets = []
    for t in data.get("targets", []):
        if t["statistic"] not in STATISTICS:
            raise ValueError(f"{path}: statistic '{t['statistic']}'; allowed: {', '.join(STATISTICS)}")
        v = float(t["value"])
        tol = float(t.get("tolerance", 0.2))
        targets.append(Target(t["statistic"], v, float(t.get("lo", v * (1 - tol))),
                              float(t.get("hi", v * (1 + tol))), t.get("source", "")))
    params = tuple(Parameter(p["key"], float(p["lo"]), float(p["hi"]),
                             None if p.get("start") is None else float(p["start"]))
                   for p in data.get("parameters", []))
    for p in params:
        if p.key.startswith("timeline") and not _TIMELINE_KEY.match(p.key):
            raise ValueError(f"{path}: parameter key '{p.key}'; allowed for a timeline value: "
                             "'timeline.N.set.<dotted key>' (N the entry's index)")
    s = dict(data.get("settings", {}))
    s.update({k: v for k, v in settings.items() if v is not None})
    return Spec(params, tuple(targets), fixed=tuple(data.get("fixed", {}).items()), **s)


def simulate(scenario, spec: Spec, values: dict, seeds=None, keep: list | None = None) -> np.ndarray:
    """Statistics (replication x target) of runs of `scenario` with `values` set (each run's time
    series appended to `keep` when given)."""
    seeds = seeds or range(1, spec.replications + 1)
    out = []
    for seed in seeds:
        ts = api.run(scenario, agents=spec.agents, steps=spec.steps, seed=seed,
                     **dict(spec.fixed), **values).timeseries
        ts.attrs["agents"] = spec.agents
        if keep is not None:
            keep.append(ts)
        out.append([STATISTICS[t.statistic](ts) for t in spec.targets])
    return np.array(out, dtype=float)


def summarize(spec: Spec, stats: np.ndarray) -> pd.DataFrame:
    """Target vs simulated: mean, 95 % interval over replications, pass if the mean is in range."""
    mean = stats.mean(axis=0)
    half = 1.96 * stats.std(axis=0, ddof=1) / np.sqrt(len(stats)) if len(stats) > 1 else np.zeros(len(mean))
    rows = []
    for k, t in enumerate(spec.targets):
        rows.append({"statistic": t.statistic, "target": t.value, "range": f"{t.lo:.3g}-{t.hi:.3g}",
                     "simulated": mean[k], "interval": f"{mean[k] - half[k]:.3g}-{mean[k] + half[k]:.3g}",
                     "pass": bool(t.lo <= mean[k] <= t.hi), "source": t.source})
    return pd.DataFrame(rows)


def loss(spec: Spec, stats: np.ndarray) -> float:
    mean = np.nan_to_num(stats.mean(axis=0), nan=1e6)
    return float(sum(((m - t.value) / t.half) ** 2 for m, t in zip(mean, spec.targets)))


def fit(scenario: str, spec: Spec, log=print) -> tuple[dict, pd.DataFrame]:
    """Nelder-Mead over the parameters; returns the fitted values and the target table."""
    from scipy.optimize import minimize

    sc = load_scenario(scenario, overrides=dict(spec.fixed))
    lo = np.array([p.lo for p in spec.parameters])
    hi = np.array([p.hi for p in spec.parameters])
    start = np.array([_get(sc, p.key) if p.start is None else p.start for p in spec.parameters], float)
    x0 = np.clip((start - lo) / (hi - lo), 0.0, 1.0)

    def values(x):
        return {p.key: float(v) for p, v in zip(spec.parameters, lo + np.clip(x, 0, 1) * (hi - lo))}

    def objective(x):
        f = loss(spec, simulate(scenario, spec, values(x)))
        log(f"loss {f:10.4f}  " + "  ".join(f"{k}={v:.4g}" for k, v in values(x).items()))
        return f

    if spec.parameters and spec.max_evaluations > 0:
        res = minimize(objective, x0, method="Nelder-Mead",
                       options={"maxfev": spec.max_evaluations, "initial_simplex": _simplex(x0)})
        best = values(res.x)
    else:  # no budget: report the starting point
        best = values(x0)
    return best, summarize(spec, simulate(scenario, spec, best))


def _simplex(x0: np.ndarray) -> np.ndarray:
    """A starting simplex a quarter of the range wide, inside [0, 1]."""
    pts = [x0]
    for i in range(len(x0)):
        x = x0.copy()
        x[i] = x[i] + 0.25 if x[i] <= 0.5 else x[i] - 0.25
        pts.append(x)
    return np.array(pts)


_TIMELINE_KEY = re.compile(r"^timeline\.(\d+)\.set\.(.+)$")


def _get(sc, key: str) -> float:
    m = _TIMELINE_KEY.match(key)
    if m:  # a value set by a timeline entry (entries by index, as in the scenario file)
        return float(sc.timeline[int(m.group(1))].set[m.group(2)])
    obj = sc
    for part in key.split("."):
        obj = getattr(obj, part)
    return float(obj)


def fitted_toml(scenario: str, best: dict, table: pd.DataFrame, spec: Spec) -> str:
    """A scenario file that extends `scenario` and sets the fitted keys, the fit in comments."""
    lines = [f"# fitted by `credsim calibrate` ({spec.agents} persons, {spec.steps} months, "
             f"{spec.replications} replications)"]
    for _, r in table.iterrows():
        lines.append(f"#   {r['statistic']}: target {r['target']:.4g} ({r['range']}), simulated "
                     f"{r['simulated']:.4g} [{r['interval']}] {'pass' if r['pass'] else 'FAIL'}")
    lines.append(f'extends = "{scenario}"')
    sections: dict = {}
    entries: dict = {}
    for key, v in list(spec.fixed) + list(best.items()):
        m = _TIMELINE_KEY.match(key)
        if m:
            entries.setdefault(int(m.group(1)), []).append(f'"{m.group(2)}" = {v:.6g}')
            continue
        head, _, leaf = key.rpartition(".")
        sections.setdefault(head, []).append(f"{leaf} = {v:.6g}")
    for head, items in sections.items():
        lines += ["", f"[{head}]", *items]
    if entries:  # timelines add up: an entry at the same step, later, overrides the original's values
        original = load_scenario(scenario).timeline
        for k, items in sorted(entries.items()):
            lines += ["", "[[timeline]]", f"at = {original[k].step}", "set = { " + ", ".join(items) + " }"]
    return "\n".join(lines) + "\n"
