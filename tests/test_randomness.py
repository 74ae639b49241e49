"""The counter-based draws' helpers decide exactly as their plain formulas do."""

from __future__ import annotations

import numba as nb
import numpy as np

from credsim.randomness import below_logistic, logistic


@nb.njit(cache=True)
def _disagreements(u, x):
    bad = 0
    for i in range(len(u)):
        bad += below_logistic(u[i], x[i]) != (u[i] < logistic(x[i]))
    return bad


def test_below_logistic_is_u_below_logistic():
    rng = np.random.default_rng(1)
    n = 2_000_000
    assert _disagreements(rng.random(n), rng.normal(0, 4, n)) == 0
    # draws one float step on either side of p, where a loose bound would go wrong
    x = rng.normal(0, 3, n)
    p = 1 / (1 + np.exp(-x))
    assert _disagreements(np.nextafter(p, p + rng.choice([-1.0, 1.0], n)), x) == 0
    assert _disagreements(p, x) == 0
    edges = np.array([0.0, -0.0, 1e-300, -1e-300, 36.0, -36.0, 700, -700, 1e308, -1e308, np.inf, -np.inf])
    grid = np.linspace(0, 1, 1001)[:-1]
    assert _disagreements(np.repeat(grid, len(edges)), np.tile(edges, len(grid))) == 0
