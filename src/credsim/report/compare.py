"""`credsim compare`: finished runs side by side, with their differences, and compare.html.

The first run is the reference: every other run's column of differences is that run minus the
first (percentage points for shares).  Runs are labelled `<scenario> (seed <seed>)`; where two
runs share a label, the folder name is added.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..output.headline import fmt, fmt_diff, headline
from .page import esc, figure_html, page, table_html, write_atomic
from .plots import RUN_COLOURS, Chart, mark_timeline, new_figure, time_axis, to_png, years

# (title, caption, [(column, panel title, is_share)]) of the overlaid time series
PANELS = (
    ("Lists and scores", "The share blacklisted and red-listed, the mean score and the innocents on the list, "
     "month by month, one line per run.",
     [("blacklist_share", "share blacklisted", True), ("redlist_share", "share red-listed", True),
      ("score_mean", "mean score", False), ("innocents_listed", "innocents on the list", False)]),
    ("Behaviour and dissent", "Late bills, public misconduct, dissent expressed and dissent held back "
     "(the falsification gap), month by month, one line per run.",
     [("late_bill_rate", "late bills", True), ("misconduct_rate", "public misconduct", True),
      ("dissent_expressed_share", "dissent expressed", True), ("falsification_gap", "falsification gap", True)]),
    ("Ties and learning", "The isolation of the listed, the mean number of ties, internalization of the "
     "standard and camera coverage, month by month, one line per run.",
     [("listed_isolated_share", "listed with no friend left", True), ("mean_degree", "ties per person", False),
      ("internalization_mean", "internalization", False), ("coverage_cameras", "camera coverage", True)]),
)


@dataclass
class Comparison:
    labels: list[str]
    rows: list[tuple[str, str, list]]   # (metric label, kind, value per run)
    runs: list

    def header(self) -> list[str]:
        ref = self.labels[0]
        return ["metric", *self.labels, *[f"{lab} - {ref}" for lab in self.labels[1:]]]

    def formatted(self) -> list[list[str]]:
        out = []
        for label, kind, values in self.rows:
            ref = values[0]
            diffs = [None if v is None or ref is None else v - ref for v in values[1:]]
            out.append([label, *[fmt(v, kind) for v in values], *[fmt_diff(d, kind) for d in diffs]])
        return out


def run_labels(runs) -> list[str]:
    labels = [r.label for r in runs]
    return [f"{lab} [{r.path.name}]" if labels.count(lab) > 1 else lab for lab, r in zip(labels, runs)]


def compare(runs) -> Comparison:
    """The headline metrics of every run (missing ones as None), in the first run's order."""
    tables = [{key: (label, value, kind) for key, label, value, kind in headline(r.summary)} for r in runs]
    keys = list(tables[0]) + [k for t in tables[1:] for k in t if k not in tables[0]]
    rows = []
    for key in dict.fromkeys(keys):
        first = next(t[key] for t in tables if key in t)
        rows.append((first[0], first[2], [t[key][1] if key in t else None for t in tables]))
    return Comparison(labels=run_labels(runs), rows=rows, runs=list(runs))


def overlay_charts(cmp: Comparison) -> list[Chart]:
    charts = []
    for i, (title, caption, panels) in enumerate(PANELS):
        fig, axes = new_figure(2, 2, width=11, height=3.0)
        for ax, (col, ptitle, share) in zip(axes.flat, panels):
            for k, (run, label) in enumerate(zip(cmp.runs, cmp.labels)):
                ts = run.timeseries
                if col in ts:
                    ax.plot(years(ts), ts[col], color=RUN_COLOURS[k % len(RUN_COLOURS)], label=label, lw=1.6)
            ax.set_title(ptitle, fontsize=10)
            for run in cmp.runs:  # every run's timeline changes
                mark_timeline(ax, run.timeseries)
            time_axis(ax, None, share=share, legend=False)
        axes[0, 0].legend(frameon=False, fontsize=8)
        charts.append(Chart(f"series-{i + 1}", title, caption, to_png(fig)))
    return charts


def build_compare(runs) -> tuple[str, Comparison]:
    cmp = compare(runs)
    title = "credsim compare: " + " vs ".join(cmp.labels)
    info = [[lab, str(r.summary.get("scenario", "?")), str(r.summary.get("seed", "?")),
             f"{r.summary.get('agents', 0):,}", str(r.summary.get("steps", "?")),
             str(r.summary.get("scenario_hash", "?")), str(r.summary.get("credsim_version", "?")), str(r.path)]
            for lab, r in zip(cmp.labels, runs)]
    charts = overlay_charts(cmp)
    body = [
        f"<h1>{esc(title)}</h1>",
        "<h2>Runs</h2>",
        table_html(["run", "scenario", "seed", "persons", "months", "scenario hash", "version", "folder"],
                   info, numeric_from=99, cls="runs"),
        f'<section id="metrics"><h2>Final metrics</h2><p>Differences are each run minus the first, '
        f"{esc(cmp.labels[0])}; shares differ in percentage points (pp).</p>",
        table_html(cmp.header(), cmp.formatted(), cls="metrics"),
        "</section>",
        *[figure_html(c) for c in charts],
        "<footer>Synthetic societies: no person or company in these runs is real.</footer>",
    ]
    return page(title, "\n".join(body)), cmp


def write_compare(runs, out: str | Path) -> tuple[Path, Comparison]:
    text, cmp = build_compare(runs)
    return write_atomic(Path(out), text), cmp
