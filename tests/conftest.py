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
