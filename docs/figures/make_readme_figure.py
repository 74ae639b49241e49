"""Draw the README figure: baseline, seed and safeguards side by side (needs matplotlib).

    python docs/figures/make_readme_figure.py        # writes docs/figures/seed-vs-baseline.png
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import credsim  # noqa: E402

RUNS = {"baseline": "#777777", "seed": "#b2182b", "safeguards": "#2166ac"}
PANELS = (
    ("dissent_expressed_share", "dissent expressed (share of persons)"),
    ("falsification_gap", "dissent held back (falsification gap)"),
    ("late_bill_rate", "late bills (share per month)"),
    ("blacklist_share", "share on the blacklist"),
    ("listed_isolated_share", "listed persons with no friend left"),
    ("internalization_mean", "internalization of the standard"),
)


def main() -> None:
    results = {name: credsim.run(name, seed=1) for name in RUNS}
    fig, axes = plt.subplots(2, 3, figsize=(13, 6.5), sharex=True)
    for ax, (col, title) in zip(axes.flat, PANELS):
        for name, colour in RUNS.items():
            ts = results[name].timeseries
            ax.plot(ts["year"], ts[col], color=colour, label=name, lw=1.8)
        ax.set_title(title, fontsize=10)
        ax.grid(alpha=0.3)
    for ax in axes[1]:
        ax.set_xlabel("year")
    axes[0, 0].legend(frameon=False)
    fig.suptitle("credsim: 100,000 synthetic persons, 10 years (seed 1)", fontsize=12)
    fig.tight_layout()
    out = Path(__file__).with_name("seed-vs-baseline.png")
    fig.savefig(out, dpi=110)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
