"""What the page draws: the big numbers, the live charts and the comparison table.

Each names time-series columns (docs/ODD.md); `total` means the running sum of a per-month
count.  The comparison table takes its labels and formats from the CLI's headline metrics.
"""

from __future__ import annotations

from ..output.headline import FINAL, TOTALS

NUMBERS = (
    {"col": "blacklist_share", "label": "share blacklisted", "kind": "share",
     "note": "of all persons are on the blacklist"},
    {"col": "innocents_listed", "label": "innocents listed", "kind": "count",
     "note": "persons blacklisted on false records alone"},
    {"col": "falsification_gap", "label": "dissent silenced", "kind": "share",
     "note": "of persons disagree in private but no longer say so"},
    {"col": "ties_cut", "label": "ties cut", "kind": "count", "total": True,
     "note": "friendships ended since the start"},
)

CHARTS = (
    {"id": "blacklist", "title": "Share blacklisted", "kind": "share", "series": [{"col": "blacklist_share"}]},
    {"id": "innocents", "title": "Innocents on the list", "kind": "count", "series": [{"col": "innocents_listed"}]},
    {"id": "dissent", "title": "Dissent: said (solid) and held in private (dashed)", "kind": "share",
     "series": [{"col": "dissent_expressed_share"}, {"col": "dissent_private_share", "dash": True}]},
    {"id": "ties", "title": "Ties cut since the start", "kind": "count", "series": [{"col": "ties_cut", "total": True}]},
    {"id": "late", "title": "Late bills a month", "kind": "share", "series": [{"col": "late_bill_rate"}]},
    {"id": "score", "title": "Mean score", "kind": "number", "series": [{"col": "score_mean"}]},
)

_FINAL = {key: (label, kind) for key, label, kind in FINAL}
_TOTALS = dict(TOTALS)
TABLE = (
    *({"col": c, "label": _FINAL[c][0], "kind": _FINAL[c][1]} for c in (
        "blacklist_share", "innocents_listed", "falsification_gap", "dissent_private_share",
        "dissent_expressed_share", "late_bill_rate", "listed_isolated_share", "score_mean")),
    *({"col": c, "label": f"{_TOTALS[c]} (total)", "kind": "count", "total": True} for c in (
        "ties_cut", "records_false", "trips_refused", "jobs_lost")),
)

COLUMNS: tuple[str, ...] = tuple(sorted(
    {"step"} | {n["col"] for n in NUMBERS} | {s["col"] for c in CHARTS for s in c["series"]}
    | {t["col"] for t in TABLE}))


def config(builtins: list[dict]) -> dict:
    """Everything the page needs to build itself, sent once with the page."""
    return {"builtins": builtins, "numbers": NUMBERS, "charts": CHARTS, "table": TABLE}
