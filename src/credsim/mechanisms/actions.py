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

from ..randomness import (agent_seed, logistic, logistic_bounds, step_key, uniform,
                          uniform_lanes)
from ..society.network import lane
from ..engine.state import ACTION_BITS, ATTEMPT_BITS
from ..scenario.events import COMPANY_BAD, COMPANY_EVENTS, PERSON_BAD, PERSON_GOOD, channel_rows

assert list(ACTION_BITS) == list(PERSON_BAD + PERSON_GOOD)
DISSENT, COURT, POOR_WORK = ACTION_BITS["dissent"], ACTION_BITS["court_default"], ACTION_BITS["poor_work"]
LATE_BILL = ACTION_BITS["late_bill"]
BAD_BITS = sum(1 << ACTION_BITS[ev] for ev in PERSON_BAD)


# persons a part: the kernel runs each event's loop over a part, in vector lanes (1024 ran 3-5 %
# faster than 512 at 1e5, and 2048 no faster)
CHUNK = 1024


@nb.njit(cache=True, error_model="numpy")
def _prepare(key, lo, m, income, income_ref, poverty_w, consc_w, consc, degree, region, good_cov,
             seed, poverty, cs, deg, cov):
    """Per person of the part: the draws' seed, the poverty and conscientiousness terms, the
    degree (at least 1) and the coverage of each rewarded action's channel in its region."""
    for j in range(m):
        i = lo + j
        seed[j] = agent_seed(key, np.uint64(i))
        stress = 1.0 / (1.0 + income[i] / income_ref)
        poverty[j] = poverty_w * (2.0 * stress - 1.0)
        cs[j] = consc_w * (0.5 - consc[i])
        deg[j] = np.float64(max(degree[i], np.int32(1)))
    for g in range(good_cov.shape[0]):
        for j in range(m):
            cov[g, j] = good_cov[g, region[lo + j]]


@nb.njit(inline="always")
def _peer_share(packed, k, deg):
    """The share of a person's ties who did action k last step (a lane of `tie_did`)."""
    return np.float64(lane(packed, k)) / deg


@nb.njit(cache=True, error_model="numpy")
def _bad_utilities(lo, m, k, base, pts, lst, standard, peer_w, deter_w, guilt_w, add_poverty,
                   risk_k, salience, risk_aversion, internalization, tie_did, deg, cs, poverty, util):
    """util[j]: the utility of disapproved action k for person lo + j (a vectorised loop)."""
    for j in range(m):
        i = lo + j
        deterrent = risk_k[i] * (pts * salience[i] + lst)
        peers = _peer_share(tie_did[i], k, deg[j])
        u = (base + cs[j] + peer_w * peers
             - deter_w * deterrent * (0.5 + risk_aversion[i]) - guilt_w * internalization[i] * standard)
        util[j] = u + poverty[j] if add_poverty else u


@nb.njit(cache=True, error_model="numpy")
def _good_utilities(lo, m, base, gain, standard, reward_w, guilt_w, cov_g, salience, internalization, util):
    for j in range(m):
        i = lo + j
        util[j] = base + reward_w * cov_g[j] * gain * salience[i] + guilt_w * internalization[i] * standard


@nb.njit(cache=True, error_model="numpy")
def _decide(m, k, seed, util, code, bits):
    """bits[j] |= (person lo + j does action k) << k: u < logistic(util), decided from the
    bounds in vector lanes (code[j]: 0, 1 or 2, undecided); the few undecided draws are
    settled with the exp afterwards."""
    undecided = 0
    for j in range(m):
        r = logistic_bounds(uniform_lanes(seed[j], k), util[j])
        code[j] = r
        undecided += r >> 1
        bits[j] |= (r & 1) << k
    if undecided > 0:
        for j in range(m):
            if code[j] == 2:
                bits[j] |= np.int32(uniform(seed[j], k) < logistic(util[j])) << k


