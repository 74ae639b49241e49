"""Epstein (2002) civil violence: legitimacy falling slowly, suppressed dissent and bursts.

Epstein's citizens turn active when grievance H * (1 - L) minus net risk exceeds a threshold;
with legitimacy L falling slowly, rebellion stays suppressed and then breaks out in bursts
(punctuated equilibrium) rather than rising smoothly.  credsim's dissent rule is the same
form with a cascade term (docs/ODD.md): expressed dissent when
    grievance_weight * hardship * (1 - legitimacy) + cascade_weight * (share of ties who spoke
    out last step) - fear > threshold.
Here legitimacy falls from 0.9 by 0.05 every 12 months (a [[timeline]] entry each year), dissent
is scored (online monitoring, points) so that it is feared, and we measure how the expressed
share rises between legitimacy changes (`burstiness`).
"""

from __future__ import annotations

import numpy as np

from .. import api


def scenario(cascade_weight: float, fear_weight: float, steps: int = 168, start: float = 0.9,
             fall: float = 0.05, every: int = 12) -> dict:
    timeline = [{"at": k, "set": {"behaviour.legitimacy": round(max(start - fall * (k // every), 0.0), 4)}}
                for k in range(every, steps, every)]
    return {
        "name": "epstein", "extends": "baseline",
        "run": {"steps": steps},
        "channels": {"online": {"enabled": True, "coverage": 0.5}},
        "scoring": {"enabled": True},
        "rules": [{"event": "dissent", "channel": "online", "points": -50}],
        "behaviour": {"legitimacy": start, "grievance_weight": 1.0, "cascade_weight": cascade_weight,
                      "fear_weight": fear_weight, "dissent_threshold_mean": 0.15,
                      "dissent_threshold_sd": 0.05},
        "timeline": timeline,
    }


def burstiness(x, every: int = 12) -> dict:
    """How a rising series rises, measured between legitimacy changes (windows of `every` months).

    jump_share: the largest rise over one window as a share of the whole rise (about 1 / number
    of windows for a steady rise, near 1 for one burst); big_rises: windows holding more than a
    quarter of the whole rise; half_at: the first month at which half the rise is reached.
    """
    x = np.asarray(x, float)
    rise = x.max() - x[0]
    if rise <= 0:
        return {"jump_share": 0.0, "big_rises": 0, "rise": 0.0, "half_at": -1}
    ends = x[::every]
    d = np.diff(np.append(ends, x[-1]))
    return {"jump_share": float(d.max() / rise), "big_rises": int((d > 0.25 * rise).sum()),
            "rise": float(rise), "half_at": int(np.argmax(x >= x[0] + rise / 2))}


def peaks(x, frac: float = 0.25) -> int:
    """Bursts: rises of more than `frac` of the series' range from a trough, each counted once it
    has fallen back by as much (a last rise still in progress counts too)."""
    x = np.asarray(x, float)
    amp = frac * (x.max() - x.min())
    if amp <= 0:
        return 0
    n, lo, hi, rising = 0, x[0], x[0], True
    for v in x:
        if rising:
            lo = min(lo, v)
            if v - lo > amp:
                rising, hi = False, v
        else:
            hi = max(hi, v)
            if hi - v > amp:
                n, rising, lo = n + 1, True, v
    return n + (not rising)


# Fear that fades: salience (how much the person watches the score) fades fast without records
# and grows fast with them, and most dissent is seen; with these, fear rises after each outburst
# and wanes in quiet months.
FADING_FEAR = {"learning.salience_fade": 0.1, "learning.salience_growth": 0.3,
               "channels.online.coverage": 0.9}
# Dissenters listed (a blacklist entry for a dissent record, 6 months at least).
LISTED = {"lists.blacklist": True, "lists.min_term": 6, "rules.0.lists": True}


def pattern(cascade_weight: float, fear_weight: float, seed: int = 1, agents: int = 3000,
            steps: int = 168, every: int = 12, overrides: dict | None = None
            ) -> tuple[np.ndarray, np.ndarray, dict]:
    """Legitimacy and the expressed dissent share per month, and the burstiness of the latter.

    Legitimacy falls by 0.05 a year: in yearly steps (`every` 12) or in `every`-month steps of
    0.05 * every / 12 (1: nearly continuous, as in Epstein's runs)."""
    sc = scenario(cascade_weight, fear_weight, steps, fall=0.05 * every / 12, every=every)
    res = api.run(sc, agents=agents, seed=seed, **(overrides or {}))
    ts = res.timeseries
    x = ts["dissent_expressed_share"].to_numpy()
    legit = np.array([_legitimacy(res.scenario, t) for t in range(len(x))])
    return legit, x, dict(burstiness(x), peaks=peaks(x))


def _legitimacy(sc, t: int) -> float:
    value = sc.behaviour.legitimacy
    for e in sc.timeline:
        if e.step <= t:
            value = e.set.get("behaviour.legitimacy", value)
    return value
