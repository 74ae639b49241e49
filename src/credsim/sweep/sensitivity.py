"""`credsim sensitivity DIR`: which sampled parameters matter, for each reduced outcome (SALib).

Indices are computed on replicate means: the outcome of a point is the mean over its
replicates.  Seed noise is reported next to them: the share of the variance of those means
that the replicates' own spread accounts for (within-point variance / replicates, over the
variance of the point means).  Every run has its own seed, so each total index carries about
that share of noise: a total index at or below it cannot be told apart from no effect.

With grid parameters (levers) as well as sampled ones (uncertainties), the analysis is made
for each grid cell apart: how much each uncertainty matters under each choice of levers.
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from .assemble import read_outcomes
from .store import SweepDir

METHODS = ("sobol", "morris")


class SensitivityError(ValueError):
    """The folder cannot be analysed (no sampler, runs missing, unknown outcome): exit status 2."""


@dataclass
class Sensitivity:
    method: str                 # sobol or morris
    table: pd.DataFrame         # one row per (cell, measure, parameter)
    noise: pd.DataFrame         # one row per (cell, measure): seed_noise_share, variance of the means
    replicates: int

    def write(self, root: Path) -> tuple[Path, Path]:
        """sensitivity.csv (indices and seed noise, tidy) and sensitivity.png in the sweep folder."""
        csv = Path(root) / "sensitivity.csv"
        self.table.merge(self.noise, on=["cell", "cell_label", "measure"]).to_csv(csv, index=False)
        png = Path(root) / "sensitivity.png"
        figure(self).savefig(png, dpi=90)
        return csv, png


def _cell_labels(root: Path, info: dict, samples: int) -> list[str]:
    grid = [k for k, p in info["parameters"].items() if p["kind"] == "grid"]
    if not grid:
        return ["all points"]
    points = pq.read_table(root / "points.parquet", columns=grid).to_pandas()
    return [", ".join(f"{k}={points[k].iloc[c * samples]}" for k in grid) for c in range(len(points) // samples)]


def _check(info: dict, outcomes: pd.DataFrame, measures: list[str] | None) -> list[str]:
    sampler = info.get("sampler")
    if not sampler:
        raise SensitivityError("this sweep samples nothing (no [sampler]); sensitivity needs parameters with "
                               "a range and [sampler] method = \"sobol\" or \"morris\"")
    if sampler["method"] not in METHODS:
        raise SensitivityError(f"sampler method = \"{sampler['method']}\": a Latin hypercube is for exploring; "
                               "sensitivity indices need method = \"sobol\" or \"morris\"")
    bad = outcomes[outcomes["status"] != "ok"]
    if len(bad):
        first = bad.iloc[0]
        raise SensitivityError(f"{len(bad)} of {len(outcomes)} runs did not succeed (e.g. point {first['point']}, "
                               f"replicate {first['replicate']}: {first['status']}); the indices need every run "
                               "of the design: run `credsim sweep` again to finish it")
    known = info["measures"]
    for m in measures or []:
        if m not in known:
            hint = difflib.get_close_matches(m, known, n=1)
            raise SensitivityError(f"--outcome {m}: not an outcome of this sweep"
                                   + (f"; did you mean '{hint[0]}'?" if hint else "")
                                   + f" Allowed: {', '.join(known)}")
    return list(measures or known)


def analyze(root: str | Path, measures: list[str] | None = None, resamples: int = 100,
            conf_level: float = 0.95) -> Sensitivity:
    """Sobol' first-order and total indices (with confidence intervals) or Morris mu*, per outcome."""
    from SALib.analyze import morris, sobol

    root = Path(root)
    info = SweepDir(root).info()
    outcomes = read_outcomes(root)
    measures = _check(info, outcomes, measures)
    method, problem = info["sampler"]["method"], info["problem"]
    S, R = info["samples_per_cell"], info["replicates"]
    labels = _cell_labels(root, info, S)
    X = pq.read_table(root / "samples.parquet").to_pandas()[problem["names"]].to_numpy()
    by_point = outcomes.groupby("point")[measures]
    means = by_point.mean().sort_index()
    within = by_point.var(ddof=1).sort_index() if R > 1 else None
    seed = int(info["root_seed"]) % 2**32
    roles = {k: info["parameters"][k]["role"] or "" for k in problem["names"]}
    rows, noise_rows = [], []
    for cell, label in enumerate(labels):
        part = slice(cell * S, (cell + 1) * S)
        for m in measures:
            Y = means[m].to_numpy()[part]
            total = float(np.var(Y, ddof=1)) if len(Y) > 1 else 0.0
            noise = float(within[m].to_numpy()[part].mean()) / R if within is not None else math.nan
            share = min(1.0, noise / total) if total > 0 and not math.isnan(noise) else math.nan
            noise_rows.append({"cell": cell, "cell_label": label, "measure": m, "variance_of_means": total,
                               "seed_noise_share": share})
            if total == 0:
                idx = {k: np.full(len(problem["names"]), np.nan) for k in ("S1", "S1_conf", "ST", "ST_conf",
                                                                           "mu_star", "mu_star_conf", "sigma")}
            elif method == "sobol":
                idx = sobol.analyze(problem, Y, calc_second_order=False, num_resamples=resamples,
                                    conf_level=conf_level, seed=seed)
            else:
                idx = morris.analyze(problem, X, Y, num_resamples=resamples, conf_level=conf_level,
                                     num_levels=info["sampler"].get("levels") or 4, seed=seed)
            keys = ("S1", "S1_conf", "ST", "ST_conf") if method == "sobol" else ("mu_star", "mu_star_conf", "sigma")
            by = np.asarray(idx["ST" if method == "sobol" else "mu_star"], dtype=float)
            order = np.argsort(-np.nan_to_num(by, nan=-np.inf), kind="stable")
            for rank, i in enumerate(order, start=1):  # most influential first
                name = problem["names"][i]
                rows.append({"cell": cell, "cell_label": label, "measure": m, "parameter": name,
                             "role": roles[name], **{k: float(np.asarray(idx[k])[i]) for k in keys},
                             "rank": rank})
    return Sensitivity(method, pd.DataFrame(rows), pd.DataFrame(noise_rows), R)


