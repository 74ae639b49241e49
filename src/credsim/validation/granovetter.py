"""Granovetter's (1978) threshold model as a special case of credsim's dissent rule.

credsim's dissent rule (docs/ODD.md, mechanisms/actions.py):
    drive = grievance_weight * grievance + cascade_weight * (share of ties who spoke out last step)
    expressed: drive - fear > threshold,   threshold = dissent_threshold_mean + dissent_threshold_sd * z
With grievance_weight 0, cascade_weight 1, no fear (no channels, no rules, fear_weight 0,
dissent_guilt 0) and every person tied to every other, a person speaks out once the share of
the others who spoke out last step exceeds its threshold: Granovetter's model with
synchronous updating.  With 100 persons and thresholds normal with mean 0.25, the final share
jumps from a few per cent to nearly all as the spread crosses about 0.12 (Granovetter 1978,
Fig. 2: the critical sigma is about 12.2 persons in 100).
"""

from __future__ import annotations

import numpy as np

from ..engine.simulation import Simulation
from ..scenario import load_scenario
from ..society.network import Graph

MEAN = 0.25


def all_to_all(n: int) -> Graph:
    """Every person tied to every other (friend ties, no free slots)."""
    indptr = np.arange(n + 1, dtype=np.int64) * (n - 1)
    nbr = np.array([j for i in range(n) for j in range(n) if j != i], np.int32)
    return Graph(indptr=indptr, nbr=nbr, family=np.zeros(len(nbr), bool),
                 target_friends=np.full(n, n - 1, np.int16))


def threshold_scenario(spread: float, seed: int, n: int = 100, steps: int = 40, mean: float = MEAN):
    return load_scenario({
        "name": "granovetter",
        "run": {"steps": steps, "seed": seed},
        "population": {"agents": n, "regions": 1},
        "behaviour": {"grievance_weight": 0.0, "cascade_weight": 1.0, "fear_weight": 0.0,
                      "dissent_guilt": 0.0, "dissent_threshold_mean": mean,
                      "dissent_threshold_sd": spread},
        "ties": {"enabled": False},
    })


def final_participation(spread: float, seed: int, n: int = 100, steps: int = 40) -> float:
    """The share of persons expressing dissent at the last step of one run."""
    sim = Simulation(threshold_scenario(spread, seed, n, steps), memory_check=False)
    sim.society.graph = all_to_all(n)
    sim.view = sim._perceive()
    sim.run()
    return float(sim.rows[-1]["dissent_expressed_share"])


def sweep(spreads, seeds: int = 20, n: int = 100, steps: int = 40) -> dict:
    """Mean final participation (and its 95 % interval) over `seeds` seeds at each spread."""
    out = {"spread": [], "mean": [], "lo": [], "hi": [], "median": []}
    for sd in spreads:
        v = np.array([final_participation(float(sd), s, n, steps) for s in range(1, seeds + 1)])
        half = 1.96 * v.std(ddof=1) / np.sqrt(len(v)) if len(v) > 1 else 0.0
        out["spread"].append(float(sd))
        out["mean"].append(float(v.mean()))
        out["lo"].append(float(v.mean() - half))
        out["hi"].append(float(v.mean() + half))
        out["median"].append(float(np.median(v)))
    return out
