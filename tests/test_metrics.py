"""Metric helpers: exact quantiles, Gini, assortativity."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import credsim
from credsim.engine.simulation import Simulation
from credsim.metrics import _order_stats, assortativity, gini, quantiles

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


def _cases():
    rng = np.random.default_rng(0)
    return {
        "normal": rng.normal(600, 80, 100_000),
        "one value": np.full(1000, 600.0),
        "few integers, negative too": rng.integers(-3, 3, 5000),
        "tiny": rng.random(70_000) * 1e-30,  # the keys span few bits: one level is exact
        "half at one value": np.concatenate([np.full(50_000, 600.0), rng.uniform(350, 950, 50_000)]),
        "infinities and signed zeros": np.array([-np.inf, np.inf, 0.0, -0.0, -1.0]),
        "heavy tails": rng.standard_cauchy(40_000),  # the keys span all 32 bits
        "extremes": np.array([3e38, -3e38, 0.0]),
        "signed zeros at both ends": np.array([0.0, -0.0, 0.0, -0.0, 0.0]),
        "a signed zero at the low end": np.array([0.0, 2.5, -0.0, 7.0]),
        # x.max() is -0.0 here, though 0.0 is the greatest key
        "a signed zero at the high end": np.concatenate([-rng.random(3000), [0.0, -0.0]]),
        "one": np.array([1.0]),
    }


@pytest.mark.parametrize("case", list(_cases()))
@pytest.mark.parametrize("parts", [1, 2, 3])
@pytest.mark.parametrize("known", [False, True])
def test_order_stats_are_exact(case, parts, known):
    """The radix select gives exactly the sorted array's elements, whatever the split into parts,
    with the range measured or given as x.min() and x.max() (which take -0.0 for 0.0)."""
    x = _cases()[case].astype(np.float32)
    ranks = np.unique(np.concatenate([[0, len(x) - 1, len(x) // 2],
                                      np.random.default_rng(1).integers(0, len(x), 12)])).astype(np.int64)
    out = np.empty(len(ranks), np.uint32)
    bounds = np.array([x.min(), x.max()] if known else [], np.float32)
    _order_stats(x, ranks, parts, out, bounds)
    assert np.array_equal(out.view(np.float32), np.sort(x)[ranks])


def test_gini_bounds_and_known_values():
    assert gini(np.ones(100)) == 0.0
    x = np.zeros(100)
    x[-1] = 1.0
    assert abs(gini(x) - 0.99) < 1e-12
    assert gini(np.zeros(5)) == 0.0


def _assortativity(score, tie_mean, degree):
    d, s = degree.astype(np.float64), score.astype(np.float64)
    return assortativity((d * s).sum(), (d * s * s).sum(), (d * s * tie_mean).sum(), d.sum())


def test_assortativity_of_a_perfectly_sorted_and_a_crossed_pair_graph():
    # two ties: (0,1) and (2,3); scores equal within ties -> +1; opposite -> -1
    degree = np.ones(4)
    same = np.array([1.0, 1.0, 5.0, 5.0])
    assert abs(_assortativity(same, same, degree) - 1.0) < 1e-12
    score = np.array([1.0, 5.0, 1.0, 5.0])
    tie_mean = np.array([5.0, 1.0, 5.0, 1.0])
    assert abs(_assortativity(score, tie_mean, degree) + 1.0) < 1e-12
    assert _assortativity(np.full(4, 3.0), np.full(4, 3.0), degree) == 0.0


def test_step_row_matches_numpy():
    """The one-pass metrics kernel against plain NumPy on the same state (seed, 10,000 persons,
    a year: scores, lists, actions and degrees all vary; the kernel sums them in four parts)."""
    from credsim.metrics import _parts

    sc = credsim.load_scenario("seed", overrides={"population.agents": 10_000, "run.steps": 13})
    assert _parts(10_000) == 4
    sim = Simulation(sc)
    for _ in range(12):
        sim.step()
    row = sim.step()
    st, v, ctx = sim.state, sim.view, sim.last_ctx
    n = len(st.score)
    assert np.isclose(row["score_mean"], st.score.astype(np.float64).mean(), rtol=1e-12)
    assert np.isclose(row["perceived_risk_mean"], st.risk.astype(np.float64).mean(), rtol=1e-12)
    assert np.isclose(row["income_mean"], st.income.astype(np.float64).mean(), rtol=1e-12)
    assert np.isclose(row["score_assortativity"], _assortativity(st.score, v.tie_mean, v.degree), atol=1e-9)
    # the scores' range the pass over the ties measures (the quantiles start from it)
    assert v.score_range == (float(st.score.min()), float(st.score.max()))
    assert np.isclose(row["score_p95"], np.percentile(st.score, 95), rtol=1e-6)
    assert row["blacklist_share"] == np.count_nonzero(st.black) / n > 0
    assert row["mean_degree"] == v.degree.sum() / n
    black = st.black
    assert row["listed_friend_degree"] == v.friend_degree[black].mean()
    assert row["listed_isolated_share"] == np.count_nonzero(black & (v.friend_degree == 0)) / black.sum()
    assert row["late_bill_rate"] == np.count_nonzero(ctx.acted & 1) / n > 0
    assert row["dissent_private_share"] == np.count_nonzero(ctx.dissent_private) / n
    shares = np.bincount(st.grade, minlength=len(sc.scoring.grades)) / n
    assert [row[f"grade_{g.name}_share"] for g in sc.scoring.grades] == list(shares)
    assert len({round(x, 6) for x in shares}) > 2
    # every value a plain Python number (no NumPy scalars: the rows go to JSON, Parquet, repr)
    assert {type(x) for x in row.values()} == {int, float}
