"""The counter-based draws' helpers decide exactly as their plain formulas do."""

from __future__ import annotations

import numba as nb
import numpy as np

from credsim.randomness import below_logistic, logistic, logistic_bounds, uniform, uniform_lanes


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


@nb.njit(cache=True)
def _lanes_vs_uniform(seeds, draws):
    differ = 0
    for i in range(len(seeds)):
        for d in draws:
            differ += uniform_lanes(seeds[i], d) != uniform(seeds[i], d)
    return differ


def test_uniform_lanes_is_uniform_bit_for_bit():
    rng = np.random.default_rng(5)
    seeds = rng.integers(0, 2**64, 200_000, dtype=np.uint64, endpoint=False)
    seeds[:4] = [0, 1, 2**63, 2**64 - 1]
    assert _lanes_vs_uniform(seeds, np.array([0, 1, 7, 12, 1000, 2**31])) == 0


@nb.njit(cache=True)
def _bound_codes(u, x, out):
    for i in range(len(u)):
        out[i] = logistic_bounds(u[i], x[i])


def test_logistic_bounds_decide_only_when_sure():
    rng = np.random.default_rng(2)
    n = 2_000_000
    x = np.concatenate([rng.normal(0, 4, n), rng.normal(0, 0.5, n)])
    u = rng.random(2 * n)
    codes = np.empty(2 * n, np.int32)
    _bound_codes(u, x, codes)
    truth = u < 1 / (1 + np.exp(-x))
    decided = codes != 2
    assert np.array_equal(codes[decided] == 1, truth[decided])
    # every draw but those within about 1e-9 of p is decided without the exp (the point of the
    # bounds; expected undecided here: about 4e6 * 2e-9 = 0.01)
    assert (~decided).sum() <= 2
    # and draws close to p for larger |x| (the bounds are within 1e-8 of each other relative to p
    # for |x| <= 4, 1e-5 for |x| <= 12; the margin of 1e-9 is below 2e-4 of p there)
    x = rng.uniform(-12, 12, n)
    u = 1 / (1 + np.exp(-x)) * rng.uniform(0.99, 1.01, n)  # draws within 1 % of p
    _bound_codes(u, x, codes[:n])
    truth = u < 1 / (1 + np.exp(-x))
    assert np.array_equal(codes[:n][codes[:n] != 2] == 1, truth[codes[:n] != 2])
    assert (codes[:n] == 2).mean() < 0.005
    # utility -inf (who cannot act): never done
    _bound_codes(u[:1000], np.full(1000, -np.inf), codes[:1000])
    assert not np.any(codes[:1000] == 1)


def test_step_key_is_a_full_range_integer_draw():
    """step_key takes the raw 64 bits; the keys and the stream after them are those of
    `integers(0, 2**64, dtype=uint64)`, so no run's draws moved when it changed."""
    from credsim.randomness import step_key, stream

    a, b = stream(11, "ties"), stream(11, "ties")
    keys = [step_key(a) for _ in range(64)]
    assert all(isinstance(k, np.uint64) for k in keys)
    assert keys == [b.integers(0, 2**64, dtype=np.uint64) for _ in range(64)]
    assert len(set(keys)) == 64 and max(keys) >= 2**63  # the high bit is drawn too
    assert a.random() == b.random()