@nb.njit(cache=True, error_model="numpy")
def _settle_judgments(lo, m, k, bits, paid, acted, default_out, fulfilled):
    """Writes each person's actions (`bits`) to `acted`, and the judgments: one owed (draw k
    decided into bit k of `paid`) is owed until it is paid, observed by the court or not; a
    court default this month is owed from now on.  A loop without branches (so it
    vectorises): one with a branch per owed judgment here, with these unsigned indices,
    compiled on an AVX-512 machine to masked byte stores 16 wide for 8 persons, which wrote
    `fulfilled` 8 entries past the part's end (tests/test_memory_safety.py)."""
    for j in range(m):
        i = lo + j
        acted[i] = np.uint16(bits[j])
        p = (paid[j] >> k) & 1 == 1
        fulfilled[i] = p
        default_out[i] = (not p) if default_out[i] else ((bits[j] >> COURT) & 1 == 1)


@nb.njit(cache=True, error_model="numpy")
def _attempts(lo, m, k, seed, income, income_ref, flight_rate, rail_rate, hotel_rate, loan_rate, school,
              has_child, attempts):
    for j in range(m):
        i = lo + j
        s = seed[j]
        spend = min(max(income[i] / income_ref, 0.2), 3.0)
        a = np.int32(uniform_lanes(s, k + 1) < flight_rate * spend)
        a |= np.int32(uniform_lanes(s, k + 2) < rail_rate) << 1
        a |= np.int32(uniform_lanes(s, k + 3) < hotel_rate * spend) << 2
        a |= np.int32(uniform_lanes(s, k + 4) < loan_rate) << 3
        a |= (np.int32(has_child[i]) & school) << 4
        attempts[i] = np.uint8(a)


