"""The figures of a run's report, one function per section, each with a one-sentence caption.

Every function takes an open run folder (`credsim.output.runs.RunFolder`) and returns a
`Chart`, or None where the run has nothing to show for it (a register that was not written).
They read the time series and the summary; the score histogram and the register figure read
the snapshot and register tables through DuckDB, so they stay cheap at any population.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.ticker import PercentFormatter

from .plots import FALSE, NEUTRAL, REWARD, SANCTION, Chart, count, new_figure, pct, time_axis, to_png, years

ACTIONS = (
    ("late_bill", "late bills"), ("poor_work", "poor work (employed)"), ("misconduct", "public misconduct"),
    ("dissent", "dissent online"), ("court_default", "court judgments defaulted"),
    ("approved_speech", "approved speech"), ("good_deed", "good deeds"),
)
BAD = ("late_bill", "poor_work", "misconduct", "dissent", "court_default")
SANCTIONS = (
    ("trips_refused_flight", "flights refused"), ("trips_refused_rail", "rail tickets refused"),
    ("jobs_lost", "jobs lost"), ("hiring_refused", "hiring refused"), ("school_refusals", "school places refused"),
    ("hotels_refused", "hotels refused (listed)"), ("loans_refused", "loans refused"),
    ("service_refusals_false", "services refused (innocent)"),
)


def _grade_columns(ts: pd.DataFrame) -> list[str]:
    return [c for c in ts.columns if c.startswith("grade_") and c.endswith("_share")]


def scores(run) -> Chart:
    ts, x = run.timeseries, years(run.timeseries)
    fig, axes = new_figure(2, width=11)
    ax = axes[0, 0]
    ax.fill_between(x, ts["score_p05"], ts["score_p95"], color=NEUTRAL, alpha=0.15, label="5-95%")
    ax.fill_between(x, ts["score_p25"], ts["score_p75"], color=NEUTRAL, alpha=0.3, label="25-75%")
    ax.plot(x, ts["score_median"], color="black", lw=1.6, label="median")
    ax.plot(x, ts["score_mean"], color=SANCTION, lw=1.2, ls="--", label="mean")
    time_axis(ax, ts, "score")
    ax.set_title("score over time", fontsize=10)
    ax = axes[0, 1]
    hist = _final_histogram(run)
    if hist is not None:
        edges = np.append(hist.index.to_numpy(), hist.index[-1] + hist.attrs["width"])
        bottom = np.zeros(len(hist))
        for status, colour in (("none", NEUTRAL), ("red", REWARD), ("black", SANCTION)):
            if status in hist:
                top = bottom + hist[status].to_numpy()
                ax.stairs(top, edges, baseline=bottom, fill=True, color=colour,
                          label={"none": "on no list", "red": "red list", "black": "blacklist"}[status])
                bottom = top
        ax.set_yscale("symlog", linthresh=10)
        ax.set_xlabel("score at the end")
        ax.set_ylabel("persons (log scale)")
        ax.legend(frameon=False, fontsize=8)
        ax.grid(alpha=0.3)
    else:
        ax.set_axis_off()
    ax.set_title("final distribution", fontsize=10)
    first, last = ts.iloc[0], ts.iloc[-1]
    caption = (f"The spread of scores month by month (median line, middle half and 5-95% band shaded) and, "
               f"right, the final distribution by list status (log scale): the mean moves from "
               f"{first['score_mean']:.0f} to {last['score_mean']:.0f} and the lowest 5% end below "
               f"{last['score_p05']:.0f}.")
    return Chart("scores", "Score distribution over time", caption, to_png(fig))


def _final_histogram(run, bins: int = 40) -> pd.DataFrame | None:
    if "persons" not in run.tables:
        return None
    con = run.connection
    last = "FROM persons WHERE step = (SELECT max(step) FROM persons)"
    lo, hi = con.execute(f"SELECT quantile_cont(score, 0.001), quantile_cont(score, 0.999) {last}").fetchone()
    if lo is None:
        return None
    width = max((hi - lo) / bins, 1e-6)
    df = con.execute(  # the few scores outside the central 99.8% fall into the end bins
        f"SELECT greatest(least(floor((score - ?) / ?), ?), 0) AS b, list_status, count(*) AS n {last} "
        "GROUP BY ALL", [lo, width, bins - 1]).df()
    table = df.pivot_table(index="b", columns="list_status", values="n", aggfunc="sum", fill_value=0, observed=True)
    table = table.reindex(np.arange(bins, dtype=float), fill_value=0)
    table.index = lo + table.index * width
    table.attrs["width"] = width
    return table


def grades(run) -> Chart:
    ts, x = run.timeseries, years(run.timeseries)
    cols = _grade_columns(ts)
    fig, axes = new_figure(1, width=10)
    ax = axes[0, 0]
    colours = [_ramp(i, len(cols)) for i in range(len(cols))]
    names = [c[len("grade_"):-len("_share")] for c in cols]
    # worst grade at the bottom, best on top
    ax.stackplot(x, *[ts[c] for c in cols[::-1]], labels=names[::-1], colors=colours[::-1], alpha=0.9)
    ax.set_ylim(0, 1)
    time_axis(ax, ts, "share of persons", share=True, legend=False)
    handles, labels = ax.get_legend_handles_labels()
    ax.legend(handles[::-1], labels[::-1], frameon=False, fontsize=8, loc="center left",
              bbox_to_anchor=(1.0, 0.5), title="grade")
    fig.subplots_adjust(right=0.88)
    last = ts.iloc[-1]
    low = sum(last[c] for c in cols[-2:]) if len(cols) >= 2 else 0.0
    caption = (f"The share of persons in each grade every month, best grade on top: at the end "
               f"{pct(last[cols[0]])} hold {names[0]} and {pct(low)} the two lowest grades "
               f"({', '.join(names[-2:])}).")
    return Chart("grades", "Grade shares", caption, to_png(fig))


def _ramp(i: int, k: int) -> tuple:
    from matplotlib import colormaps

    return colormaps["RdYlGn_r"](0.1 + 0.8 * i / max(k - 1, 1))


def lists(run) -> Chart:
    ts, x = run.timeseries, years(run.timeseries)
    fig, axes = new_figure(2, width=11)
    ax = axes[0, 0]
    ax.plot(x, ts["blacklist_share"], color=SANCTION, label="persons blacklisted")
    ax.plot(x, ts["redlist_share"], color=REWARD, label="persons red-listed")
    ax.plot(x, ts["company_blacklist_share"], color=SANCTION, ls=":", label="companies blacklisted")
    time_axis(ax, ts, "share", share=True)
    ax.set_title("stock", fontsize=10)
    ax = axes[0, 1]
    edges = np.append(x.to_numpy(), x.iloc[-1] + 1 / 12)
    ax.stairs(ts["blacklist_inflow"].to_numpy(), edges, fill=True, color=SANCTION, label="entries")
    ax.stairs(-ts["blacklist_outflow"].to_numpy(), edges, fill=True, color=REWARD, label="exits")
    ax.axhline(0, color="black", lw=0.6)
    time_axis(ax, ts, "persons per month")
    ax.set_title("flows (exits below zero)", fontsize=10)
    last = ts.iloc[-1]
    caption = (f"The share of persons and companies on the lists (left) and the monthly flows on and off "
               f"the blacklist (right): {pct(last['blacklist_share'])} of persons are blacklisted at the "
               f"end, after {count(ts['blacklist_inflow'].sum())} entries and "
               f"{count(ts['blacklist_outflow'].sum())} exits.")
    return Chart("lists", "List stock and flows", caption, to_png(fig))


def compliance(run) -> Chart:
    ts, x = run.timeseries, years(run.timeseries)
    fig, axes = new_figure(2, width=12, height=3.8, right=0.83)
    palette = (SANCTION, FALSE, NEUTRAL, "#762a83", "#35978f", REWARD, "#4d9221")
    for i, (ev, label) in enumerate(ACTIONS):
        ax = axes[0, 0 if ev in BAD else 1]
        ax.plot(x, ts[f"{ev}_rate"], color=palette[i], label=label)
        ax.plot(x, ts[f"{ev}_observed_rate"], color=palette[i], ls="--", lw=1.0)
    for ax, title in zip(axes[0], ("actions the rulebook can punish", "actions it can reward")):
        time_axis(ax, ts, "share of persons per month", share=True, legend=False)
        ax.set_yscale("log")
        ax.set_title(title + " (log scale)", fontsize=10)
    axes[0, 1].plot([], [], color="black", ls="--", lw=1.0, label="dashed: observed")
    handles = [h for ax in axes[0] for h in ax.get_legend_handles_labels()[0]]
    fig.legend(handles, [h.get_label() for h in handles], frameon=False, fontsize=8, loc="center right")
    last = ts.iloc[-1]
    seen = last["late_bill_observed_rate"] / last["late_bill_rate"] if last["late_bill_rate"] else 0.0
    caption = (f"For each action, the share of persons who did it each month (solid) and the share the "
               f"register observed (dashed): late bills go from {pct(ts['late_bill_rate'].iloc[0])} to "
               f"{pct(last['late_bill_rate'])} a month, and {pct(seen)} of them are seen at the end.")
    return Chart("compliance", "Compliance per action, true and observed", caption, to_png(fig))


def dissent(run) -> Chart:
    ts, x = run.timeseries, years(run.timeseries)
    fig, axes = new_figure(1, width=10)
    ax = axes[0, 0]
    ax.fill_between(x, ts["dissent_expressed_share"], ts["dissent_private_share"], color=SANCTION,
                    alpha=0.15, label="falsification gap")
    ax.plot(x, ts["dissent_private_share"], color=NEUTRAL, label="disagrees in private")
    ax.plot(x, ts["dissent_expressed_share"], color=SANCTION, label="says so online")
    time_axis(ax, ts, "share of persons", share=True)
    last = ts.iloc[-1]
    caption = (f"Private disagreement with the official standard against dissent expressed online: at the "
               f"end {pct(last['dissent_private_share'])} disagree and {pct(last['dissent_expressed_share'])} "
               f"say so, a falsification gap of {pct(last['falsification_gap'])} of persons (shaded).")
    return Chart("dissent", "Dissent, private and expressed", caption, to_png(fig))


def false_records(run) -> Chart:
    ts, x = run.timeseries, years(run.timeseries)
    fig, axes = new_figure(2, width=11)
    ax = axes[0, 0]
    ax.plot(x, ts["records_false"], color=FALSE, label="false records (face matches)")
    if "false_matches_reviewed_out" in ts:
        ax.plot(x, ts["false_matches_reviewed_out"], color=REWARD, ls="--", label="caught by human review")
    time_axis(ax, ts, "per month")
    ax.set_title("false matches", fontsize=10)
    ax = axes[0, 1]
    ax.plot(x, ts["innocents_listed"], color=SANCTION, label="innocents on the list")
    ax.plot(x, ts["service_refusals_false"], color=FALSE, label="services refused to innocents")
    if "appeals_upheld" in ts:
        ax.plot(x, ts["appeals_upheld"], color=REWARD, ls="--", label="appeals upheld")
    time_axis(ax, ts, "persons")
    ax.set_title("what they did", fontsize=10)
    caption = (f"False face matches recorded each month (left) and their consequences (right): "
               f"{count(ts['records_false'].sum())} false records in all, up to "
               f"{count(ts['innocents_listed'].max())} innocents on the list at once and "
               f"{count(ts['service_refusals_false'].sum())} services refused to innocents.")
    return Chart("false-records", "False records and innocents listed", caption, to_png(fig))


def sanctions(run) -> Chart:
    ts, x = run.timeseries, years(run.timeseries)
    ts = ts.assign(hotels_refused=ts["service_refusals_true"] - ts.get("loans_refused", 0))
    kinds = [(k, label) for k, label in SANCTIONS if k in ts]
    totals = [float(ts[k].sum()) for k, _ in kinds]
    fig, axes = new_figure(2, width=11)
    fig.subplots_adjust(left=0.2)
    ax = axes[0, 0]
    ax.barh([label for _, label in kinds], totals,
            color=[FALSE if k == "service_refusals_false" else SANCTION for k, _ in kinds])
    ax.invert_yaxis()
    ax.set_xlabel("all months")
    ax.grid(alpha=0.3, axis="x")
    ax.set_title("sanctions by kind", fontsize=10)
    ax = axes[0, 1]
    sanctioned = sum(ts[k] for k, _ in kinds)
    ax.plot(x, sanctioned, color=SANCTION, label="sanctions (all kinds)")
    ax.plot(x, ts["rewards"], color=REWARD, label="rewards (red list)")
    time_axis(ax, ts, "per month")
    ax.set_yscale("symlog", linthresh=10)
    ax.set_title("per month", fontsize=10)
    top = max(range(len(kinds)), key=lambda i: totals[i]) if kinds else None
    most = f"; the commonest is {kinds[top][1]} ({count(totals[top])})" if top is not None and totals[top] else ""
    caption = (f"Sanctions by kind over the whole run (left) and sanctions against rewards each month "
               f"(right, log scale): {count(sum(totals))} sanctions and {count(ts['rewards'].sum())} rewards"
               f"{most}.")
    return Chart("sanctions", "Sanctions and rewards by kind", caption, to_png(fig))


def ties(run) -> Chart:
    ts, x = run.timeseries, years(run.timeseries)
    fig, axes = new_figure(2, width=11, right=0.92)
    ax = axes[0, 0]
    ax.plot(x, ts["ties_cut"], color=SANCTION, label="ties cut")
    if "ties_formed" in ts:
        ax.plot(x, ts["ties_formed"], color=REWARD, label="ties formed")
    if "tie_refusals" in ts:
        ax.plot(x, ts["tie_refusals"], color=FALSE, ls="--", label="new ties refused")
    time_axis(ax, ts, "per month")
    ax.set_title("ties", fontsize=10)
    ax = axes[0, 1]
    ax.plot(x, ts["listed_isolated_share"], color=SANCTION, label="listed with no friend left")
    time_axis(ax, ts, "share of the listed", share=True)
    ax.set_ylim(0, 1)
    ax2 = ax.twinx()
    ax2.plot(x, ts["mean_degree"], color=NEUTRAL, ls=":", label="mean ties per person (right)")
    ax2.set_ylabel("ties per person")
    ax2.legend(frameon=False, fontsize=8, loc="lower right")
    ax.set_title("isolation of the listed", fontsize=10)
    last = ts.iloc[-1]
    caption = (f"Friend ties cut, formed and refused each month (left) and the share of blacklisted persons "
               f"left without a friend (right): {count(ts['ties_cut'].sum())} ties cut in all, and "
               f"{pct(last['listed_isolated_share'])} of the listed are isolated at the end.")
    return Chart("ties", "Ties cut and isolation of the listed", caption, to_png(fig))


def inequality(run) -> Chart:
    s = run.summary
    groups = [("by_education", g) for g in s.get("by_education", {})]
    groups += [("by_income_quintile", g) for g in s.get("by_income_quintile", {})]
    labels = [g if key == "by_education" else f"income {g}" for key, g in groups]
    colours = [NEUTRAL if key == "by_education" else FALSE for key, _ in groups]
    metrics = (("score_mean", "mean score"), ("blacklist_share", "share blacklisted"),
               ("refusals_per_person", "refusals per person (all months)"))
    fig, axes = new_figure(3, width=12, height=3.8)
    for ax, (m, title) in zip(axes[0], metrics):
        vals = [s[key][g].get(m) or 0.0 for key, g in groups]
        ax.bar(range(len(vals)), vals, color=colours)
        ax.set_xticks(range(len(vals)), labels, rotation=60, ha="right", fontsize=8)
        if m == "score_mean" and vals:
            base = run.scenario_dict.get("scoring", {}).get("base", vals[0])
            lo, hi = min(vals + [base]), max(vals + [base])
            pad = max((hi - lo) * 0.3, 1.0)
            ax.set_ylim(lo - pad, hi + pad)
            ax.axhline(base, color="black", ls="--", lw=0.9, label="everyone's score at the start")
            ax.legend(frameon=False, fontsize=8, loc="upper left")
        if m.endswith("_share"):
            ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=None))
        ax.set_title(title, fontsize=10)
        ax.grid(alpha=0.3, axis="y")
    fig.subplots_adjust(bottom=0.24)
    ineq = s.get("inequality", {})
    gap = ineq.get("score_gap_top_minus_bottom_quintile", 0.0)
    ratio = ineq.get("blacklist_share_bottom_over_top_quintile", 0.0)
    q = s.get("by_income_quintile", {})
    if ratio:
        ratio_text = f"the poorest fifth is blacklisted {ratio:.1f} times as often"
    elif not q or not q[min(q)].get("blacklist_share"):
        ratio_text = "no one in the poorest fifth is blacklisted"
    else:
        ratio_text = "no one in the richest fifth is blacklisted"
    caption = (f"Outcomes at the end by initial education (grey) and initial income fifth (orange), all "
               f"starting from the same score: the richest fifth ends {gap:+.1f} points above the poorest, "
               f"and {ratio_text}.")
    return Chart("inequality", "Outcomes by initial education and income", caption, to_png(fig))


def mobility(run) -> Chart:
    mob = run.summary.get("grade_mobility", {})
    names = mob.get("grades", [])
    shares = np.array(mob.get("shares", [[0.0]]), dtype=float)
    counts = np.array(mob.get("counts", [[0]]), dtype=float)
    fig, axes = new_figure(1, width=6.5, height=5.2)
    ax = axes[0, 0]
    ax.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    for i in range(shares.shape[0]):
        for j in range(shares.shape[1]):
            if counts[i, j]:
                ax.text(j, i, f"{shares[i, j]:.0%}", ha="center", va="center", fontsize=8,
                        color="white" if shares[i, j] > 0.6 else "black")
    ax.set_xticks(range(len(names)), names)
    ax.set_yticks(range(len(names)), names)
    ax.set_xlabel("grade at the end")
    ax.set_ylabel(f"grade at step {mob.get('from_step', '?')}")
    stay = np.trace(counts) / counts.sum() if counts.sum() else 0.0
    caption = (f"Where persons of each grade at mid-run (step {mob.get('from_step', '?')}, rows) ended "
               f"(columns), as shares of the row: {pct(stay)} of persons end in the grade they held then.")
    return Chart("mobility", "Grade mobility matrix", caption, to_png(fig))


def register(run) -> Chart | None:
    if "register" not in run.tables:
        return None
    ts = run.timeseries
    df = run.sql("SELECT step, channel, is_true, count(*) AS n FROM register GROUP BY ALL")
    if df.empty:
        return None
    true = df[df["is_true"]].pivot_table(index="step", columns="channel", values="n", aggfunc="sum",
                                        fill_value=0, observed=True)
    true = true.reindex(ts["step"], fill_value=0)
    false = df[~df["is_true"]].groupby("step")["n"].sum().reindex(ts["step"], fill_value=0)
    fig, axes = new_figure(1, width=10)
    ax = axes[0, 0]
    x = years(ts).to_numpy()
    ax.stackplot(x, *[true[c].to_numpy() for c in true.columns], labels=list(true.columns), alpha=0.85)
    ax.plot(x, false.to_numpy(), color="black", ls="--", lw=1.2, label="false records")
    time_axis(ax, ts, "records per month", legend=False)
    ax.legend(frameon=False, fontsize=8, loc="center left", bbox_to_anchor=(1.0, 0.5), title="channel")
    fig.subplots_adjust(right=0.86)
    panel = run.summary.get("output", {}).get("register_panel", 1.0)
    sample = "" if panel >= 1.0 else f" (a random panel of {pct(panel)} of persons and companies)"
    caption = (f"Records entering the register each month by channel, false records dashed: "
               f"{count(df['n'].sum())} records in all{sample}, {count(false.sum())} of them false.")
    return Chart("register", "The register: records by channel", caption, to_png(fig))


def coverage(run) -> Chart:
    ts, x = run.timeseries, years(run.timeseries)
    fig, axes = new_figure(2, width=11)
    ax = axes[0, 0]
    for col in [c for c in ts.columns if c.startswith("coverage_")]:
        ax.plot(x, ts[col], label=col[len("coverage_"):])
    time_axis(ax, ts, "share of persons reached", share=True)
    ax.set_ylim(-0.02, 1.02)
    ax.set_title("roll-out of the channels", fontsize=10)
    ax = axes[0, 1]
    for col, label, colour in (("internalization_mean", "internalization", SANCTION),
                               ("salience_mean", "score salience", REWARD),
                               ("perceived_risk_mean", "perceived risk", NEUTRAL)):
        if col in ts:
            ax.plot(x, ts[col], color=colour, label=label)
    time_axis(ax, ts, "mean over persons")
    ax.set_ylim(0, 1)
    ax.set_title("what people have learned", fontsize=10)
    last = ts.iloc[-1]
    caption = (f"The reach of each observation channel month by month (left) and how far people have "
               f"internalized the standard, watch their score and expect to be seen (right): camera "
               f"coverage ends at {pct(last['coverage_cameras'])}, internalization at "
               f"{last['internalization_mean']:.2f}.")
    return Chart("coverage", "Roll-out and learning", caption, to_png(fig))


SECTIONS = (scores, grades, lists, compliance, dissent, false_records, sanctions, ties, inequality,
            mobility, register, coverage)
