"""Companies' actions (`actions._companies_kernel`) decide exactly as their definition: each
action a with u(draw a) < logistic(util_a), a new court default only without a judgment owed,
an owed judgment paid with u(draw 4) < logistic(fulfil_base + pressure * listed), and what is
owed after."""

from __future__ import annotations

import numba as nb
import numpy as np
import pytest

from credsim.mechanisms.actions import COMPANY_COURT, _companies_kernel
from credsim.randomness import agent_seed, logistic, uniform


@nb.njit(cache=True)
def _definition(key, base, penalty, weight, consc_w, propensity, region, cov, fulfil_base, pressure_w,
                black, owed):
    n_ev, m = len(base), len(propensity)
    did = np.zeros((n_ev, m), np.bool_)
    paid = np.zeros(m, np.bool_)
    for i in range(m):
        s = agent_seed(key, i)
        for a in range(n_ev):
            util = (base[a] + consc_w * (0.5 - np.float64(propensity[i]))
                    - weight * np.float64(cov[a, region[i]]) * penalty[a])
            did[a, i] = uniform(s, a) < logistic(util)
        if owed[i]:
            did[COMPANY_COURT, i] = False
            paid[i] = uniform(s, n_ev) < logistic(fulfil_base + pressure_w * np.float64(black[i]))
    return did, paid


@pytest.mark.parametrize("threads", [1, 2])
def test_companies_decide_as_defined(threads):
    rng = np.random.default_rng(3)
    m, regions = 200_000, 7
    base = np.array([-3.0, -2.0, 0.5, -4.5])  # rare and common actions, |util| up to about 6
    penalty = np.array([1.5, 0.0, 2.0, 3.0])
    propensity = rng.beta(4.0, 2.0, m).astype(np.float32)
    region = rng.integers(0, regions, m).astype(np.int32)
    cov = rng.random((4, regions)).astype(np.float32)
    black = rng.random(m) < 0.2
    owed = rng.random(m) < 0.3
    key = np.uint64(987654321)
    args = (key, base, penalty, 1.2, 2.0, propensity, region, cov, -1.0, 1.5, black)
    did_want, paid_want = _definition(*args, owed)
    did = np.empty((4, m), np.bool_)
    paid = np.empty(m, np.bool_)
    default_out = owed.copy()
    previous = nb.get_num_threads()
    nb.set_num_threads(min(threads, nb.config.NUMBA_NUM_THREADS))
    try:
        _companies_kernel(*args, default_out, did, paid)
    finally:
        nb.set_num_threads(previous)
    assert np.array_equal(did, did_want)
    assert np.array_equal(paid, paid_want)
    assert not (paid & ~owed).any() and not (did[COMPANY_COURT] & owed).any()
    assert np.array_equal(default_out, (owed & ~paid) | did[COMPANY_COURT])
    # every kind of outcome occurs, so the comparisons above are not empty
    for a in range(4):
        assert 0 < did[a].sum() < m
    assert 0 < paid.sum() < owed.sum()
