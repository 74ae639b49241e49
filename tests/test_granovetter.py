"""Granovetter (1978): the dissent rule reduced to the threshold model (issue #5, item 6).

Full sweep: `python -m credsim.validation` (docs/validation.md).  Here a few seeds either side
of the jump: a few per cent below a spread of about 0.11, nearly everyone above about 0.16.
"""

from __future__ import annotations

import numpy as np

from credsim.validation.granovetter import all_to_all, final_participation


def test_all_to_all_network():
    g = all_to_all(5)
    assert g.n == 5 and len(g.nbr) == 20
    for i in range(5):
        assert sorted(g.nbr[g.indptr[i]:g.indptr[i + 1]]) == [j for j in range(5) if j != i]


def test_participation_jumps_as_the_spread_of_thresholds_crosses_the_critical_value():
    below = np.mean([final_participation(0.10, s, steps=15) for s in range(1, 4)])
    above = np.mean([final_participation(0.20, s, steps=15) for s in range(1, 4)])
    assert below < 0.06
    assert above > 0.95
