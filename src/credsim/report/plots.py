"""Drawing helpers shared by the report and the comparison: figures rendered to PNG bytes.

Figures are `matplotlib.figure.Figure` objects drawn without pyplot, so building a report
changes no global state (no backend is chosen, no window opens).
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

DPI = 90
RUN_COLOURS = ("#555555", "#b2182b", "#2166ac", "#4d9221", "#762a83", "#e08214", "#35978f", "#c51b7d")
SANCTION, REWARD, NEUTRAL, FALSE = "#b2182b", "#2166ac", "#555555", "#e08214"


@dataclass
class Chart:
    """One figure of a page: an anchor, a title, a one-sentence caption and the PNG."""

    key: str
    title: str
    caption: str
    png: bytes


def new_figure(ncols: int = 1, nrows: int = 1, width: float = 10.0, height: float = 3.4,
               right: float = 0.98, **kw):
    """A figure with fixed margins (an automatic layout engine would double the drawing time)."""
    fig = Figure(figsize=(width, height * nrows))
    axes = fig.subplots(nrows, ncols, squeeze=False, **kw)
    fig.subplots_adjust(left=0.6 / width + 0.02, right=right, bottom=0.55 / (height * nrows),
                        top=1 - 0.35 / (height * nrows), wspace=0.28, hspace=0.45)
    return fig, axes


def to_png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI)
    return buf.getvalue()


def years(ts: pd.DataFrame) -> pd.Series:
    return ts["year"] if "year" in ts else ts["step"] / 12.0


def timeline_steps(ts: pd.DataFrame) -> list[int]:
    """Steps at which a timeline changed settings (column `timeline_changes` > 0, if present)."""
    if "timeline_changes" not in ts:
        return []
    return [int(s) for s in ts.loc[ts["timeline_changes"] > 0, "step"]]


def mark_timeline(ax, ts: pd.DataFrame) -> None:
    """A dashed vertical line at every step where the timeline changed settings."""
    for step in timeline_steps(ts):
        ax.axvline(step / 12.0, color="#444444", ls="--", lw=0.9, alpha=0.8, gid="timeline")


def time_axis(ax, ts: pd.DataFrame | None, ylabel: str = "", share: bool = False, legend: bool = True) -> None:
    """Finish a plot against time: grid, labels, percent ticks for shares, `ts`'s timeline marks."""
    if ts is not None:
        mark_timeline(ax, ts)
    ax.set_xlabel("year")
    if ylabel:
        ax.set_ylabel(ylabel)
    if share:
        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=None))
    ax.grid(alpha=0.3)
    if legend and ax.get_legend_handles_labels()[0]:
        ax.legend(frameon=False, fontsize=8)


def pct(x: float) -> str:
    return f"{x:.1%}" if abs(x) >= 0.001 or x == 0 else f"{x:.3%}"


def count(x: float) -> str:
    return f"{x:,.0f}"
