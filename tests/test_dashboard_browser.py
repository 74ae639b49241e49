"""The dashboard in a real browser: Debian's Chromium driven by Playwright.

One server (`credsim dashboard --port 0` in a subprocess) and one page: load it, see a bad
value refused next to its control, change a lever, run a small society, watch the charts fill
point by point and the numbers change, run the baseline and see both side by side, open the
report and download the run folder.  The screenshot lands in the test's tmp folder (set
CREDSIM_SCREENSHOT=PATH to keep a copy, e.g. for the README).
"""

from __future__ import annotations

import io
import os
import shutil
import zipfile
from pathlib import Path

import pytest

from credsim.report.sections import SECTIONS

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run"]

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(),
                                reason=f"{CHROMIUM} is not installed (apt-get install chromium)")


@pytest.fixture(scope="module")
def page(dashboard_url):
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.requests = []
            page.on("request", lambda req: page.requests.append(req.url))
            page.goto(dashboard_url, wait_until="load")
            page.wait_for_selector("body[data-ready=true]", timeout=20_000)
            yield page
        finally:
            browser.close()


def lever(page, key: str):
    return page.locator(f'.lever[data-key="{key}"]')


def set_number(page, key: str, value) -> None:
    box = lever(page, key).locator("input[type=number]")
    box.fill(str(value))
    box.dispatch_event("change")


def points(page, chart: str, run_id: str) -> list[int]:
    """Points of each line a run has in a chart."""
    return page.eval_on_selector_all(f'svg[data-chart="{chart}"] polyline[data-run="{run_id}"]',
                                     "els => els.map(e => e.points.numberOfItems)")


def start(page, button: str) -> str:
    """Click Run or Run baseline; the id of the run it started."""
    selected = "() => (document.querySelector('.chip.selected') || {dataset: {}}).dataset.run || ''"
    before = page.evaluate(selected)
    page.click(button)
    page.wait_for_function(f"() => ({selected})() !== {before!r}")
    return page.evaluate(selected)


def wait_state(page, run_id: str, state: str, timeout: int = 180_000) -> None:
    page.wait_for_selector(f'.chip[data-run="{run_id}"] .sub:text-matches("{state}$")', timeout=timeout)


def test_controls_come_from_the_schema_with_a_sentence_each(page):
    keys = page.eval_on_selector_all(".lever", "els => els.map(e => e.dataset.key)")
    assert "recognition.false_match_rate" in keys and "sanctions.joint.enabled" in keys
    assert len(keys) == 21
    fmr = lever(page, "recognition.false_match_rate").locator("input[type=range]")
    assert fmr.get_attribute("max") == "0.1"  # the schema's le=0.1
    sentences = page.eval_on_selector_all(".lever .sentence", "els => els.map(e => e.textContent)")
    assert len(sentences) == len(keys) and all(s.endswith(".") and len(s) > 30 for s in sentences)


def test_a_bad_value_is_shown_next_to_its_control_and_blocks_the_run(page):
    set_number(page, "population.agents", 50)
    error = lever(page, "population.agents").locator(".err")
    error.wait_for(state="visible")
    assert "1,000 to 200,000" in error.text_content()
    assert page.locator("#run").is_disabled()
    set_number(page, "population.agents", 2000)
    page.wait_for_function("() => !document.querySelector('#run').disabled")
    assert error.text_content() == ""


