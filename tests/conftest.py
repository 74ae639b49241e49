"""Shared helpers: small, fixed-seed runs, cached so several tests can read one run."""

from __future__ import annotations

import functools
import json

import pytest

import credsim

SMALL = 3000


@functools.lru_cache(maxsize=64)
def _cached(scenario: str, overrides_json: str) -> credsim.Result:
    return credsim.run(scenario, **json.loads(overrides_json))


def small_run(scenario: str = "seed", **overrides) -> credsim.Result:
    """A cached run of a built-in scenario (3,000 persons, 36 months unless overridden)."""
    overrides.setdefault("agents", SMALL)
    overrides.setdefault("steps", 36)
    return _cached(scenario, json.dumps(overrides, sort_keys=True))


@pytest.fixture
def run_small():
    return small_run


@pytest.fixture(scope="session")
def seed_run_dir(tmp_path_factory):
    """One finished `seed` run folder with a report (2,000 persons, 24 months, snapshot at 5)."""
    out = tmp_path_factory.mktemp("runs") / "seed-3"
    credsim.run("seed", agents=2000, steps=24, seed=3, out=out, **{"output.snapshots": [5]})
    return out


# safeguards with many false face matches and a high threshold: listings, appeals, upheld ones
APPEALS = {"recognition.false_match_rate": 0.01, "recognition.human_review": 0.0,
           "channels.cameras.schedule.national_start": 0, "lists.black_threshold": 950,
           "lists.exit_threshold": 960}


@pytest.fixture(scope="session")
def dashboard_url():
    """`credsim dashboard --port 0` in a subprocess; its URL (the server stops after the session)."""
    import subprocess
    import sys
    import time

    proc = subprocess.Popen([sys.executable, "-m", "credsim", "dashboard", "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        start = time.monotonic()
        line = proc.stdout.readline()
        if "http://" not in line:
            pytest.fail(f"the dashboard did not start: {line}{proc.stdout.read()}")
        url = line.split("on ", 1)[1].split()[0]
        print(f"dashboard up in {time.monotonic() - start:.1f} s at {url}")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
