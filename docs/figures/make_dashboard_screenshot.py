"""Take the README's screenshot of the dashboard (needs /usr/bin/chromium and playwright).

    python docs/figures/make_dashboard_screenshot.py     # writes docs/figures/dashboard.png

Starts `credsim dashboard --port 0`, runs `seed` for 20,000 persons and ten years, the same
with five times the face-recognition false-match rate, and the baseline, and photographs the page.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

OUT = Path(__file__).with_name("dashboard.png")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]


def run_and_wait(page, button: str, count: int) -> None:
    page.wait_for_function(f"() => !document.querySelector('{button}').disabled")
    page.click(button)
    page.wait_for_function(f"() => [...document.querySelectorAll('.chip .sub')].filter("
                           f"e => e.textContent.endsWith('done')).length === {count}", timeout=300_000)


def fill(page, key: str, value) -> None:
    box = page.locator(f'.lever[data-key="{key}"] input[type=number]')
    box.fill(str(value))
    box.dispatch_event("change")


def main() -> None:
    server = subprocess.Popen([sys.executable, "-m", "credsim", "dashboard", "--port", "0"],
                              stdout=subprocess.PIPE, text=True)
    try:
        url = server.stdout.readline().split("on ", 1)[1].split()[0]
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1040})
            page.goto(url)
            page.wait_for_selector("body[data-ready=true]")
            fill(page, "population.agents", 20_000)
            run_and_wait(page, "#run", 1)
            fill(page, "recognition.false_match_rate", 0.001)
            run_and_wait(page, "#run", 2)
            run_and_wait(page, "#baseline", 3)
            page.click(".chip >> nth=0")
            page.screenshot(path=str(OUT))
            browser.close()
    finally:
        server.terminate()
        server.wait()
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
