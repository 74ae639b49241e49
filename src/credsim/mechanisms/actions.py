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
Poor work needs a job; a court default needs no judgment already unpaid.
Dissent follows preference falsification with threshold cascades:
    drive   = grievance_weight * hardship * (1 - legitimacy) + cascade_weight * (share of ties who
              spoke out last step)
    fear    = fear_weight * risk_aversion * risk_dissent * (points / point_scale * salience
              + listing_penalty * lists) + dissent_guilt * internalization * standard_dissent
    threshold = dissent_threshold_mean + dissent_threshold_sd * z   (z standard normal, fixed)
    private dissent: drive > threshold;  expressed: drive - fear > threshold
Rewarded actions (approved speech, good deeds):
    P = logistic(base + reward_weight * coverage * points / point_scale * salience
                 + guilt_weight * internalization * standard)
A person with an unpaid judgment pays it with
    P = logistic(fulfil_base - conscientiousness_weight * (0.5 - conscientiousness)
                 + sanction_pressure * pressure - poverty_weight * (2 * stress - 1))
Attempts where enforcement happens: a flight with flight_rate * spend, rail with rail_rate,
a hotel with hotel_rate * spend, a loan with loan_rate (spend = clip(income / median, 0.2, 3)),
a school application for every parent in month school_month of the year.
Companies: P(a) = logistic(base_a + conscientiousness_weight * (0.5 - propensity)
                 - company_deterrence_weight * coverage * (points_a / point_scale + listing_penalty * lists_a))
and a company with an unpaid judgment pays with logistic(company_fulfil_base
+ sanction_pressure * listed), listed being 1 while it is blacklisted.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from ..randomness import agent_seed, below_logistic, step_key, uniform
from ..society.network import lane
from ..engine.state import ACTION_BITS, ATTEMPT_BITS
from ..scenario.events import COMPANY_BAD, PERSON_BAD, PERSON_GOOD

assert list(ACTION_BITS) == list(PERSON_BAD + PERSON_GOOD)
DISSENT, COURT, POOR_WORK = ACTION_BITS["dissent"], ACTION_BITS["court_default"], ACTION_BITS["poor_work"]
LATE_BILL = ACTION_BITS["late_bill"]


@nb.njit(parallel=True, cache=True)
def _persons_kernel(key, par, base_bad, pts_bad, lst_bad, base_good, gain_good, good_cov, standard,
                    region, consc, risk_aversion, threshold_z, has_child, employer, income,
                    hardship, pressure, internalization, salience, risk, tie_did, degree,
                    default_out, acted, private, fulfilled, attempts):
    (income_ref, poverty_w, consc_w, peer_w, deter_w, guilt_w, legitimacy, grievance_w, cascade_w,
     fear_w, dissent_guilt, thr_mean, thr_sd, reward_w, fulfil_base, pressure_w, flight_rate,
     rail_rate, hotel_rate, loan_rate, school_now) = (
        par[0], par[1], par[2], par[3], par[4], par[5], par[6], par[7], par[8], par[9], par[10],
        par[11], par[12], par[13], par[14], par[15], par[16], par[17], par[18], par[19], par[20])
    n_bad = len(base_bad)
    for i in nb.prange(len(region)):
        s = agent_seed(key, i)
        stress = 1.0 / (1.0 + income[i] / income_ref)
        poverty = poverty_w * (2.0 * stress - 1.0)
        cs = consc_w * (0.5 - consc[i])
        sal = salience[i]
        ii = internalization[i]
        d = max(degree[i], 1)
        seen_did = tie_did[i]
        bits = 0
        for k in range(n_bad):
            deterrent = risk[k, i] * (pts_bad[k] * sal + lst_bad[k])
            if k == DISSENT:
                drive = grievance_w * hardship[i] * (1.0 - legitimacy) + cascade_w * lane(seen_did, k) / d
                fear = fear_w * risk_aversion[i] * deterrent + dissent_guilt * ii * standard[k]
                thr = thr_mean + thr_sd * threshold_z[i]
                private[i] = drive > thr
                ok = drive - fear > thr
            else:
                util = (base_bad[k] + cs + peer_w * lane(seen_did, k) / d
                        - deter_w * deterrent * (0.5 + risk_aversion[i]) - guilt_w * ii * standard[k])
                if k == LATE_BILL or k == COURT:
                    util += poverty
                ok = below_logistic(uniform(s, k), util)
                if k == POOR_WORK and employer[i] < 0:
                    ok = False
                if k == COURT and default_out[i]:
                    ok = False
            if ok:
                bits |= 1 << k
        for g in range(len(base_good)):
            k = n_bad + g
            util = (base_good[g] + reward_w * good_cov[g, region[i]] * gain_good[g] * sal
                    + guilt_w * ii * standard[k])
            if below_logistic(uniform(s, k), util):
                bits |= 1 << k
        acted[i] = bits
        k = n_bad + len(base_good)
        paid = default_out[i] and below_logistic(uniform(s, k), fulfil_base - cs + pressure_w * pressure[i] - poverty)
        fulfilled[i] = paid
        # a judgment defaulted is owed until it is paid, observed by the court or not
        default_out[i] = (default_out[i] or (bits >> COURT) & 1 == 1) and not paid
        spend = min(max(income[i] / income_ref, 0.2), 3.0)
        a = 0
        if uniform(s, k + 1) < flight_rate * spend:
            a |= 1
        if uniform(s, k + 2) < rail_rate:
            a |= 2
        if uniform(s, k + 3) < hotel_rate * spend:
            a |= 4
        if uniform(s, k + 4) < loan_rate:
            a |= 8
        if school_now > 0 and has_child[i]:
            a |= 16
        attempts[i] = a


