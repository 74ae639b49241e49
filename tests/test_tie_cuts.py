"""The tie-cut sampler (`ties._cuts_against`): thinning by geometric skips draws the same cuts
as the textbook form that takes a log for every skip, and cuts each friend tie with its
probability cut_rate * cost * (0.5 + 0.5 * salience of the friend)."""

from __future__ import annotations

import numba as nb
import numpy as np
import pytest

from credsim.mechanisms.ties import CHUNK, SPACE, _apply_cuts, _cuts, _cuts_against
from credsim.randomness import agent_seed, uniform
from graph_helpers import live_friends, live_ties, packed


@nb.njit(cache=True)
def _reference(key, i, lo, hi, nbr, family, q, salience, out):
    """The sampler with a log for every skip and no shortcut: the definition."""
    s = agent_seed(key, i)
    log_keep = np.log1p(-q) if q < 1.0 else -np.inf
    pos, d, found = lo - 1, 0, 0
    while True:
        u = uniform(s, d)
        d += 1
        pos += 1 if q >= 1.0 else 1 + int(np.log(1.0 - u) / log_keep)
        if pos >= hi:
            return found
        if nbr[pos] >= 0 and not family[pos]:  # a friend tie: kept with p / q
            keep = uniform(s, d) < 0.5 + 0.5 * salience[nbr[pos]]
            d += 1
            if keep:
                out[found] = pos
                found += 1


def _row(rng, slots):
    """One person's slots: a quarter free (-1), a tenth family, the rest friends."""
    nbr = rng.integers(0, 1000, slots).astype(np.int32)
    nbr[rng.random(slots) < 0.25] = -1
    family = rng.random(slots) < 0.1
    return nbr, family, rng.random(1000).astype(np.float32)


@pytest.mark.parametrize("q", [1e-4, 0.003, 0.02, 0.1, 0.5, 0.97, 1.0])
def test_the_shortcut_draws_the_same_cuts_as_a_log_for_every_skip(q):
    rng = np.random.default_rng(7)
    for slots in (1, 5, 14, 60):
        nbr, family, salience = _row(rng, slots)
        out, ref = np.empty(slots, np.int64), np.empty(slots, np.int64)
        for i in range(3000):
            key = np.uint64(rng.integers(0, 2**63))
            k = _cuts_against(key, i, 0, slots, nbr, family, q, salience, out, 0)
            m = _reference(key, i, 0, slots, nbr, family, q, salience, ref)
            assert k == m and np.array_equal(out[:k], ref[:m]), (q, slots, i)
            # counting alone (out unused) finds as many
            assert _cuts_against(key, i, 0, slots, nbr, family, q, salience, out[:0], -1) == k


@pytest.mark.parametrize("q", [0.01, 0.2])
def test_each_friend_tie_is_cut_with_its_probability(q):
    rng = np.random.default_rng(11)
    slots, persons = 400, 2000
    nbr, family, salience = _row(rng, slots)
    cuts = np.zeros(slots, np.int64)
    out = np.empty(slots, np.int64)
    for i in range(persons):
        k = _cuts_against(np.uint64(12345), i, 0, slots, nbr, family, q, salience, out, 0)
        np.add.at(cuts, out[:k], 1)
    friend = (nbr >= 0) & ~family
    p = q * (0.5 + 0.5 * salience[np.where(friend, nbr, 0)].astype(np.float64))
    assert cuts[~friend].sum() == 0  # free slots and family ties are never cut
    expected = persons * p[friend].sum()
    sd = np.sqrt(persons * (p[friend] * (1 - p[friend])).sum())
    assert abs(cuts.sum() - expected) < 4 * sd
    # slot by slot: the 2000 persons' cuts of each slot (a chi-square of ~280 cells)
    e = persons * p[friend]
    chi2 = ((cuts[friend] - e) ** 2 / (e * (1 - p[friend]))).sum()
    dof = friend.sum()
    assert chi2 < dof + 5 * np.sqrt(2 * dof)


