"""docs/validation.md's measures: the Epstein burst statistic, Granovetter's mean-field curve."""

from __future__ import annotations

import numpy as np
import pytest

from credsim.scenario import load_scenario
from credsim.validation.epstein import burstiness, scenario
from credsim.validation.page import mean_field


def test_burstiness_tells_a_burst_from_a_steady_rise():
    steady = np.linspace(0.0, 1.0, 121)
    burst = np.r_[np.zeros(60), np.ones(61)]
    assert burstiness(steady)["jump_share"] == pytest.approx(0.1, abs=0.01)
    assert burstiness(burst)["jump_share"] == 1.0 and burstiness(burst)["half_at"] == 60


def test_epstein_scenario_lowers_legitimacy_every_year():
    sc = load_scenario(scenario(0.25, 1.0, steps=48))
    assert [e.step for e in sc.timeline] == [12, 24, 36]
    assert [e.set["behaviour.legitimacy"] for e in sc.timeline] == [0.85, 0.8, 0.75]


def test_granovetter_mean_field_jumps_near_a_spread_of_0_12():
    assert mean_field(0.10) < 0.02 and 0.03 < mean_field(0.12) < 0.07
    assert mean_field(0.13) > 0.99