@nb.njit(parallel=True, cache=True, error_model="numpy")
def _persons_kernel(key, par, base_bad, pts_bad, lst_bad, base_good, gain_good, good_cov, standard,
                    region, consc, risk_aversion, threshold_z, has_child, employer, income,
                    hardship, pressure, internalization, salience, risk, tie_did, degree,
                    default_out, acted, private, fulfilled, attempts):
    """Parts of CHUNK persons in parallel; inside a part, one loop over its persons per action
    (so that the loops vectorise).  The draws are the same as one person at a time: each is
    `uniform(agent seed, action)`.  Returns the persons employed at the start and those who did
    no disapproved action."""
    (income_ref, poverty_w, consc_w, peer_w, deter_w, guilt_w, legitimacy, grievance_w, cascade_w,
     fear_w, dissent_guilt, thr_mean, thr_sd, reward_w, fulfil_base, pressure_w, flight_rate,
     rail_rate, hotel_rate, loan_rate, school_now) = (
        par[0], par[1], par[2], par[3], par[4], par[5], par[6], par[7], par[8], par[9], par[10],
        par[11], par[12], par[13], par[14], par[15], par[16], par[17], par[18], par[19], par[20])
    n_bad, n_good, n = len(base_bad), len(base_good), len(region)
    school = np.int32(school_now > 0)
    employed = 0
    compliant = 0
    for c in nb.prange((n + CHUNK - 1) // CHUNK):
        lo = np.uint64(c * CHUNK)  # unsigned indices: no negative-index fix-ups in the loops
        m = np.uint64(min(c * CHUNK + CHUNK, n) - c * CHUNK)
        seed = np.empty(CHUNK, np.uint64)
        poverty = np.empty(CHUNK, np.float64)
        cs = np.empty(CHUNK, np.float64)
        deg = np.empty(CHUNK, np.float64)
        cov = np.empty((n_good, CHUNK), np.float64)
        util = np.empty(CHUNK, np.float64)
        code = np.empty(CHUNK, np.int32)
        bits = np.zeros(CHUNK, np.int32)
        _prepare(key, lo, m, income, income_ref, poverty_w, consc_w, consc, degree, region, good_cov,
                 seed, poverty, cs, deg, cov)
        for k in range(n_bad):
            if k == DISSENT:
                for j in range(m):
                    i = lo + j
                    deterrent = risk[k, i] * (pts_bad[k] * salience[i] + lst_bad[k])
                    peers = _peer_share(tie_did[i], k, deg[j])
                    drive = grievance_w * hardship[i] * (1.0 - legitimacy) + cascade_w * peers
                    fear = (fear_w * risk_aversion[i] * deterrent
                            + dissent_guilt * internalization[i] * standard[k])
                    thr = thr_mean + thr_sd * threshold_z[i]
                    private[i] = drive > thr
                    bits[j] |= np.int32(drive - fear > thr) << k
                continue
            _bad_utilities(lo, m, k, base_bad[k], pts_bad[k], lst_bad[k], standard[k], peer_w, deter_w,
                           guilt_w, k == LATE_BILL or k == COURT, risk[k], salience, risk_aversion,
                           internalization, tie_did, deg, cs, poverty, util)
            # who cannot do it gets utility -inf: u < logistic(-inf) = 0 never holds
            if k == POOR_WORK:  # needs a job
                for j in range(m):
                    util[j] = util[j] if employer[lo + j] >= 0 else -np.inf
            elif k == COURT:  # needs no judgment already unpaid
                for j in range(m):
                    util[j] = -np.inf if default_out[lo + j] else util[j]
            _decide(m, k, seed, util, code, bits)
        for g in range(n_good):
            _good_utilities(lo, m, base_good[g], gain_good[g], standard[n_bad + g], reward_w, guilt_w,
                            cov[g], salience, internalization, util)
            _decide(m, n_bad + g, seed, util, code, bits)
        part_employed = 0
        part_compliant = 0
        for j in range(m):
            part_employed += employer[lo + j] >= 0
            part_compliant += (bits[j] & BAD_BITS) == 0
        employed += part_employed
        compliant += part_compliant
        # paying an owed judgment (draw k); who owes none cannot pay: utility -inf
        k = n_bad + n_good
        owing = 0
        for j in range(m):
            i = lo + j
            owed = default_out[i]
            owing += owed
            util[j] = fulfil_base - cs[j] + pressure_w * pressure[i] - poverty[j] if owed else -np.inf
        paid = np.zeros(CHUNK, np.int32)
        if owing > 0:  # most parts owe nothing (a few persons in 10,000 do): no one there pays
            _decide(m, k, seed, util, code, paid)
        _settle_judgments(lo, m, k, bits, paid, acted, default_out, fulfilled)
        _attempts(lo, m, k, seed, income, income_ref, flight_rate, rail_rate, hotel_rate, loan_rate,
                  school, has_child, attempts)
    return employed, compliant


assert ATTEMPT_BITS == {"flight": 0, "rail": 1, "hotel": 2, "loan": 3, "school": 4}


def step(sim, ctx) -> None:
    _persons(sim, ctx)
    _companies(sim, ctx)


def _person_params(sim) -> tuple:
    """The kernel's parameters that change only with the scenario or the rulebook; the last
    entry of `par`, whether this is the school month, is set each step."""
    sc, rb = sim.sc, sim.rulebook
    b = sc.behaviour
    pen = [rb.penalty(ev, b.point_scale, b.listing_penalty) for ev in PERSON_BAD]
    par = np.array([
        sim.income_ref, b.poverty_weight, b.conscientiousness_weight, b.peer_weight,
        b.deterrence_weight, b.guilt_weight, b.legitimacy, b.grievance_weight, b.cascade_weight,
        b.fear_weight, b.dissent_guilt, b.dissent_threshold_mean, b.dissent_threshold_sd,
        b.reward_weight, b.fulfil_base, b.sanction_pressure, b.flight_rate, b.rail_rate,
        b.hotel_rate, b.loan_rate, 0.0], dtype=np.float64)
    return (par,
            np.array([getattr(b, f"{ev}_base", 0.0) for ev in PERSON_BAD]),  # dissent: thresholds
            np.array([x for x, _ in pen]), np.array([y for _, y in pen]),
            np.array([getattr(b, f"{ev}_base") for ev in PERSON_GOOD]),
            np.array([max(rb.pts(ev), 0.0) / b.point_scale for ev in PERSON_GOOD]),
            np.array(channel_rows(PERSON_GOOD)))


def _persons(sim, ctx) -> None:
    sc, st = sim.sc, sim.state
    p = sim.society.persons
    n = p.count
    par, base_bad, pts_bad, lst_bad, base_good, gain_good, good_rows = sim.memo("actions.persons",
                                                                                lambda: _person_params(sim))
    par = par.copy()
    par[-1] = float(ctx.t % 12 == sc.behaviour.school_month)
    good_cov = ctx.coverage_all[good_rows]
    ctx.acted = np.empty(n, np.uint16)
    ctx.dissent_private = np.empty(n, bool)
    ctx.fulfilled = np.empty(n, bool)
    ctx.attempts = np.empty(n, np.uint8)
    employed, compliant = _persons_kernel(
        step_key(sim.rng["actions"]), par, base_bad, pts_bad, lst_bad, base_good, gain_good, good_cov,
        st.standard, p.region, p.conscientiousness, p.risk_aversion, p.dissent_threshold,
        p.has_child, st.employer, st.income, st.hardship, st.pressure, st.internalization,
        st.salience, st.risk, ctx.tie_did, ctx.degree, st.default_out,
        ctx.acted, ctx.dissent_private, ctx.fulfilled, ctx.attempts)
    ctx.add("employed_start", employed)
    ctx.add("compliance_n", compliant)


COMPANY_COURT = COMPANY_BAD.index("company_court_default")
assert COMPANY_EVENTS == COMPANY_BAD + ("company_fulfil_judgment",)


@nb.njit(parallel=True, cache=True, error_model="numpy")
def _companies_kernel(key, base, penalty, weight, consc_w, propensity, region, cov, fulfil_base,
                      pressure_w, black, default_out, did, fulfilled):
    """Company i's actions a (draw a) and paying an owed judgment (draw len(base)): each
    u < logistic(util), decided from the bounds (`_decide`, as the persons'), so the decisions
    do not depend on how an exp is computed on this machine; then the judgments owed.  In parts
    of CHUNK companies, one loop over the part per action (in vector lanes: one loop over the
    actions per company took 3 times as long)."""
    n_ev, m = did.shape
    for c in nb.prange((m + CHUNK - 1) // CHUNK):
        lo = np.uint64(c * CHUNK)
        k = np.uint64(min(c * CHUNK + CHUNK, m) - c * CHUNK)
        seed = np.empty(CHUNK, np.uint64)
        prop = np.empty(CHUNK, np.float64)
        util = np.empty(CHUNK, np.float64)
        code = np.empty(CHUNK, np.int32)
        bits = np.zeros(CHUNK, np.int32)
        for j in range(k):
            i = lo + j
            seed[j] = agent_seed(key, i)
            prop[j] = consc_w * (0.5 - np.float64(propensity[i]))
        for a in range(n_ev):
            for j in range(k):
                util[j] = base[a] + prop[j] - weight * np.float64(cov[a, region[lo + j]]) * penalty[a]
            _decide(k, a, seed, util, code, bits)
        # paying an owed judgment (draw n_ev); who owes none cannot pay: utility -inf
        for j in range(k):
            i = lo + j
            util[j] = fulfil_base + pressure_w * np.float64(black[i]) if default_out[i] else -np.inf
        _decide(k, n_ev, seed, util, code, bits)
        for j in range(k):
            i = lo + j
            owed = default_out[i]
            for a in range(n_ev):
                did[a, i] = (bits[j] >> a) & 1 == 1
            did[COMPANY_COURT, i] &= not owed  # a new default needs no judgment already unpaid
            paid = (bits[j] >> n_ev) & 1 == 1
            fulfilled[i] = paid
            default_out[i] = (owed and not paid) or did[COMPANY_COURT, i]


def _companies(sim, ctx) -> None:
    sc, st, rb = sim.sc, sim.state, sim.rulebook
    c, b = sim.society.companies, sc.behaviour
    m = c.count
    base, penalty, rows = sim.memo("actions.companies", lambda: (
        np.array([getattr(b, f"{ev}_base") for ev in COMPANY_BAD]),
        np.array([sum(rb.penalty(ev, b.point_scale, b.listing_penalty)) for ev in COMPANY_BAD]),
        np.array(channel_rows(COMPANY_BAD))))
    # every company event's row in one array (observation reads them all at once): the actions,
    # then the judgments paid
    did = ctx.c_did = np.empty((len(COMPANY_EVENTS), m), np.bool_)
    cov = ctx.coverage_all[rows]
    _companies_kernel(step_key(sim.rng["actions"]), base, penalty, b.company_deterrence_weight,
                      b.conscientiousness_weight, c.propensity, c.region, cov, b.company_fulfil_base,
                      b.sanction_pressure, st.c_black, st.c_default_out, did[:len(COMPANY_BAD)],
                      did[COMPANY_EVENTS.index("company_fulfil_judgment")])