def figure(result: Sensitivity):
    """One panel per (cell, outcome): total and first-order indices (or mu*) with their intervals."""
    from ..report.plots import new_figure

    panels = list(result.noise.itertuples(index=False))
    ncols = min(3, len(panels))
    nrows = math.ceil(len(panels) / ncols)
    n_par = result.table["parameter"].nunique()
    fig, axes = new_figure(ncols=ncols, nrows=nrows, width=4.2 * ncols, height=1.2 + 0.35 * n_par)
    fig.subplots_adjust(left=0.2, wspace=0.9)
    for ax, panel in zip(axes.flat, panels):
        t = result.table[(result.table["cell"] == panel.cell) & (result.table["measure"] == panel.measure)]
        t = t.sort_values("rank", ascending=False)
        y = np.arange(len(t))
        if result.method == "sobol":
            ax.barh(y + 0.2, t["ST"], height=0.4, xerr=t["ST_conf"], color="#b2182b", label="total (ST)")
            ax.barh(y - 0.2, t["S1"], height=0.4, xerr=t["S1_conf"], color="#2166ac", label="first order (S1)")
            if not math.isnan(panel.seed_noise_share):
                ax.axvline(panel.seed_noise_share, color="#555555", ls="--", lw=1, label="seed noise")
            ax.set_xlabel("Sobol' index")
        else:
            ax.barh(y, t["mu_star"], xerr=t["mu_star_conf"], color="#b2182b", label="mu*")
            ax.set_xlabel("Morris mu*")
        ax.set_yticks(y, t["parameter"], fontsize=8)
        title = panel.measure if len(result.noise["cell"].unique()) == 1 else f"{panel.measure}\n{panel.cell_label}"
        ax.set_title(title, fontsize=9)
        if ax is axes.flat[0]:
            ax.legend(fontsize=7, loc="best")
    for ax in list(axes.flat)[len(panels):]:
        ax.set_visible(False)
    return fig