def test_run_fill_charts_compare_with_baseline(page, tmp_path):
    before = page.locator('.number[data-col="blacklist_share"] .value').text_content()
    assert before == "–"
    set_number(page, "run.steps", 2)
    lever(page, "lists.naming").locator("input[type=checkbox]").uncheck()
    page.wait_for_function("() => !document.querySelector('#run').disabled")
    run = start(page, "#run")
    handle = page.query_selector(f'svg[data-chart="blacklist"] polyline[data-run="{run}"]')
    # the first run after installing compiles the engine: allow for it
    page.wait_for_function("e => e.points.numberOfItems > 0", arg=handle, timeout=180_000)
    wait_state(page, run, "done")
    # every month appended to the same line: the chart was never redrawn
    assert handle.evaluate("e => e.isConnected && e.points.numberOfItems") == 24
    for chart in ("blacklist", "innocents", "ties", "late", "score"):
        assert points(page, chart, run) == [24]
    assert "public naming off" in page.locator(f'.chip[data-run="{run}"]').text_content()
    numbers = page.eval_on_selector_all(".number .value", "els => els.map(e => e.textContent)")
    assert all(n != "–" for n in numbers), numbers
    assert numbers[0].endswith("%") and numbers[2].endswith("%")

    baseline = start(page, "#baseline")
    wait_state(page, baseline, "done")
    assert points(page, "dissent", baseline) == [24, 24]  # expressed and private
    assert page.eval_on_selector_all("#table thead th[data-run]", "els => els.map(e => e.textContent)")[-2:] == [
        "seed · public naming off", "baseline"]
    cells = page.locator('#table tr[data-col="blacklist_share"]')
    assert cells.locator(f'td[data-run="{baseline}"]').text_content() == "0%"
    assert cells.locator(f'td[data-run="{run}"]').text_content() != "0%"
    page.click(f'.chip[data-run="{run}"]')
    assert "vs the baseline" in page.locator('.number[data-col="blacklist_share"] .delta').text_content()

    frame = page.frame_locator("#report-frame")
    frame.locator("figure img").first.wait_for()
    assert frame.locator("figure").count() == len(SECTIONS)
    response = page.request.get(page.locator("#download").get_attribute("href", timeout=5000)
                                .replace("api/", page.url + "api/", 1))
    assert response.status == 200
    names = zipfile.ZipFile(io.BytesIO(response.body())).namelist()
    assert "seed-1/timeseries.parquet" in names and "seed-1/report.html" in names

    shot = tmp_path / "dashboard.png"
    page.screenshot(path=str(shot), full_page=False)
    assert shot.stat().st_size > 20_000
    if os.environ.get("CREDSIM_SCREENSHOT"):
        shutil.copy(shot, os.environ["CREDSIM_SCREENSHOT"])
    host = page.url.split("/")[2]
    assert all(url.split("/")[2] == host for url in page.requests if url.startswith("http")), page.requests
    assert all(url.startswith(("http://" + host, "data:")) for url in page.requests), page.requests


def test_stop_ends_a_run_early_and_keeps_its_points(page):
    set_number(page, "population.agents", 20_000)
    set_number(page, "run.steps", 30)
    page.wait_for_function("() => !document.querySelector('#run').disabled")
    run = start(page, "#run")
    line = page.query_selector(f'svg[data-chart="blacklist"] polyline[data-run="{run}"]')
    page.wait_for_function("e => e.points.numberOfItems >= 3", arg=line, timeout=30_000)
    page.click("#stop")
    wait_state(page, run, "stopped")
    [kept] = points(page, "blacklist", run)
    assert 3 <= kept < 360
    assert "stopped after month" in page.locator("#status").text_content()
    assert "did not finish" in page.locator("#report-note").text_content()


def test_a_reloaded_page_shows_the_runs_kept_with_every_point(page):
    before = page.eval_on_selector_all(".chip", "els => els.map(e => e.dataset.run)")
    lengths = {run: points(page, "blacklist", run) for run in before}
    page.reload(wait_until="load")
    page.wait_for_selector("body[data-ready=true]")
    assert page.eval_on_selector_all(".chip", "els => els.map(e => e.dataset.run)") == before
    page.wait_for_function("""want => Object.entries(want).every(([run, [n]]) => document.querySelector(
        `svg[data-chart="blacklist"] polyline[data-run="${run}"]`).points.numberOfItems === n)""", arg=lengths)
    assert {run: points(page, "blacklist", run) for run in before} == lengths  # caught up, nothing twice
    assert not page.locator("#run").is_disabled()
