"""report.html: one self-contained page (figures embedded as PNG, no script, no network).

At the top the scenario's key settings and the run's provenance, then the headline metrics,
then one figure per section of `sections.SECTIONS`, each with its caption.
"""

from __future__ import annotations

import base64
import html
import time
from pathlib import Path

from ..output.headline import fmt, headline
from ..output.runs import open_run
from .plots import Chart
from .sections import SECTIONS

CSS = """
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #222; margin: 0 auto;
       max-width: 1180px; padding: 1.2em 1.5em 3em; }
h1 { font-size: 1.6em; margin-bottom: .2em; } h2 { font-size: 1.2em; margin: 1.6em 0 .4em; }
table { border-collapse: collapse; margin: .6em 0; font-size: .92em; }
th, td { border-bottom: 1px solid #ddd; padding: .25em .7em; text-align: left; vertical-align: top; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.desc { color: #444; max-width: 60em; } .prov { color: #666; font-size: .85em; }
figure { margin: 1.4em 0 2em; } figure img { max-width: 100%; height: auto; display: block; }
figcaption { color: #333; max-width: 62em; margin-top: .4em; font-size: .95em; }
nav ol { columns: 2; font-size: .92em; } footer { color: #777; font-size: .85em; margin-top: 3em; }
"""


def esc(text) -> str:
    return html.escape(str(text), quote=True)


