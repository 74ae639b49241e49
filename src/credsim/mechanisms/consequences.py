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

import numba as nb
import numpy as np

from ..randomness import agent_seed, step_key, uniform, uniform_lanes
from ..engine.state import ATTEMPT_BITS

# bits of a person's outcome code in the kernel; `count` names the step counters
OUTCOMES = ("trips_refused_flight", "trips_refused_rail", "jobs_lost", "hiring_refused",
            "school_refusals", "hotel_refused_true", "service_refusals_false", "loans_refused",
            "rewards")
FLIGHT, RAIL, HOTEL, LOAN, SCHOOL = (1 << ATTEMPT_BITS[k] for k in ("flight", "rail", "hotel", "loan", "school"))
REFUSALS = sum(1 << i for i, k in enumerate(OUTCOMES) if k != "rewards")
N_OUTCOMES = len(OUTCOMES)


CHUNK = 512  # persons a part: the labour market's draws and the state updates run in vector lanes


@nb.njit(parallel=True, cache=True)
def _persons_kernel(key, flags, par, attempts, black, red, region, company_start, checks, cam_cov,
                    income_base, hardship0, employer, income, hardship, pressure, refusals,
                    rewards, jobs_lost, punished, rewarded, counts):
    """Parts of CHUNK persons in parallel.  In a part: the seeds and every person's labour-market
    draw (separation for the employed, hiring for the others) in one loop that vectorises, which
    also marks who has anything to decide; the sanctions, rewards and moves person by person
    for those alone (about one in five, listed first without a branch); income, hardship and
    pressure in a loop that vectorises.  The draws are those of one person at a time:
    `uniform(agent seed, d)`.  counts[c, b]: the persons of part c whose outcome has bit b (only
    the busy ones have any outcome), counted as they are decided; no outcome is stored."""
    travel_on, employment_on, school_on, services_on, rewards_on = (
        flags[0], flags[1], flags[2], flags[3], flags[4])
    (travel_enf, job_loss, separation, hire, school_enf, hit_rate, door_false, loan_enf,
     unemployment_income, unemployment_hardship, relax, per_sanction, relief, memory) = (
        par[0], par[1], par[2], par[3], par[4], par[5], par[6], par[7], par[8], par[9], par[10],
        par[11], par[12], par[13])
    n = len(attempts)
    for c in nb.prange((n + CHUNK - 1) // CHUNK):
        first = np.uint64(c * CHUNK)  # unsigned indices: no negative-index fix-ups in the loops
        m = np.uint64(min(c * CHUNK + CHUNK, n) - c * CHUNK)
        seed = np.empty(CHUNK, np.uint64)
        moves = np.empty(CHUNK, np.bool_)  # the employed leaves the job, the unemployed is hired
        busy = np.empty(CHUNK, np.bool_)  # listed, red-listed, moving or at a hotel's door
        who = np.empty(CHUNK, np.uint64)  # the busy ones, by their place in the part
        refused_n = np.zeros(CHUNK, np.int32)
        part_counts = np.zeros(N_OUTCOMES, np.int64)
        for j in range(m):
            i = first + j
            s = agent_seed(key, i)
            seed[j] = s
            employed = employer[i] >= 0
            # draw 3 against separation when employed, draw 4 against hiring when not
            move = uniform_lanes(s, np.uint64(4) - np.uint64(employed)) < (separation if employed else hire)
            moves[j] = move
            busy[j] = black[i] | red[i] | move | ((attempts[i] & HOTEL) != 0)
        # the busy persons listed without a branch: a branch per person on whether it is
        # busy, taken for about one in five, mispredicts
        k = 0
        for j in range(m):
            who[k] = j
            k += busy[j]
        for t in range(k):  # nothing happens to the others: no refusal, no reward, no move
            j = who[t]
            i = first + j
            s = seed[j]
            a = attempts[i]
            listed = black[i]
            r = region[i]
            out = 0
            if travel_on and listed:
                if a & FLIGHT and uniform(s, 0) < travel_enf:
                    out |= 1
                if a & RAIL and uniform(s, 1) < travel_enf:
                    out |= 2
            emp = employer[i]
            if emp >= 0:
                if employment_on and listed and checks[emp] and uniform(s, 2) < job_loss:
                    employer[i] = -1
                    jobs_lost[i] += 1
                    out |= 4
                elif moves[j]:
                    employer[i] = -1
            elif moves[j]:
                lo = company_start[r]
                offer = lo + int(uniform(s, 5) * (company_start[r + 1] - lo))
                if employment_on and listed and checks[offer]:
                    out |= 8
                else:
                    employer[i] = offer
            if school_on and listed and a & SCHOOL and uniform(s, 6) < school_enf:
                out |= 16
            if services_on:
                if a & HOTEL:
                    if listed:
                        if uniform(s, 7) < cam_cov[r] * hit_rate:
                            out |= 32
                    elif uniform(s, 7) < cam_cov[r] * door_false:
                        out |= 64
                if a & LOAN and listed and uniform(s, 8) < loan_enf:
                    out |= 128
            reward = rewards_on and red[i]
            if reward:
                out |= 256
                rewards[i] += 1
                rewarded[i] = True
            refused = 0
            for b in range(8):
                refused += (out >> b) & 1
            refusals[i] += refused
            if refused > 0:
                punished[i] = True
            refused_n[j] = refused
            for b in range(N_OUTCOMES):
                part_counts[b] += (out >> b) & 1
        counts[c, :] = part_counts
        for j in range(m):
            i = first + j
            employed = employer[i] >= 0
            income[i] = income_base[i] if employed else income_base[i] * unemployment_income
            target = hardship0[i] + (0.0 if employed else unemployment_hardship)
            h = hardship[i] + relax * (target - hardship[i]) + per_sanction * refused_n[j]
            h = h - relief if rewards_on & red[i] else h
            hardship[i] = min(max(h, 0.0), 1.0)
            pressure[i] = memory * pressure[i] + refused_n[j] + (0.5 if black[i] else 0.0)


def _params(sim) -> tuple:
    """The employers that check the list, the sanctions' switches and the kernel's parameters
    (a function of the scenario)."""
    sc, c = sim.sc, sim.society.companies
    S, b, rec = sc.sanctions, sc.behaviour, sc.recognition
    checks = c.public | (sc.lists.naming & (c.check_u < S.employment.private_check))
    flags = np.array([S.travel.enabled, S.employment.enabled, S.school.enabled,
                      S.services.enabled and sc.lists.blacklist, S.rewards.enabled], dtype=np.bool_)
    par = np.array([S.travel.enforcement, S.employment.job_loss_rate, sc.population.separation_rate,
                    sc.population.hire_rate, S.school.enforcement, rec.hit_rate,
                    rec.false_match_rate * (1.0 - rec.human_review), S.services.loan_enforcement,
                    sc.population.unemployment_income, b.unemployment_hardship, b.hardship_relax,
                    b.hardship_per_sanction, S.rewards.hardship_relief, b.pressure_memory],
                   dtype=np.float32)
    return checks, flags, par


def step(sim, ctx) -> None:
    st = sim.state
    p, regions = sim.society.persons, sim.society.regions
    checks, flags, par = sim.memo("consequences", lambda: _params(sim))
    per_part = np.empty(((p.count + CHUNK - 1) // CHUNK, N_OUTCOMES), np.int64)
    _persons_kernel(step_key(sim.rng["consequences"]), flags, par, ctx.attempts, st.black, st.red,
                    p.region, regions.company_start, checks, ctx.coverage["cameras"], p.income_base,
                    p.hardship0, st.employer, st.income, st.hardship, st.pressure, st.refusals,
                    st.rewards, st.jobs_lost, ctx.punished, ctx.rewarded, per_part)
    counts = dict(zip(OUTCOMES, per_part.sum(axis=0).tolist()))
    for name, k in counts.items():
        ctx.add(name, k)
    ctx.add("trips_refused", counts["trips_refused_flight"] + counts["trips_refused_rail"])
    ctx.add("service_refusals_true", counts["hotel_refused_true"] + counts["loans_refused"])