def test_the_cut_pass_is_the_sampler_for_every_person_with_a_cost():
    """`_cuts` screens persons in vector lanes before sampling and keeps each part's cuts in a
    space of its own (a part whose cuts do not fit draws them again): it must find exactly the
    cuts of the reference sampler run for every person with a tie cost, in order of their
    owners."""
    rng = np.random.default_rng(3)
    n = 9000  # over two parts of the pass
    sizes = rng.integers(0, 30, n)
    indptr = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    nbr = rng.integers(0, n, indptr[-1]).astype(np.int32)
    nbr[rng.random(indptr[-1]) < 0.25] = -1
    family = rng.random(indptr[-1]) < 0.1
    nbr[indptr[100]:indptr[400]] = -1  # persons with a cost, slots, and no live friend tie
    family[indptr[400]:indptr[500]] = True
    nbr, family = packed(indptr, nbr, family)  # live ties first, as the engine keeps the rows
    friends, degree = live_friends(indptr, nbr, family), live_ties(indptr, nbr)
    assert (friends[100:500] == 0).all() and (friends == 1).sum() > 100
    salience = rng.random(n).astype(np.float32)
    cost = np.where(rng.random(n) < 0.5, 0.0, rng.random(n)).astype(np.float32)
    cost[:50] = 1.0  # q = cut_rate: a skip of one slot at a time when cut_rate is 1
    cost[100:500] = 1.0
    for cut_rate in (np.float32(0.02), np.float32(0.3), np.float32(1.0)):
        key = np.uint64(rng.integers(0, 2**63))
        slots, owners = _cuts(key, indptr, nbr, family, cost, cut_rate, salience, friends, degree)
        want_slots, want_owners = [], []
        out = np.empty(30, np.int64)
        for i in range(n):
            q = np.float64(cut_rate * cost[i])
            if q > 0.0:
                # over the whole row: past the live ties, every slot is free
                k = _reference(key, i, indptr[i], indptr[i + 1], nbr, family, q, salience, out)
                want_slots += list(out[:k])
                want_owners += [i] * k
        assert len(want_slots) > 100
        assert np.array_equal(slots, want_slots) and np.array_equal(owners, want_owners)
        per_part = np.bincount(np.asarray(want_owners) // CHUNK, minlength=3)
        if cut_rate == np.float32(0.02):  # every part keeps its cuts from the first pass
            assert per_part.max() < SPACE // 2
        if cut_rate == np.float32(1.0):  # and here every part draws them again
            assert per_part.min() > SPACE


def test_the_cut_pass_is_told_the_live_friend_ties(tmp_path, monkeypatch):
    """`_cuts` skips persons with no live friend tie by the view's friend degree and reads each
    row's first `degree` slots: at every ties phase, in a run and in one restored from a
    checkpoint, those must be the graph's counts, with every row's live ties first."""
    from credsim import Simulation, load_scenario
    from credsim.mechanisms import ties

    checked = []
    real = ties._cuts

    def checking(key, indptr, nbr, family, cost, cut_rate, salience, friends, degree):
        assert np.array_equal(friends, live_friends(indptr, nbr, family))
        assert np.array_equal(degree, live_ties(indptr, nbr))
        assert np.array_equal((nbr, family), packed(indptr, nbr, family))  # live ties first
        checked.append(len(friends))
        return real(key, indptr, nbr, family, cost, cut_rate, salience, friends, degree)

    monkeypatch.setattr(ties, "_cuts", checking)
    sc = load_scenario("seed", overrides={"population.agents": 1500, "run.steps": 12, "run.seed": 4})
    first = Simulation(sc)
    for _ in range(6):
        first.step()
    first.save_checkpoint(tmp_path / "ck")
    resumed = Simulation.from_checkpoint(sc, tmp_path / "ck")
    resumed.run()
    assert len(checked) == 12  # six steps before the checkpoint, six after


def _symmetric_graph(rng, n):
    """Packed rows of 0-15 slots with symmetric ties, a tenth of them family."""
    sizes = rng.integers(0, 16, n)
    indptr = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    nbr = np.full(indptr[-1], -1, np.int32)
    family = np.zeros(indptr[-1], np.bool_)
    used = np.zeros(n, np.int64)
    for i in range(n):
        for j in rng.integers(0, n, sizes[i] // 2):
            if j == i or used[i] == sizes[i] or used[j] == sizes[j] or j in nbr[indptr[i]:indptr[i] + used[i]]:
                continue
            si, sj = indptr[i] + used[i], indptr[j] + used[j]
            nbr[si], nbr[sj] = j, i
            family[si] = family[sj] = rng.random() < 0.1
            used[i] += 1
            used[j] += 1
    return indptr, nbr, family


def _ties(indptr, nbr, family):
    owner = np.repeat(np.arange(len(indptr) - 1), np.diff(indptr))
    live = nbr >= 0
    return set(zip(owner[live].tolist(), nbr[live].tolist(), family[live].tolist()))


def test_applying_cuts_removes_the_chosen_ties_and_keeps_live_ties_first():
    """Each chosen friend tie goes from both ends (once, if chosen from both), the rest stay
    with their family flags, the friend counts follow, and every row keeps its live ties first."""
    rng = np.random.default_rng(5)
    n = 2000
    indptr, nbr, family = _symmetric_graph(rng, n)
    friends = live_friends(indptr, nbr, family)
    n_family = live_ties(indptr, nbr) - friends
    owner = np.repeat(np.arange(n), np.diff(indptr))
    friend_slots = np.flatnonzero((nbr >= 0) & ~family)
    chosen = np.sort(rng.choice(friend_slots, len(friend_slots) // 4, replace=False))
    twins = [s for s in chosen if rng.random() < 0.3]  # some ties chosen from the other end too
    for s in twins:
        j = nbr[s]
        chosen = np.append(chosen, indptr[j] + np.flatnonzero(nbr[indptr[j]:indptr[j + 1]] == owner[s])[0])
    chosen = chosen[np.lexsort((chosen, owner[chosen]))]  # as `_cuts` lists them: by owner
    gone = {(owner[s], nbr[s]) for s in chosen} | {(nbr[s], owner[s]) for s in chosen}
    want = {t for t in _ties(indptr, nbr, family) if t[:2] not in gone}
    before = friends.copy()
    cut = _apply_cuts(indptr, nbr, family, n_family, chosen.astype(np.int64), owner[chosen].astype(np.int64), friends)
    assert cut == len(gone) // 2 and len(twins) > 50
    assert _ties(indptr, nbr, family) == want
    assert np.array_equal(friends, live_friends(indptr, nbr, family))
    assert (before - friends).sum() == 2 * cut
    assert np.array_equal((nbr, family), packed(indptr, nbr, family))
