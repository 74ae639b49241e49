"""The five targets of issue #3, read from the results of `python -m benchmarks`, one run or
several.

The machine these figures come from is shared and noisy: two runs ten minutes apart can
differ by 30 %, in the kernels' times and in the STREAM triad that sets every bound.  So a
target is judged on the median of several runs (`python -m benchmarks --runs 3`, or
`--combine` on runs made before), and each run's own figure is shown beside it.

    python -m benchmarks --combine benchmarks/results/2026-11-30-run1[345].json --out STEM
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Callable

GiB = 2**30
N_NATIONAL, N_CITY = 10_000_000, 100_000


def _entry(out: dict, part: str, n: int) -> dict | None:
    """The results of one size of one part, if it ran."""
    for r in out.get(part) or []:
        if r.get("n") == n and "error" not in r and "skipped" not in r:
            return r
    return None


def _seed(key: str, n: int, scale: float = 1.0) -> Callable[[dict], float | None]:
    def read(out: dict) -> float | None:
        r = _entry(out, "seed", n)
        return None if r is None or r.get(key) is None else r[key] / scale
    return read


def _x_mesa(out: dict) -> float | None:
    """credsim's full `seed` at 1e5 over Mesa's minimal model: from the paired blocks (`paired.py`,
    both rates taken in the same minutes) where they ran; else, as in the runs before the paired
    blocks existed (1-150), the `seed` part's rate over the `mesa` part's, measured minutes apart."""
    paired = (out.get("paired") or {}).get("ratio_to_mesa")  # none where it was skipped or failed
    return sequential_x_mesa(out) if paired is None else paired


def sequential_x_mesa(out: dict) -> float | None:
    return _seed("ratio_to_mesa", N_CITY)(out)


def _minimal_ratio(out: dict) -> float | None:
    r = _entry(out, "minimal", N_NATIONAL)
    return None if r is None else r.get("ratio_to_bound")


@dataclass(frozen=True)
class Target:
    key: str
    label: str
    goal: float
    at_most: bool  # met when value <= goal; otherwise when value >= goal
    fmt: str
    read: Callable[[dict], float | None]

    def met(self, value: float | None) -> bool | None:
        if value is None:
            return None
        return value <= self.goal if self.at_most else value >= self.goal

    @property
    def goal_text(self) -> str:
        return ("at most " if self.at_most else "at least ") + self.fmt.format(self.goal)


TARGETS = (
    Target("society_1e7_s", "society of 1e7 persons, mean degree 20 (s)", 60.0, True, "{:.1f}",
           _seed("society_s", N_NATIONAL)),
    Target("seed_1e7_peak_gib", "full `seed` at 1e7: peak memory (GiB)", 12.0, True, "{:.2f}",
           _seed("peak_rss_bytes", N_NATIONAL, GiB)),
    Target("seed_1e7_rate_m", "full `seed` at 1e7: million agent-steps/s (aim 10)", 2.0, False, "{:.2f}",
           _seed("agent_steps_per_s", N_NATIONAL, 1e6)),
    Target("seed_1e5_x_mesa", "full `seed` at 1e5: times Mesa's minimal model", 100.0, False, "{:.1f}",
           _x_mesa),
    Target("minimal_1e7_x_bound", "minimal model at 1e7: times its bandwidth bound (median step)", 2.0, True,
           "{:.2f}", _minimal_ratio),
)


def evaluate(out: dict) -> list[dict]:
    """Each target's figure in one run (None where that part did not run) and whether it is met."""
    rows = []
    for t in TARGETS:
        v = t.read(out)
        rows.append({"key": t.key, "label": t.label, "goal": t.goal, "at_most": t.at_most, "value": v,
                     "met": t.met(v)})
    return rows


def _yes(met: bool | None) -> str:
    return "-" if met is None else ("yes" if met else "**no**")


def _fmt(t: Target, v: float | None) -> str:
    return "-" if v is None else t.fmt.format(v)


def run_table(out: dict) -> list[str]:
    """Markdown lines: the targets in one run."""
    L = ["**The targets of issue #3 in this run** (one run on a noisy machine: judge them on the median of "
         "several, `--runs 3` or `--combine`)", "",
         "| target | goal | this run | met? |", "|---|---|---|---|"]
    for t, row in zip(TARGETS, evaluate(out)):
        L.append(f"| {t.label} | {t.goal_text} | {_fmt(t, row['value'])} | {_yes(row['met'])} |")
    return L + [""]


def _run_id(out: dict) -> dict:
    p = out.get("paired") or {}
    return {"date": out.get("date"), "commit": (out.get("git") or {}).get("commit"),
            "command": out.get("command"), "bandwidth_GBps": out.get("bandwidth_GBps"),
            "mesa_agent_steps_per_s": ((out.get("mesa") or {}).get("agent_steps_per_s") or {}).get("median"),
            "paired_x_mesa": p.get("ratio_to_mesa"), "sequential_x_mesa": sequential_x_mesa(out)}


def combine(outs: list[dict], names: list[str] | None = None) -> dict:
    """The targets over several runs: every run's figure, their median, and the verdict on it."""
    names = names or [f"run {i + 1}" for i in range(len(outs))]
    per_run = [evaluate(o) for o in outs]
    targets = []
    for i, t in enumerate(TARGETS):
        values = [rows[i]["value"] for rows in per_run]
        have = [v for v in values if v is not None]
        median = statistics.median(have) if have else None
        targets.append({"key": t.key, "label": t.label, "goal": t.goal, "at_most": t.at_most, "values": values,
                        "runs_met": sum(1 for v in have if t.met(v)), "runs_measured": len(have),
                        "median": median, "met": t.met(median)})
    return {"combined": True, "names": names, "runs": [_run_id(o) for o in outs], "targets": targets}


def combined_markdown(c: dict) -> str:
    names = c["names"]
    L = [f"**The targets of issue #3 over {len(names)} runs** (the median decides; the machine is shared and "
         "noisy)", "",
         "| target | goal | " + " | ".join(names) + " | median | met in | met? |",
         "|---|---|" + "---|" * len(names) + "---|---|---|"]
    by_key = {t.key: t for t in TARGETS}
    for row in c["targets"]:
        t = by_key[row["key"]]
        L.append(f"| {t.label} | {t.goal_text} | " + " | ".join(_fmt(t, v) for v in row["values"])
                 + f" | {_fmt(t, row['median'])} | {row['runs_met']} of {row['runs_measured']} | "
                 f"{_yes(row['met'])} |")
    L += ["", "| run | date | commit | triad (best, GB/s) | Mesa (agent-steps/s) | 1e5 times Mesa: paired blocks "
          "| one after the other |", "|---|---|---|---|---|---|---|"]
    x_mesa = by_key["seed_1e5_x_mesa"]
    for name, r in zip(names, c["runs"]):
        bw, mesa = r.get("bandwidth_GBps"), r.get("mesa_agent_steps_per_s")
        L.append(f"| {name} | {r.get('date') or '-'} | {(r.get('commit') or '-')[:10]} | "
                 f"{'-' if bw is None else f'{bw:.1f}'} | {'-' if mesa is None else f'{mesa / 1e3:.0f}k'} | "
                 f"{_fmt(x_mesa, r.get('paired_x_mesa'))} | {_fmt(x_mesa, r.get('sequential_x_mesa'))} |")
    L += ["", "1e5 times Mesa: the target reads the paired blocks (`paired.py`: both models in turn, about a second "
          "each, credsim's median rate over Mesa's) where a run has them, else the `seed` part's rate over the `mesa` "
          "part's, measured minutes apart (runs 1-150)."]
    return "\n".join(L) + "\n"
