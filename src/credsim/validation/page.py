"""docs/validation.md: every target of issue #5 side by side with the simulated value."""

from __future__ import annotations

from importlib import resources
import time
from pathlib import Path

import numpy as np
from scipy.stats import norm

from ..report.plots import new_figure
from . import calibrate, epstein, granovetter
from .rulebook import fee_arrears_and_private_lending

SPREADS = np.round(np.arange(0.06, 0.205, 0.01), 3)
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


ADULTS = 1.1e9  # China's adults: the model's persons stand for them (1.4 bn people in all)
# Persons listed so far (cumulative, the SPC's count) at the steps where it was published
# (REFERENCES.md 1.1; step 0 is October 2013)
CUMULATIVE = ((40, "February 2017", 6.73e6, "debtors"), (50, "end of 2017", 9.59e6, "case outcomes, i.e. entries"),
              (59, "September 2018", 12.11e6, "people"), (62, "end of 2018", 13.0e6, "\"nearly 13 M\""))


def court_section(docs: Path, agents: int, replications: int) -> list[str]:
    spec = calibrate.read_targets(targets_file(), agents=agents, replications=replications)
    start = time.perf_counter()
    runs: list = []
    stats = calibrate.simulate(FITTED, spec, {}, keep=runs)
    took = time.perf_counter() - start
    table = calibrate.summarize(spec, stats)
    scale = ADULTS / 100.0  # a share in % of persons -> persons of 1.1 bn adults
    lines = [f"Runs of `{FITTED}` (its values are the fit) at {agents:,} persons, {spec.steps} months "
             f"(October 2013 to April 2019), {replications} seeds; interval: 95 % over seeds. "
             f"The {replications} runs took {took:.0f} s on one thread of this page's machine "
             f"({took / replications:.1f} s a run, the society's generation included). Shares are "
             f"per person of the model; a person stands for {ADULTS / agents:,.0f} of China's 1.1 bn adults "
             f"(1.4 bn people).", "",
             "| # | target | public figure | accepted | simulated | 95 % interval | at 1.1 bn adults | | source |",
             "|---|---|---|---|---|---|---|---|---|"]
    for k, r in table.iterrows():
        at_scale = (f"{r['simulated'] * scale / 1e6:.2f} M" + (" a year" if r["statistic"] == "listed_growth" else "")
                    if r["statistic"].startswith("listed_") else "")
        lines.append(f"| {k + 1} | `{r['statistic']}` | {r['target']:.4g} | {r['range']} | {r['simulated']:.4g} "
                     f"| {r['interval']} | {at_scale} | {'pass' if r['pass'] else '**fail**'} | {r['source']} |")
    lines += ["", "Persons listed so far (cumulative entries), scaled per capita to 1.1 bn adults, against "
              "the SPC's published counts (the world's growth is about linear from 2016; "
              "the campaign's stage 1 starts at step 29, March 2016):", "",
              "| step | date | SPC count | simulated (mean over seeds) |", "|---|---|---|---|"]
    for step, date, value, unit in CUMULATIVE:
        sim = np.mean([ts["blacklist_inflow"].iloc[:step + 1].sum() / agents for ts in runs]) * ADULTS
        lines.append(f"| {step} | {date} | {value / 1e6:.2f} M ({unit}) | {sim / 1e6:.2f} M |")
    yearly = np.mean([[ts["blacklist_inflow"].iloc[12 * y:12 * y + 12].sum() / agents for y in range(5)]
                      for ts in runs], axis=0) * ADULTS
    lines += ["", "Simulated person entries a year (October to September), at 1.1 bn adults: " +
              ", ".join(f"{2013 + y}-{14 + y}: {v / 1e6:.1f} M" for y, v in enumerate(yearly)) + "."]
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


# (label, cascade_weight, months between legitimacy steps, overrides) of the Epstein table
EPSTEIN_RUNS = (
    ("yearly steps", 0.0, 12, {}),
    ("yearly steps", 0.1, 12, {}),
    ("yearly steps", 0.25, 12, {}),
    ("monthly steps", 0.25, 1, {}),
    ("yearly steps, fading fear", 0.25, 12, epstein.FADING_FEAR),
    ("monthly steps, fading fear", 0.25, 1, epstein.FADING_FEAR),
    ("monthly steps, fading fear", 0.4, 1, epstein.FADING_FEAR),
    ("yearly steps, fading fear, dissenters listed", 0.25, 12, {**epstein.FADING_FEAR, **epstein.LISTED}),
)


def _kind(b: dict, every: int) -> str:
    if b["peaks"] >= 3:
        return "bursts at the steps (forced)" if every > 1 else "repeated bursts"
    return "burst" if b["jump_share"] >= 0.4 else "smooth rise"


def epstein_section(docs: Path) -> list[str]:
    fig, axes = new_figure(ncols=2, width=11.0, height=3.6)
    lines = ["| legitimacy falls in | cascade_weight | largest yearly rise / whole rise | years > 1/4 of rise "
             "| bursts (rise and fall > 1/4 of range) | half the rise at month | pattern |",
             "|---|---|---|---|---|---|---|"]
    for k, (label, cw, every, over) in enumerate(EPSTEIN_RUNS):
        legit, x, b = epstein.pattern(cw, 1.0, agents=1500, steps=144, every=every, overrides=over)
        ax = axes[0, 0] if k < 4 else axes[0, 1]
        ax.plot(x, label=f"{label}, cascade {cw}", lw=1)
        lines.append(f"| {label} | {cw} | {b['jump_share']:.2f} | {b['big_rises']} | {b['peaks']} "
                     f"| {b['half_at']} | {_kind(b, every)} |")
        if k in (0, 4):
            ax.plot(legit, color="black", ls=":", label="legitimacy (yearly steps)")
    for ax in axes[0]:
        ax.set_xlabel("month")
        ax.set_ylabel("expressed dissent share")
        ax.legend(frameon=False, fontsize=7)
    fig_path = _save(fig, docs / "figures", "validation-epstein.png")
    return lines + ["", f"![Epstein pattern]({fig_path})"]


def write_page(docs: Path, agents: int = 100_000, replications: int = 3, seeds: int = 10) -> Path:
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
