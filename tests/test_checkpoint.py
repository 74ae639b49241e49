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