assert ATTEMPT_BITS == {"flight": 0, "rail": 1, "hotel": 2, "loan": 3, "school": 4}


def step(sim, ctx) -> None:
    _persons(sim, ctx)
    _companies(sim, ctx)


def _persons(sim, ctx) -> None:
    sc, st, rb = sim.sc, sim.state, sim.rulebook
    p, b = sim.society.persons, sc.behaviour
    n = p.count
    pen = [rb.penalty(ev, b.point_scale, b.listing_penalty) for ev in PERSON_BAD]
    par = np.array([
        sim.income_ref, b.poverty_weight, b.conscientiousness_weight, b.peer_weight,
        b.deterrence_weight, b.guilt_weight, b.legitimacy, b.grievance_weight, b.cascade_weight,
        b.fear_weight, b.dissent_guilt, b.dissent_threshold_mean, b.dissent_threshold_sd,
        b.reward_weight, b.fulfil_base, b.sanction_pressure, b.flight_rate, b.rail_rate,
        b.hotel_rate, b.loan_rate, float(ctx.t % 12 == b.school_month)], dtype=np.float64)
    good_cov = np.stack([ctx.coverage[sim.channel_of(ev)] for ev in PERSON_GOOD]).astype(np.float32)
    ctx.acted = np.empty(n, np.uint16)
    ctx.dissent_private = np.empty(n, bool)
    ctx.fulfilled = np.empty(n, bool)
    ctx.attempts = np.empty(n, np.uint8)
    ctx.add("employed_start", np.count_nonzero(st.employer >= 0))
    _persons_kernel(
        step_key(sim.rng["actions"]), par,
        np.array([getattr(b, f"{ev}_base", 0.0) for ev in PERSON_BAD]),  # dissent: thresholds
        np.array([x for x, _ in pen]), np.array([y for _, y in pen]),
        np.array([getattr(b, f"{ev}_base") for ev in PERSON_GOOD]),
        np.array([max(rb.pts(ev), 0.0) / b.point_scale for ev in PERSON_GOOD]), good_cov,
        st.standard, p.region, p.conscientiousness, p.risk_aversion, p.dissent_threshold,
        p.has_child, st.employer, st.income, st.hardship, st.pressure, st.internalization,
        st.salience, st.risk, ctx.tie_did, ctx.degree, st.default_out,
        ctx.acted, ctx.dissent_private, ctx.fulfilled, ctx.attempts)
    bad_bits = sum(1 << ACTION_BITS[ev] for ev in PERSON_BAD)
    ctx.add("compliance_n", np.count_nonzero((ctx.acted & bad_bits) == 0))


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
        did = u[k] < 1.0 / (1.0 + np.exp(-util))
        if ev == "company_court_default":
            did &= ~st.c_default_out
        ctx.did[ev] = did
    pressure = b.sanction_pressure * st.c_black
    ctx.c_fulfilled = st.c_default_out & (u[-1] < 1.0 / (1.0 + np.exp(-(b.company_fulfil_base + pressure))))
    st.c_default_out |= ctx.did["company_court_default"]
    st.c_default_out &= ~ctx.c_fulfilled
