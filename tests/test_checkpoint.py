"""Checkpoints: a run saved and restored between steps continues exactly as it would have."""

from __future__ import annotations

import pandas as pd
import pytest

from credsim import Simulation, load_scenario


@pytest.mark.parametrize("name,extra", [
    ("seed", {}),
    ("seed-lifted", {"timeline[0].at": 6}),  # a timeline change before the cut and a reference run
    ("court-blacklist", {}),
])
def test_restored_run_is_identical(tmp_path, name, extra):
    sc = load_scenario(name, overrides={"population.agents": 1500, "run.steps": 14, "run.seed": 5, **extra})
    whole = Simulation(sc)
    whole.run()
    first = Simulation(sc)
    for _ in range(9):
        first.step()
    first.save_checkpoint(tmp_path / "ck")
    del first
    resumed = Simulation.from_checkpoint(sc, tmp_path / "ck")
    assert resumed.state.step == 9
    resumed.run()
    pd.testing.assert_frame_equal(pd.DataFrame(whole.rows), pd.DataFrame(resumed.rows))
    assert whole.summary() == resumed.summary()
    assert (whole.society.graph.nbr == resumed.society.graph.nbr).all()


def test_a_checkpoint_with_free_slots_among_live_ties_is_packed_on_restore(tmp_path):
    """Checkpoints from before 2026-12 could hold free slots anywhere in a row; the engine
    reads each row only up to its first free slot, so a restore moves the live ties first."""
    import numpy as np

    from graph_helpers import live_ties, packed

    sc = load_scenario("seed", overrides={"population.agents": 1500, "run.steps": 8, "run.seed": 3})
    sim = Simulation(sc)
    for _ in range(4):
        sim.step()
    sim.save_checkpoint(tmp_path / "ck")
    path = tmp_path / "ck" / "arrays.npz"
    with np.load(path) as data:
        arrays = dict(data)
    g = sim.society.graph
    nbr, family = arrays["graph.nbr"], arrays["graph.family"]
    rng = np.random.default_rng(0)
    for i in range(g.n):  # scatter each row's slots
        lo, hi = g.indptr[i], g.indptr[i + 1]
        order = rng.permutation(hi - lo)
        nbr[lo:hi], family[lo:hi] = nbr[lo:hi][order], family[lo:hi][order]
    assert not np.array_equal((nbr, family), packed(g.indptr, nbr, family))
    np.savez(path, **arrays)
    resumed = Simulation.from_checkpoint(sc, tmp_path / "ck")
    r = resumed.society.graph
    assert np.array_equal((r.nbr, r.family), packed(g.indptr, r.nbr, r.family))
    assert np.array_equal(np.sort(r.nbr), np.sort(nbr))
    assert np.array_equal(resumed.view.degree, live_ties(g.indptr, nbr))
