"""Rongcheng's rulebook at the scoring level: a month of given records from a base of 1000."""

from __future__ import annotations

import numpy as np

from ..engine.simulation import Simulation
from ..engine.state import RECORD_BITS, StepContext
from ..mechanisms import scoring
from ..scenario import load_scenario


def month_of_records(events=("late_bill", "court_default"), agents: int = 2000):
    """Score one month in which every person has one record of each of `events` (rongcheng,
    decay 0, no network term).  Returns the simulation (scores) and each event's kind names."""
    sc = load_scenario("rongcheng", overrides={"population.agents": agents, "scoring.decay": 0.0,
                                               "scoring.network_weight": 0.0})
    sim = Simulation(sc)
    n = sim.society.persons.count
    ctx = StepContext(t=0)
    ctx.seen = np.full(n, sum(1 << RECORD_BITS[e] for e in events), np.uint16)
    ctx.false_idx = np.empty(0, np.int64)
    ctx.tie_mean = np.full(n, sc.scoring.base, np.float32)
    ctx.listed_ties = np.zeros(n, np.int32)
    scoring.step(sim, ctx)
    kinds = {e: np.array(sim.rulebook.kinds[e].names)[ctx.kinds[e]] for e in events}
    return sim, kinds


def fee_arrears_and_private_lending() -> tuple[float, str, int]:
    """The score and grade of the persons whose records were one court-found fee arrears and
    one private-lending breach, and how many such persons there were."""
    sim, kinds = month_of_records()
    who = (kinds["late_bill"] == "private_lending_breach") & (kinds["court_default"] == "court_found_fee_arrears")
    scores = np.unique(sim.state.score[who])
    grades = {sim.sc.scoring.grades[g].name for g in sim.state.grade[who]}
    assert len(scores) == 1 and len(grades) == 1
    return float(scores[0]), grades.pop(), int(who.sum())
