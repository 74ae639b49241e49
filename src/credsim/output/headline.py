"""The headline metrics of a run, read from its summary, as the CLI, the report and `compare` show them."""

from __future__ import annotations

import math

# (key in summary["final"], label, kind); kind decides the format: share, count or number
FINAL = (
    ("blacklist_share", "share blacklisted", "share"),
    ("redlist_share", "share red-listed", "share"),
    ("score_mean", "mean score", "number"),
    ("late_bill_rate", "late bills / month", "share"),
    ("misconduct_rate", "misconduct / month", "share"),
    ("dissent_private_share", "dissent, private", "share"),
    ("dissent_expressed_share", "dissent, expressed", "share"),
    ("falsification_gap", "falsification gap", "share"),
    ("innocents_listed", "innocents on the list", "count"),
    ("listed_isolated_share", "listed with no friend left", "share"),
    ("mean_degree", "mean ties per person", "number"),
    ("internalization_mean", "internalization", "number"),
    ("unemployment_rate", "unemployment", "share"),
    ("coverage_cameras", "camera coverage", "share"),
    ("company_blacklist_share", "companies blacklisted", "share"),
)
# (key in summary["totals"], label): sums over all steps
TOTALS = (
    ("records_true", "true records"),
    ("records_false", "false records"),
    ("blacklist_inflow", "blacklist entries"),
    ("trips_refused", "trips refused"),
    ("jobs_lost", "jobs lost"),
    ("school_refusals", "school refusals"),
    ("service_refusals_true", "services refused (listed)"),
    ("service_refusals_false", "services refused (innocent)"),
    ("rewards", "rewards"),
    ("appeals_upheld", "appeals upheld"),
    ("ties_cut", "ties cut"),
)


def headline(summary: dict) -> list[tuple[str, str, float | None, str]]:
    """(key, label, value, kind) for every headline metric the summary holds."""
    rows = []
    final, totals = summary.get("final", {}), summary.get("totals", {})
    for key, label, kind in FINAL:
        if key in final:
            rows.append((f"final.{key}", f"{label} (end)", final[key], kind))
    for key, label in TOTALS:
        if key in totals:
            rows.append((f"totals.{key}", f"{label} (all months)", totals[key], "count"))
    if "score_gini" in summary:
        rows.append(("score_gini", "score Gini", summary["score_gini"], "number"))
    ineq = summary.get("inequality", {})
    if "score_gap_top_minus_bottom_quintile" in ineq:
        rows.append(("inequality.score_gap", "score gap, top - bottom income fifth",
                     ineq["score_gap_top_minus_bottom_quintile"], "number"))
    if "blacklist_share_bottom_over_top_quintile" in ineq:
        rows.append(("inequality.blacklist_ratio", "blacklisted, bottom / top income fifth",
                     ineq["blacklist_share_bottom_over_top_quintile"], "number"))
    months = summary.get("recovery", {}).get("mean_months")
    if months is not None:
        rows.append(("recovery.mean_months", "months on the list (completed spells)", months, "number"))
    return rows


def fmt(value, kind: str, signed: bool = False) -> str:
    """A value as a share (%), a count or a number; `signed` for differences (shares in pp)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    sign = "+" if signed else ""
    if kind == "share":
        return f"{value * 100:+.2f} pp" if signed else f"{value:.2%}"
    if kind == "count":
        return f"{value:{sign},.0f}"
    return f"{value:{sign},.4g}" if abs(value) < 1e4 else f"{value:{sign},.0f}"


def fmt_diff(delta, kind: str) -> str:
    """A difference: percentage points for shares, signed counts and numbers otherwise."""
    return fmt(delta, kind, signed=True)