def page(title: str, body: str) -> str:
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{esc(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n")


def figure_html(chart: Chart) -> str:
    data = base64.b64encode(chart.png).decode("ascii")
    return (f'<figure id="{esc(chart.key)}" class="chart">\n<h2>{esc(chart.title)}</h2>\n'
            f'<img src="data:image/png;base64,{data}" alt="{esc(chart.title)}">\n'
            f"<figcaption>{esc(chart.caption)}</figcaption>\n</figure>")


def table_html(header: list[str], rows: list[list[str]], numeric_from: int = 1, cls: str = "") -> str:
    def cell(tag, i, v):
        num = ' class="num"' if i >= numeric_from else ""
        return f"<{tag}{num}>{esc(v)}</{tag}>"

    head = "".join(cell("th", i, h) for i, h in enumerate(header))
    body = "\n".join("<tr>" + "".join(cell("td", i, v) for i, v in enumerate(r)) + "</tr>" for r in rows)
    return f'<table class="{cls}">\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n</tbody>\n</table>'


def key_settings(sc: dict) -> list[list[str]]:
    """The scenario's key settings as (setting, value) rows, read from scenario.toml's data."""
    run, pop, ch = sc.get("run", {}), sc.get("population", {}), sc.get("channels", {})
    rows = [["run", f"{pop.get('agents', 0):,} persons in {pop.get('regions', '?')} regions; "
                    f"{run.get('steps', '?')} months; seed {run.get('seed', '?')}"]]
    on = [f"{name} {float(c.get('coverage', 0)):.0%}" for name, c in ch.items()
          if isinstance(c, dict) and c.get("enabled")]
    rows.append(["channels (coverage)", ", ".join(on) or "none: no channel records anything"])
    if ch.get("cameras", {}).get("enabled"):
        r = sc.get("recognition", {})
        rows.append(["face recognition", f"hit rate {r.get('hit_rate', 0):.0%}, false-match rate "
                     f"{r.get('false_match_rate', 0):g} per scan, {r.get('scans_per_month', 0):g} scans a month, "
                     f"human review {r.get('human_review', 0):.0%}"])
    s = sc.get("scoring", {})
    rows.append(["scoring", "off" if not s.get("enabled") else
                 f"base {s.get('base'):g} in [{s.get('min'):g}, {s.get('max'):g}], decay {s.get('decay', 0):.0%} a month, "
                 f"network weight {s.get('network_weight', 0):g}, {s.get('listed_tie_penalty', 0):g} points "
                 f"per blacklisted tie; grades {', '.join(g['name'] for g in s.get('grades', []))}"])
    rules = [f"{r['event']} {r.get('points', 0):+g}{' (lists)' if r.get('lists') else ''}" for r in sc.get("rules", [])]
    rows.append(["rules", ", ".join(rules) or "none"])
    L = sc.get("lists", {})
    if L.get("blacklist") or L.get("redlist"):
        parts = []
        if L.get("blacklist"):
            parts.append(f"blacklist below {L.get('black_threshold'):g}, exit at {L.get('exit_threshold'):g} "
                         f"after {L.get('min_term')} months at least")
        if L.get("redlist"):
            parts.append(f"red list from {L.get('red_threshold'):g}")
        parts.append("names published" if L.get("naming") else "not published")
        parts.append(f"appeals: {L.get('appeal_rate', 0):.0%} a month, upheld {L.get('appeal_success', 0):.0%}"
                     if L.get("appeals") else "no appeals")
        rows.append(["lists", "; ".join(parts)])
    else:
        rows.append(["lists", "none"])
    sanctions = [k for k, v in sc.get("sanctions", {}).items() if isinstance(v, dict) and v.get("enabled")]
    rows.append(["sanctions and rewards", ", ".join(sanctions) or "none"])
    learn, fb = sc.get("learning", {}), sc.get("feedback", {})
    rows.append(["propaganda, gamification", f"{learn.get('propaganda', 0):g}, {learn.get('gamification', 0):g}"])
    rows.append(["feedback loop", f"on (gain {fb.get('gain', 0):g}, up to +{fb.get('max_boost', 0):g} coverage)"
                 if fb.get("enabled") else "off"])
    legit = sc.get("behaviour", {}).get("legitimacy")
    if legit is not None:
        rows.append(["legitimacy", f"{legit:g}"])
    out = sc.get("output", {})
    if out:
        panel = out.get("register_panel", 1.0)
        rows.append(["register", ("off" if not out.get("register_records", True) else
                                  "every record" if panel >= 1 else f"a random panel of {panel:.1%} of subjects")])
    return rows


def timeline_rows(summary: dict) -> list[list[str]]:
    """One settings row per timeline change (summary["timeline"]: [{"step": k, "set": {...}}])."""
    rows = []
    for change in summary.get("timeline") or []:
        if isinstance(change, dict) and "step" in change:
            sets = ", ".join(f"{k} = {v}" for k, v in (change.get("set") or {}).items())
            rows.append([f"timeline, step {change['step']}", sets or "(nothing changed)"])
    return rows


def build_report(run) -> tuple[str, list[Chart]]:
    """The HTML of a run's report and its figures."""
    s, sc = run.summary, run.scenario_dict
    charts = [c for c in (section(run) for section in SECTIONS) if c is not None]
    title = f"credsim report: {run.label}"
    desc = " ".join(str(sc.get("description", "")).split())
    prov = (f"credsim {s.get('credsim_version', '?')} · scenario {s.get('scenario', '?')} · hash "
            f"{s.get('scenario_hash', '?')} · seed {s.get('seed', '?')} · {s.get('agents', 0):,} persons · "
            f"{s.get('steps', '?')} months · run time {s.get('wall_time_s', 0):.1f} s · folder {run.path.name}")
    heads = [[label, fmt(value, kind)] for _, label, value, kind in headline(s)]
    contents = "".join(f'<li><a href="#{esc(c.key)}">{esc(c.title)}</a></li>' for c in charts)
    body = [
        f"<header>\n<h1>{esc(title)}</h1>",
        f'<p class="desc">{esc(desc)}</p>' if desc else "",
        "<h2>Key settings</h2>",
        table_html(["setting", "value"], key_settings(sc) + timeline_rows(s), numeric_from=99, cls="settings"),
        f'<p class="prov">{esc(prov)}</p>\n</header>',
        f"<nav><h2>Contents</h2><ol><li><a href=\"#headline\">Headline metrics</a></li>{contents}</ol></nav>",
        '<section id="headline"><h2>Headline metrics</h2>',
        table_html(["metric", "value"], heads, cls="headline"),
        "</section>",
        '<section id="figures">',
        *[figure_html(c) for c in charts],
        "</section>",
        "<footer>A synthetic society: every person and company in this run was generated; none is real. "
        "Rebuild this page with <code>credsim report RUN_DIR</code>; query the tables with "
        "<code>credsim query RUN_DIR \"SQL\"</code>.</footer>",
    ]
    return page(title, "\n".join(b for b in body if b)), charts


def write_atomic(out: Path, text: str) -> Path:
    """Write `text` to `out` through a hidden sibling, so `out` is never half-written."""
    tmp = out.with_name(f".{out.name}.partial-{time.time_ns()}")
    try:
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(out)
    finally:
        tmp.unlink(missing_ok=True)
    return out


def write_report(path: str | Path, figures: str | Path | None = None) -> Path:
    """(Re)build `report.html` in a run folder; with `figures`, also save each figure as a PNG there."""
    with open_run(path) as run:
        text, charts = build_report(run)
    out = write_atomic(Path(path) / "report.html", text)
    if figures is not None:
        folder = Path(figures)
        folder.mkdir(parents=True, exist_ok=True)
        for c in charts:
            (folder / f"{c.key}.png").write_bytes(c.png)
    return out
