"""report.html and compare.html: every section, captions, self-contained; a real browser renders them."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import credsim
from credsim.cli import app
from credsim import Simulation, load_scenario
from credsim.output import write_run
from credsim.report.page import timeline_rows
from credsim.report.plots import new_figure, time_axis, timeline_steps

SECTIONS = ("scores", "grades", "lists", "compliance", "dissent", "false-records", "sanctions", "ties",
            "inequality", "mobility", "register", "coverage")
CHROMIUM = "/usr/bin/chromium"
runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


def figures(text: str) -> list[tuple[str, str]]:
    """(id, caption) of every figure of a page."""
    return re.findall(r'<figure id="([^"]+)" class="chart">.*?<figcaption>(.*?)</figcaption>', text, re.S)


def test_the_report_has_every_section_and_is_self_contained(seed_run_dir):
    text = (seed_run_dir / "report.html").read_text()
    found = figures(text)
    assert [key for key, _ in found] == list(SECTIONS)
    assert all(len(caption) > 40 and caption.rstrip().endswith(".") for _, caption in found)
    assert text.count('<img src="data:image/png;base64,') == len(SECTIONS)
    settings = text.split("Key settings")[1].split("Contents")[0]
    for setting in ("channels (coverage)", "face recognition", "scoring", "rules", "lists", "feedback loop"):
        assert f"<td>{setting}</td>" in settings
    assert "seed (seed 3)" in text and "Headline metrics" in text
    assert not re.search(r'(src|href)="(https?:)?//', text) and "<script" not in text


def test_credsim_report_rebuilds_the_page_and_saves_figures(seed_run_dir, tmp_path):
    page = seed_run_dir / "report.html"
    before = page.read_text()
    page.unlink()
    r = invoke("report", seed_run_dir, "--figures", tmp_path / "figs")
    assert r.exit_code == 0, r.output
    assert figures(page.read_text()) == figures(before)
    assert sorted(p.stem for p in (tmp_path / "figs").iterdir()) == sorted(SECTIONS)
    r = invoke("report", tmp_path)
    assert r.exit_code == 2 and "not a run folder" in r.output and "Traceback" not in r.output


def test_timeline_changes_are_dashed_lines_on_time_plots():
    ts = pd.DataFrame({"step": range(36), "year": [s / 12 for s in range(36)], "x": range(36),
                       "timeline_changes": [0] * 12 + [2] + [0] * 11 + [1] + [0] * 11})
    assert timeline_steps(ts) == [12, 24]
    fig, axes = new_figure()
    ax = axes[0, 0]
    ax.plot(ts["year"], ts["x"])
    time_axis(ax, ts)
    marks = [line for line in ax.get_lines() if line.get_gid() == "timeline"]
    assert [line.get_xdata()[0] for line in marks] == [1.0, 2.0]
    assert all(line.get_linestyle() == "--" for line in marks)
    fig, axes = new_figure()
    time_axis(axes[0, 0], ts.drop(columns="timeline_changes"))
    assert not [line for line in axes[0, 0].get_lines() if line.get_gid() == "timeline"]
    summary = {"timeline": [{"step": 12, "set": {"lists.naming": False, "behaviour.legitimacy": 0.5}}]}
    assert timeline_rows(summary) == [["timeline, step 12", "lists.naming = False, behaviour.legitimacy = 0.5"]]
    assert timeline_rows({}) == []


def test_a_folder_without_register_or_snapshots_still_gets_a_report(tmp_path):
    sc = load_scenario("sesame", overrides={"population.agents": 600, "run.steps": 5})
    sim = Simulation(sc)
    sim.run()
    write_run(tmp_path / "r", sc, sim.rows, sim.summary(), 0.1)
    keys = [key for key, _ in figures((tmp_path / "r" / "report.html").read_text())]
    assert keys == [k for k in SECTIONS if k != "register"]


def test_compare_labels_runs_and_shows_the_differences(seed_run_dir, tmp_path):
    runs = []
    for name, seed in (("baseline", 1), ("safeguards", 2)):
        out = tmp_path / name
        credsim.run(name, agents=1500, steps=12, seed=seed, out=out, **{"output.report": False})
        runs.append(out)
    out = tmp_path / "cmp.html"
    r = invoke("compare", runs[0], seed_run_dir, runs[1], "--out", out)
    assert r.exit_code == 0, r.output
    for label in ("baseline (seed 1)", "seed (seed 3)", "safeguards (seed 2)", "seed (seed 3) - baseline (seed 1)"):
        assert label in r.output
    line = next(row for row in r.output.splitlines() if "share blacklisted" in row)
    assert re.search(r"\+\d+\.\d\d pp", line)  # the seed run lists people; the baseline does not
    text = out.read_text()
    assert "safeguards (seed 2)" in text and len(figures(text)) == 3
    twice = invoke("compare", seed_run_dir, seed_run_dir, "--out", tmp_path / "twice.html")
    assert twice.exit_code == 0 and f"seed (seed 3) [{seed_run_dir.name}]" in twice.output
    assert invoke("compare", seed_run_dir).exit_code == 2
    bad = invoke("compare", seed_run_dir, tmp_path / "nothing")
    assert bad.exit_code == 2 and "no such run folder" in bad.output


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} is not installed (apt-get install chromium)")
def test_every_figure_renders_in_a_browser(seed_run_dir):
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    requests = []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--no-first-run"])
        try:
            page = browser.new_page()
            page.on("request", lambda req: requests.append(req.url))
            page.goto((seed_run_dir / "report.html").resolve().as_uri(), wait_until="load")
            shown = page.evaluate("""() => [...document.querySelectorAll('figure')].map(f => {
                const img = f.querySelector('img');
                return {id: f.id, ok: !!img && img.complete && img.naturalWidth > 0 && img.naturalHeight > 0,
                        caption: (f.querySelector('figcaption') || {}).textContent || ''};
            })""")
        finally:
            browser.close()
    assert [f["id"] for f in shown] == list(SECTIONS)
    assert all(f["ok"] for f in shown), [f["id"] for f in shown if not f["ok"]]
    assert all(f["caption"].strip() for f in shown)
    assert all(url.startswith(("file:", "data:")) for url in requests), requests
