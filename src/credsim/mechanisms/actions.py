"""Phase 2, actions: what every person and company does this month.

Disapproved person actions a (late bill, poor work, misconduct, court default):
    P(a) = logistic(base_a + benefit - deterrence - guilt + peer)
    benefit    = conscientiousness_weight * (0.5 - conscientiousness)
                 + poverty_weight * (2 * stress - 1)          (late bill, court default)
    stress     = 1 / (1 + income / median income)
    deterrence = deterrence_weight * risk_a * (points_a / point_scale * salience
                 + listing_penalty * lists_a) * (0.5 + risk_aversion)
    guilt      = guilt_weight * internalization * standard_a
    peer       = peer_weight * (share of ties who did a last step)
Dissent follows preference falsification with threshold cascades:
    drive   = grievance_weight * hardship * (1 - legitimacy) + cascade_weight * (share of ties who
              spoke out last step)
    fear    = fear_weight * risk_aversion * risk_dissent * (points / point_scale * salience
              + listing_penalty * lists) + dissent_guilt * internalization * standard_dissent
    private dissent: drive > threshold;  expressed: drive - fear > threshold
Companies: P(a) = logistic(base_a + conscientiousness_weight * (0.5 - propensity)
                 - company_deterrence_weight * coverage * (points_a / point_scale + listing_penalty * lists_a))
Rewarded actions (approved speech, good deeds):
    P = logistic(base + reward_weight * coverage * points / point_scale * salience
                 + guilt_weight * internalization * standard)
"""

from __future__ import annotations

import numpy as np

from ..engine.state import ACTION_BITS
from ..scenario.events import COMPANY_BAD, PERSON_BAD, PERSON_GOOD


def logistic(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


POVERTY_DRIVEN = ("late_bill", "court_default")


def step(sim, ctx) -> None:
    _persons(sim, ctx)
    _companies(sim, ctx)


def _persons(sim, ctx) -> None:
    sc, st, rb = sim.sc, sim.state, sim.rulebook
    p, b = sim.society.persons, sc.behaviour
    n = p.count
    rng = sim.rng["actions"]
    u = rng.random((len(PERSON_BAD) + len(PERSON_GOOD) + 5, n), dtype=np.float32)
    deg = np.maximum(ctx.degree, 1).astype(np.float32)
    stress = 1.0 / (1.0 + st.income / sim.income_ref)
    poverty = b.poverty_weight * (2.0 * stress - 1.0)
    consc = b.conscientiousness_weight * (0.5 - p.conscientiousness)
    fearful = 0.5 + p.risk_aversion
    none_bad = np.ones(n, bool)
    for k, ev in enumerate(PERSON_BAD):
        bit = ACTION_BITS[ev]
        pts, lst = rb.penalty(ev, b.point_scale, b.listing_penalty)
        deterrent = st.risk[k] * (pts * st.salience + lst)
        if ev == "dissent":
            did = _dissent(sim, ctx, deterrent, deg)
        else:
            util = (getattr(b, f"{ev}_base") + consc
                    + b.peer_weight * ctx.tie_did[bit] / deg
                    - b.deterrence_weight * deterrent * fearful
                    - b.guilt_weight * st.internalization * st.standard[bit])
            if ev in POVERTY_DRIVEN:
                util = util + poverty
            did = u[k] < logistic(util)
            if ev == "poor_work":
                did &= st.employer >= 0
            elif ev == "court_default":
                did &= ~st.default_out
        ctx.did[ev] = did
        none_bad &= ~did
    ctx.add("compliance_n", np.count_nonzero(none_bad))
    ctx.add("employed_start", np.count_nonzero(st.employer >= 0))
    k0 = len(PERSON_BAD)
    for k, ev in enumerate(PERSON_GOOD, start=k0):
        bit = ACTION_BITS[ev]
        gain = max(rb.pts(ev), 0.0) / b.point_scale
        channel = sim.channel_of(ev)
        util = (getattr(b, f"{ev}_base")
                + b.reward_weight * ctx.cov(channel, p.region) * gain * st.salience
                + b.guilt_weight * st.internalization * st.standard[bit])
        ctx.did[ev] = u[k] < logistic(util)
    k = k0 + len(PERSON_GOOD)
    util = b.fulfil_base - consc + b.sanction_pressure * st.pressure - poverty
    ctx.fulfilled = st.default_out & (u[k] < logistic(util))
    # a judgment defaulted is owed until it is paid, observed by the court or not
    st.default_out |= ctx.did["court_default"]
    st.default_out &= ~ctx.fulfilled
    spend = np.clip(st.income / sim.income_ref, 0.2, 3.0)
    ctx.attempts = {
        "flight": u[k + 1] < b.flight_rate * spend,
        "rail": u[k + 2] < b.rail_rate,
        "hotel": u[k + 3] < b.hotel_rate * spend,
        "loan": u[k + 4] < b.loan_rate,
        "school": p.has_child & (ctx.t % 12 == b.school_month),
    }


def _dissent(sim, ctx, deterrent: np.ndarray, deg: np.ndarray) -> np.ndarray:
    b, st, p = sim.sc.behaviour, sim.state, sim.society.persons
    bit = ACTION_BITS["dissent"]
    grievance = st.hardship * (1.0 - b.legitimacy)
    drive = b.grievance_weight * grievance + b.cascade_weight * ctx.tie_did[bit] / deg
    fear = (b.fear_weight * p.risk_aversion * deterrent
            + b.dissent_guilt * st.internalization * st.standard[bit])
    threshold = b.dissent_threshold_mean + b.dissent_threshold_sd * p.dissent_threshold
    ctx.dissent_private = drive > threshold
    return ctx.dissent_private & (drive - fear > threshold)


def _companies(sim, ctx) -> None:
    sc, st, rb = sim.sc, sim.state, sim.rulebook
    c, b = sim.society.companies, sc.behaviour
    m = c.count
    rng = sim.rng["actions"]
    u = rng.random((len(COMPANY_BAD) + 1, m), dtype=np.float32)
    propensity = b.conscientiousness_weight * (0.5 - c.propensity)
    for k, ev in enumerate(COMPANY_BAD):
        pts, lst = rb.penalty(ev, b.point_scale, b.listing_penalty)
        risk = ctx.cov(sim.channel_of(ev), c.region)
        util = getattr(b, f"{ev}_base") + propensity - b.company_deterrence_weight * risk * (pts + lst)
        did = u[k] < logistic(util)
        if ev == "company_court_default":
            did &= ~st.c_default_out
        ctx.did[ev] = did
    pressure = b.sanction_pressure * st.c_black
    ctx.c_fulfilled = st.c_default_out & (u[-1] < logistic(b.company_fulfil_base + pressure))
    st.c_default_out |= ctx.did["company_court_default"]
    st.c_default_out &= ~ctx.c_fulfilled
