"""The per-person kernels of observation, scoring, lists and consequences run in parts, with
vectorised loops and screens that skip persons with nothing to do: each must give exactly what the plain definition,
one person at a time, gives (the references below), on a state where every branch is taken."""

from __future__ import annotations

import numba as nb
import numpy as np
import pytest

from credsim import Simulation, load_scenario
from credsim.mechanisms import actions, consequences, lists, observation, scoring
from credsim.engine.state import BY_ASSOCIATION, BY_FALSE, BY_RULE, BY_SCORE, NOT_LISTED
from credsim.randomness import agent_seed, uniform


@nb.njit(cache=True)
def _consequences_reference(key, flags, par, attempts, black, red, region, company_start, checks, cam_cov,
                            income_base, hardship0, employer, income, hardship, pressure, refusals,
                            rewards, jobs_lost, punished, rewarded, counts):
    (travel_enf, job_loss, separation, hire, school_enf, hit_rate, door_false, loan_enf,
     unemployment_income, unemployment_hardship, relax, per_sanction, relief, memory) = (
        par[0], par[1], par[2], par[3], par[4], par[5], par[6], par[7], par[8], par[9], par[10],
        par[11], par[12], par[13])
    flight, rail, hotel, loan, school = 1, 2, 4, 8, 16
    counts[:] = 0
    for i in range(len(attempts)):
        s = agent_seed(key, i)
        a, listed, r = attempts[i], black[i], region[i]
        travel, employment, schooling, services, rewarding = flags[0], flags[1], flags[2], flags[3], flags[4]
        # the refusals, bit by bit: each a sanction that is on, an attempt, and its draw
        out = np.int64(travel and listed and (a & flight) != 0 and uniform(s, 0) < travel_enf)
        out |= np.int64(travel and listed and (a & rail) != 0 and uniform(s, 1) < travel_enf) << 1
        if employer[i] >= 0:  # a job lost to the list (bit 2), else perhaps to separation
            lost = employment and listed and checks[employer[i]] and uniform(s, 2) < job_loss
            out |= np.int64(lost) << 2
            jobs_lost[i] += lost
            if lost or uniform(s, 3) < separation:
                employer[i] = -1
        elif uniform(s, 4) < hire:  # an offer, refused to the listed by an employer that checks (bit 3)
            lo = company_start[r]
            offer = lo + int(uniform(s, 5) * (company_start[r + 1] - lo))
            blocked = employment and listed and checks[offer]
            out |= np.int64(blocked) << 3
            employer[i] = employer[i] if blocked else offer
        out |= np.int64(schooling and listed and (a & school) != 0 and uniform(s, 6) < school_enf) << 4
        door = services and (a & hotel) != 0 and uniform(s, 7) < cam_cov[r] * (hit_rate if listed else door_false)
        out |= np.int64(door and listed) << 5
        out |= np.int64(door and not listed) << 6
        out |= np.int64(services and listed and (a & loan) != 0 and uniform(s, 8) < loan_enf) << 7
        refused = 0  # the refusals are bits 0-7; a reward is bit 8
        for bit in (1, 2, 4, 8, 16, 32, 64, 128):
            refused += (out & bit) != 0
        refusals[i] += refused
        punished[i] |= refused > 0
        if rewarding and red[i]:
            out |= 256
            rewards[i] += 1
            rewarded[i] = True
        employed = employer[i] >= 0
        income[i] = income_base[i] if employed else income_base[i] * unemployment_income
        target = hardship0[i] + (0.0 if employed else unemployment_hardship)
        h = hardship[i] + relax * (target - hardship[i]) + per_sanction * refused
        if flags[4] and red[i]:
            h -= relief
        hardship[i] = min(max(h, 0.0), 1.0)
        pressure[i] = memory * pressure[i] + refused + (0.5 if listed else 0.0)
        for b in range(counts.shape[1]):  # the persons of each part with each bit of their outcome
            counts[i // consequences.CHUNK, b] += (out >> b) & 1


@nb.njit(cache=True)
def _scoring_reference(points, seen, par, grade_mins, tie_mean, listed_ties,
                       personal, false_points, score, grade, punished, rewarded):
    base, lo, hi, keep, net_w, tie_pen = par[0], par[1], par[2], par[3], par[4], par[5]
    for i in range(len(seen)):
        delta = np.float32(0.0)
        for b in range(len(points)):
            if (seen[i] >> b) & 1:
                delta += points[b]
                if points[b] < 0:
                    punished[i] = True
                if points[b] > 0:
                    rewarded[i] = True
        own = base + (personal[i] + delta - base) * keep
        fp = false_points[i] * keep
        if own < lo:
            fp = max(fp, lo - base)
            own = lo
        personal[i] = min(own, hi)
        false_points[i] = fp
        v = min(max(personal[i] + net_w * (tie_mean[i] - base) - tie_pen * listed_ties[i], lo), hi)
        score[i] = v
        g = len(grade_mins) - 1
        for k in range(len(grade_mins)):
            if v >= grade_mins[k]:
                g = k
                break
        grade[i] = g


@nb.njit(cache=True)
def _observation_reference(key, acted, fulfilled, education, degree_year, region, cov, seen):
    fulfil, bachelor, postgrad = observation.FULFIL, observation.BACHELOR, observation.POSTGRAD
    for i in range(len(acted)):
        s = agent_seed(key, i)
        r = region[i]
        bits = 0
        for b in range(fulfil):
            if (acted[i] >> b) & 1 and uniform(s, b) < cov[b, r]:
                bits |= 1 << b
        if fulfilled[i] and uniform(s, fulfil) < cov[fulfil, r]:
            bits |= 1 << fulfil
        if degree_year and education[i] >= 2 and uniform(s, bachelor) < cov[bachelor, r]:
            bits |= 1 << (bachelor if education[i] == 2 else postgrad)
        seen[i] = bits


@nb.njit(cache=True)
def _lists_reference(black, months, cause, score, personal, false_points, default_out, hits, scored,
                     threshold, exit_threshold, min_term, punished, spells, counts):
    last = spells.shape[1] - 1
    for i in range(len(black)):
        c = i // lists.CHUNK
        if black[i]:
            months[i] += 1
            recovered = not scored or score[i] >= exit_threshold
            if months[i] >= min_term and recovered and not default_out[i] and hits[i] == 0:
                spells[c, min(months[i], last)] += 1
                black[i] = False
                cause[i] = NOT_LISTED
                months[i] = 0
                counts[c, 0] += 1
        if not black[i] and (hits[i] != 0 or (scored and score[i] < threshold)):
            if hits[i] & lists.TRUE_HIT:
                cause[i] = BY_RULE
            elif hits[i] & lists.FALSE_HIT or score[i] - false_points[i] >= threshold:
                cause[i] = BY_FALSE
            elif personal[i] - false_points[i] >= threshold:
                cause[i] = BY_ASSOCIATION
            else:
                cause[i] = BY_SCORE
            black[i] = True
            punished[i] = True
            counts[c, 1] += 1


def _captured(monkeypatch, module, name):
    """The arguments of the kernel `module.name` at step 6 of a seed run of 3,000 persons."""
    seen = []
    real = getattr(module, name)

    def spy(*args):
        seen.append(tuple(a.copy() if isinstance(a, np.ndarray) else a for a in args))
        return real(*args)

    monkeypatch.setattr(module, name, spy)
    sim = Simulation(load_scenario("seed", overrides={"population.agents": 3000, "run.steps": 8, "run.seed": 2}))
    for _ in range(6):
        sim.step()
    return list(seen[-1])


def _run_both(kernel, reference, args):
    ours = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    want = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    kernel(*ours)
    reference(*want)
    for k, (a, b) in enumerate(zip(ours, want)):
        if isinstance(a, np.ndarray):
            assert np.array_equal(a, b), f"argument {k} differs"
    return ours


def test_consequences_kernel_is_the_definition(monkeypatch):
    args = _captured(monkeypatch, consequences, "_persons_kernel")
    rng = np.random.default_rng(7)
    n = len(args[3])
    args[4] = rng.random(n) < 0.3  # black: every sanction's branch, often
    args[5] = rng.random(n) < 0.2  # red
    args[3] = rng.integers(0, 32, n).astype(args[3].dtype)  # attempts of every kind
    args[8] = rng.random(len(args[8])) < 0.5  # employers that check
    args[1] = np.ones(5, np.bool_)  # every sanction and the rewards on
    args[2] = args[2].copy()
    args[2][6] = 0.3  # a false match at the hotel's door, often
    for key in range(3):
        args[0] = np.uint64(1000 + key)
        ours = _run_both(consequences._persons_kernel, _consequences_reference, args)
        # every outcome occurs (the per-part counts of each outcome bit were compared above)
        assert (ours[-1].sum(axis=0) > 0).all()


def test_scoring_kernel_is_the_definition(monkeypatch):
    args = _captured(monkeypatch, scoring, "_score_persons")
    rng = np.random.default_rng(8)
    n = len(args[1])
    args[1] = np.where(rng.random(n) < 0.4, rng.integers(0, 1 << 12, n), 0).astype(args[1].dtype)
    base, lo = args[2][0], args[2][1]
    args[6] = (lo + (base - lo) * 1.3 * rng.random(n)).astype(args[6].dtype)  # some fall to the floor
    args[4] = (args[4] + rng.normal(0, 80, n)).astype(args[4].dtype)
    args[5] = rng.integers(0, 4, n).astype(args[5].dtype)
    args[3] = args[3].copy()
    args[3][-1] = lo + 60.0  # some scores below every band's min: the worst band
    args[0] = args[0].copy()
    args[0][1] = 0.0  # an action whose points are drawn by kind (`_kind_points` zeroes it here)
    args[10] = rng.random(n) < 0.1  # punished or rewarded before scoring: kept
    args[11] = rng.random(n) < 0.1
    ours = _run_both(scoring._score_persons, _scoring_reference, args)
    assert len(np.unique(ours[9])) >= 3  # the scores span several bands
    assert (ours[6] == lo).any()  # and some are held at the floor


def test_observation_kernel_is_the_definition(monkeypatch):
    args = _captured(monkeypatch, observation, "_observe_persons")
    rng = np.random.default_rng(10)
    n = len(args[1])
    fulfil = observation.FULFIL
    # several actions a person, at every bit (and none for most)
    args[1] = np.where(rng.random(n) < 0.3, rng.integers(0, 1 << fulfil, n), 0).astype(args[1].dtype)
    args[2] = rng.random(n) < 0.1  # paid judgments
    args[3] = rng.integers(0, 4, n).astype(args[3].dtype)  # every level of education
    args[6] = rng.uniform(0.2, 0.8, args[6].shape).astype(args[6].dtype)  # draws fall both ways
    for degree_year in (False, True):
        args[4] = degree_year
        args[7] = np.full(n, 0xFFFF, args[7].dtype)  # every entry must be written
        ours = _run_both(observation._observe_persons, _observation_reference, args)
        assert len(np.unique(ours[7])) > 2 ** (fulfil - 1)  # many combinations of records


def test_list_exits_and_entries_are_the_definition():
    """`lists._exits_and_entries` on a state where every exit and entry rule is met somewhere."""
    rng = np.random.default_rng(11)
    n = 2 * lists.CHUNK + 77
    threshold, exit_threshold = np.float32(500.0), np.float32(560.0)
    score = rng.uniform(400, 650, n).astype(np.float32)
    false_points = np.where(rng.random(n) < 0.2, rng.uniform(-120, 0, n), 0).astype(np.float32)
    personal = (score + rng.normal(0, 60, n)).astype(np.float32)
    black = rng.random(n) < 0.3
    for scored in (True, False):
        args = [black.copy(), rng.integers(0, 8, n).astype(np.int32),
                np.where(black, BY_SCORE, NOT_LISTED).astype(np.int8), score, personal, false_points,
                rng.random(n) < 0.1, rng.choice(np.array([0, 0, 0, 1, 2, 3], np.uint8), n), scored,
                threshold, exit_threshold, 3, rng.random(n) < 0.1,
                np.zeros((lists.chunks_of(n), 13), np.int64), np.zeros((lists.chunks_of(n), 2), np.int64)]
        ours = _run_both(lists._exits_and_entries, _lists_reference, args)
        assert ours[14][:, 0].sum() > 100 and ours[14][:, 1].sum() > 100  # many exits and entries
        # listed by every cause (unscored: by records alone, or since before)
        assert len(np.unique(ours[2][ours[0]])) == (4 if scored else 3)


def test_a_lone_debtor_in_a_part_can_pay(monkeypatch):
    """The actions skip the payment draws of a part where no one owes a judgment: a part with
    one debtor must still draw them (a debtor under a crushing pressure to pay pays)."""
    args = _captured(monkeypatch, actions, "_persons_kernel")
    n = len(args[9])
    debtors = [5, actions.CHUNK + 7, 2 * actions.CHUNK + 1, 2 * actions.CHUNK + 2]
    assert n > debtors[-1]
    args[23] = np.zeros(n, np.bool_)  # default_out
    args[23][debtors] = True
    args[17] = args[17].copy()
    args[17][debtors] = 1e6  # pressure
    actions._persons_kernel(*args)
    assert np.flatnonzero(args[26]).tolist() == debtors  # fulfilled: they paid, no one else
    assert not args[23][debtors].any()  # and owe no more


def test_red_list_and_list_counts_follow_their_definition():
    """`lists._red_and_counts`: red = red list on, not blacklisted and score >= threshold;
    per chunk, the blacklisted whose cause is a false record and those listed by association."""
    from credsim.engine.state import BY_ASSOCIATION, BY_FALSE, BY_SCORE
    from credsim.engine.bits import CHUNK, chunks_of
    from credsim.mechanisms.lists import _red_and_counts

    rng = np.random.default_rng(9)
    n = 2 * CHUNK + 77
    black = rng.random(n) < 0.3
    cause = rng.choice([BY_SCORE, BY_FALSE, BY_ASSOCIATION], n).astype(np.int8)  # counted only if listed
    score = rng.uniform(300, 900, n).astype(np.float32)  # the listed too can score high
    for red_on in (True, False):
        red = rng.random(n) < 0.5  # every entry must be written
        counts = np.zeros((chunks_of(n), 2), np.int64)
        _red_and_counts(black, cause, score, red_on, np.float32(700.0), red, counts)
        assert np.array_equal(red, red_on & ~black & (score >= 700.0))
        chunk = np.arange(n) // CHUNK
        for c in range(chunks_of(n)):
            here = black & (chunk == c)
            assert counts[c].tolist() == [np.count_nonzero(here & (cause == BY_FALSE)),
                                          np.count_nonzero(here & (cause == BY_ASSOCIATION))]


@pytest.mark.parametrize("scored", [True, False])
def test_company_spells_are_the_definition(scored):
    """`lists._company_spells` against the NumPy definition it replaced, on companies where every
    rule holds somewhere: listed or not, months either side of the minimum term, recovered or
    not, a judgment owed, a true or only a false listing record this month."""
    rng = np.random.default_rng(12)
    m, min_term = 5000, 6
    threshold, exit_threshold = np.float32(0.7), np.float32(0.75)  # 0.7 is not a float32
    black = rng.random(m) < 0.4
    months = np.where(black, rng.integers(0, 12, m), 0).astype(np.int32)
    score = rng.uniform(0.6, 0.85, m).astype(np.float32)
    score[:50], score[50:100] = threshold, exit_threshold  # on the thresholds exactly
    default_out = rng.random(m) < 0.1
    hits = rng.choice(np.array([0, lists.TRUE_HIT, lists.FALSE_HIT, 3], np.uint8), m, p=[0.7, 0.1, 0.1, 0.1])
    # the definition (NumPy compares float32 scores with the thresholds in float32)
    want_black, want_months = black.copy(), months.copy()
    want_months[want_black] += 1
    true_hit = (hits & lists.TRUE_HIT) != 0
    low = score < threshold if scored else np.zeros(m, bool)
    recovered = score >= exit_threshold if scored else np.ones(m, bool)
    leaving = want_black & (want_months >= min_term) & recovered & ~default_out & ~true_hit
    want_black[leaving] = False
    want_months[leaving] = 0
    want_entering = ~want_black & (true_hit | low)
    want_black |= want_entering
    entering = np.empty(m, bool)
    inflow, outflow = lists._company_spells(black, months, score, default_out, hits, scored, threshold,
                                            exit_threshold, min_term, entering)
    assert np.array_equal(black, want_black) and np.array_equal(months, want_months)
    assert np.array_equal(entering, want_entering)
    assert (inflow, outflow) == (want_entering.sum(), leaving.sum())
    assert inflow > 0 and outflow > 0 and (want_entering & low).any() == scored
