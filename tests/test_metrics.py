"""Metric helpers: exact quantiles, Gini, assortativity."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from credsim.metrics import assortativity, gini, quantiles

QS = (0.05, 0.25, 0.5, 0.75, 0.95)


@settings(max_examples=60, deadline=None)
@given(arrays(np.float32, st.integers(1, 400),
              elements=st.floats(-1e6, 1e6, width=32, allow_nan=False, allow_infinity=False)))
def test_quantiles_match_numpy_percentile(x):
    # the same order statistics, linearly interpolated (numpy rounds the interpolation in
    # float32, credsim in float64: they agree to float32 precision)
    got, want = quantiles(x, QS), np.percentile(x, [100 * q for q in QS])
    assert np.allclose(got, want, rtol=1e-6, atol=1e-6 * float(np.abs(x).max()))
    assert np.all(np.diff(got) >= 0) and got[0] >= x.min() and got[-1] <= x.max()


def test_gini_bounds_and_known_values():
    assert gini(np.ones(100)) == 0.0
    x = np.zeros(100)
    x[-1] = 1.0
    assert abs(gini(x) - 0.99) < 1e-12
    assert gini(np.zeros(5)) == 0.0


def test_assortativity_of_a_perfectly_sorted_and_a_crossed_pair_graph():
    # two ties: (0,1) and (2,3); scores equal within ties -> +1; opposite -> -1
    degree = np.ones(4)
    same = np.array([1.0, 1.0, 5.0, 5.0])
    assert abs(assortativity(same, same, degree) - 1.0) < 1e-12
    score = np.array([1.0, 5.0, 1.0, 5.0])
    tie_mean = np.array([5.0, 1.0, 5.0, 1.0])
    assert abs(assortativity(score, tie_mean, degree) + 1.0) < 1e-12
    assert assortativity(np.full(4, 3.0), np.full(4, 3.0), degree) == 0.0
