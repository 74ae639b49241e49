"""docs/validation.md: every target of issue #5 side by side with the simulated value."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import numpy as np
from scipy.stats import norm

from ..report.plots import new_figure
from . import calibrate, epstein, granovetter
from .rulebook import fee_arrears_and_private_lending

SPREADS = np.round(np.arange(0.06, 0.205, 0.01), 3)
CASCADES = (0.0, 0.1, 0.25)
FITTED = "court-blacklist"  # the built-in carries the fitted values


def targets_file() -> Path:
    return Path(str(resources.files("credsim.validation") / "targets" / "court-blacklist.toml"))


def mean_field(spread: float, mean: float = granovetter.MEAN) -> float:
    """Granovetter's equilibrium for a continuum of persons: iterate r -> Phi((r - mean) / sd)."""
    r = 0.0
    for _ in range(2000):
        r = float(norm.cdf((r - mean) / spread)) if spread > 0 else float(r > mean)
    return r


def _save(fig, folder: Path, name: str) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    fig.savefig(folder / name, dpi=90)
    return f"figures/{name}"


def court_section(docs: Path, agents: int, replications: int) -> list[str]:
    spec = calibrate.read_targets(targets_file(), agents=agents, replications=replications)
    stats = calibrate.simulate(FITTED, spec, {})
    table = calibrate.summarize(spec, stats)
    lines = [f"Runs of `{FITTED}` (its values are the fit) at {agents:,} persons, {spec.steps} months "
             f"(October 2013 to April 2019), {replications} seeds; interval: 95 % over seeds.", "",
             "| # | target | public figure | accepted | simulated | 95 % interval | | source |",
             "|---|---|---|---|---|---|---|---|"]
    for k, r in table.iterrows():
        lines.append(f"| {k + 1} | `{r['statistic']}` | {r['target']:.4g} | {r['range']} | {r['simulated']:.4g} "
                     f"| {r['interval']} | {'pass' if r['pass'] else '**fail**'} | {r['source']} |")
    return lines


def granovetter_section(docs: Path, seeds: int) -> list[str]:
    sw = granovetter.sweep(SPREADS, seeds=seeds)
    mf = [mean_field(s) for s in SPREADS]
    fig, ax = new_figure(width=7.0, height=3.6)
    ax = ax[0, 0]
    ax.plot(sw["spread"], sw["mean"], "o-", color="#b2182b", label=f"credsim, mean of {seeds} seeds")
    ax.fill_between(sw["spread"], sw["lo"], sw["hi"], color="#b2182b", alpha=0.2)
    ax.plot(sw["spread"], sw["median"], "s--", color="#555555", label="credsim, median")
    ax.plot(SPREADS, mf, color="#2166ac", label="mean field (Granovetter's curve)")
    ax.set_xlabel("spread of thresholds (sd)")
    ax.set_ylabel("final participation")
    ax.legend(frameon=False, fontsize=8)
    fig_path = _save(fig, docs / "figures", "validation-granovetter.png")
    lines = ["| spread | credsim mean | 95 % interval | median | mean field |", "|---|---|---|---|---|"]
    for i, s in enumerate(sw["spread"]):
        lines.append(f"| {s:.2f} | {sw['mean'][i]:.3f} | {sw['lo'][i]:.3f}-{sw['hi'][i]:.3f} "
                     f"| {sw['median'][i]:.3f} | {mf[i]:.3f} |")
    return lines + ["", f"![Granovetter sweep]({fig_path})"]


def epstein_section(docs: Path) -> list[str]:
    fig, ax = new_figure(width=8.0, height=3.6)
    ax = ax[0, 0]
    lines = ["| cascade_weight | fear_weight | largest yearly rise / whole rise | years > 1/4 of rise "
             "| half the rise at month | pattern |", "|---|---|---|---|---|---|"]
    for cw in CASCADES:
        legit, x, b = epstein.pattern(cw, 1.0, agents=1500, steps=144)
        ax.plot(x, label=f"cascade_weight {cw}")
        kind = "burst" if b["jump_share"] >= 0.4 else "smooth"
        lines.append(f"| {cw} | 1.0 | {b['jump_share']:.2f} | {b['big_rises']} | {b['half_at']} | {kind} |")
    ax.plot(legit, color="black", ls=":", label="legitimacy")
    ax.set_xlabel("month")
    ax.set_ylabel("expressed dissent share")
    ax.legend(frameon=False, fontsize=8)
    fig_path = _save(fig, docs / "figures", "validation-epstein.png")
    return lines + ["", f"![Epstein pattern]({fig_path})"]


def write_page(docs: Path, agents: int = 20_000, replications: int = 3, seeds: int = 10) -> Path:
    docs = Path(docs)
    score, grade, n = fee_arrears_and_private_lending()
    head = (Path(__file__).with_name("validation_head.md")).read_text()
    parts = [head.rstrip(), "",
             "## 1-5. The court defaulter list (`court-blacklist`)", "", *court_section(docs, agents, replications), "",
             "## 6. Threshold cascades (Granovetter 1978)", "", *granovetter_section(docs, seeds), "",
             "## 7. Rongcheng rulebook", "",
             f"One court-found fee arrears (-50) and one private-lending breach (-20) in a month, from "
             f"1,000, decay 0, no network term: **{score:g}** (grade {grade}; {n} persons of 2,000 drew "
             f"that pair). Target 930: **{'pass' if score == 930 else 'fail'}**.", "",
             "## 8. Legitimacy falling slowly (Epstein 2002)", "", *epstein_section(docs), ""]
    path = docs / "validation.md"
    path.write_text("\n".join(parts))
    return path
