"""Phase 6, consequences: what the lists do to people's lives, and the labour market.

Blacklisted persons (each sanction switchable):
  travel      a flight or rail purchase is refused with probability `enforcement` (by mode);
  employment  at an employer that checks the list (every public-sector employer; a private one
              only where naming publishes the list, with probability private_check) the job is
              lost with probability job_loss_rate a month, and hiring is refused;
  school      the child's school application is refused with probability `enforcement`;
  services    at the door of a hotel, recognition refuses a listed person with probability
              coverage_cameras * hit_rate and an innocent with coverage_cameras *
              false_match_rate * (1 - human_review) (a false match against the list that
              the staff's review does not catch); a loan is refused with
              probability loan_enforcement.
Red-listed persons receive a reward (deposit waivers, fast visas, cheaper loans): hardship
falls by hardship_relief.
Labour market (always on): jobs end with separation_rate; the unemployed are hired with
hire_rate by a random company of their region; income is income_base when employed and
income_base * unemployment_income when not, so a lost job raises late bills (poverty trap).
Hardship rises by hardship_per_sanction per refusal and relaxes at hardship_relax toward
hardship0 + unemployment_hardship * unemployed; pressure = pressure_memory * pressure +
refusals (+0.5 while listed) drives court compliance.
"""

from __future__ import annotations

import numpy as np


def step(sim, ctx) -> None:
    sc, st = sim.sc, sim.state
    p, c, regions = sim.society.persons, sim.society.companies, sim.society.regions
    S, b = sc.sanctions, sc.behaviour
    n = p.count
    rng = sim.rng["consequences"]
    u = rng.random((8, n), dtype=np.float32)
    black = st.black
    refused = np.zeros(n, np.int32)
    att = ctx.attempts

    def count(name: str, mask: np.ndarray) -> np.ndarray:
        ctx.add(name, np.count_nonzero(mask))
        refused[mask] += 1
        return mask

    if S.travel.enabled:
        f = count("trips_refused_flight", att["flight"] & black & (u[0] < S.travel.enforcement))
        r = count("trips_refused_rail", att["rail"] & black & (u[1] < S.travel.enforcement))
        ctx.add("trips_refused", np.count_nonzero(f) + np.count_nonzero(r))
    checks = c.public | (sc.lists.naming & (c.check_u < S.employment.private_check))
    employed = st.employer >= 0
    emp = np.maximum(st.employer, 0)
    if S.employment.enabled:
        lost = employed & black & checks[emp] & (u[2] < S.employment.job_loss_rate)
        ctx.add("jobs_lost", np.count_nonzero(lost))
        st.jobs_lost[lost] += 1
        refused[lost] += 1
        st.employer[lost] = -1
    else:
        lost = np.zeros(n, bool)
    # labour market
    leave = employed & ~lost & (u[3] < sc.population.separation_rate)
    st.employer[leave] = -1
    seekers = np.flatnonzero((st.employer < 0) & ~lost & ~leave & (u[4] < sc.population.hire_rate))
    lo = regions.company_start[p.region[seekers]]
    size = regions.company_start[p.region[seekers] + 1] - lo
    offer = (lo + (rng.random(len(seekers)) * size).astype(np.int64)).astype(np.int32)
    if S.employment.enabled:
        no = black[seekers] & checks[offer]
        ctx.add("hiring_refused", np.count_nonzero(no))
        refused[seekers[no]] += 1
        seekers, offer = seekers[~no], offer[~no]
    st.employer[seekers] = offer
    st.income[:] = np.where(st.employer >= 0, p.income_base, p.income_base * sc.population.unemployment_income)
    if S.school.enabled:
        count("school_refusals", att["school"] & black & (u[5] < S.school.enforcement))
    if S.services.enabled and sc.lists.blacklist:
        cam = ctx.cov("cameras", p.region)
        rec = sc.recognition
        count("service_refusals_true", att["hotel"] & black & (u[6] < cam * rec.hit_rate))
        false_door = cam * rec.false_match_rate * (1.0 - rec.human_review)
        count("service_refusals_false", att["hotel"] & ~black & (u[6] < false_door))
        loans = att["loan"] & black & (u[7] < S.services.loan_enforcement)
        ctx.add("loans_refused", np.count_nonzero(loans))
        ctx.add("service_refusals_true", np.count_nonzero(loans))
        refused[loans] += 1
    if S.rewards.enabled:
        rewarded = st.red
        ctx.add("rewards", np.count_nonzero(rewarded))
        st.rewards[rewarded] += 1
        ctx.rewarded |= rewarded
    else:
        rewarded = np.zeros(n, bool)
    st.refusals += refused
    hit = refused > 0
    ctx.punished |= hit
    target = p.hardship0 + b.unemployment_hardship * (st.employer < 0)
    h = st.hardship + b.hardship_relax * (target - st.hardship) + b.hardship_per_sanction * refused
    h -= S.rewards.hardship_relief * rewarded
    np.clip(h, 0.0, 1.0, out=st.hardship)
    st.pressure[:] = b.pressure_memory * st.pressure + refused + 0.5 * black
