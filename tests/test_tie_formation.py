"""Tie formation (`ties._form`): proposals drawn and settled in parallel, then taken in turn,
form exactly the ties that taking each proposal in turn from the start forms."""

from __future__ import annotations

import numba as nb
import numpy as np
import pytest

from credsim.mechanisms.ties import CHUNK, _form, _link, _proposers
from credsim.randomness import agent_seed, uniform
from credsim.society.network import family_counts, stub_target
from graph_helpers import live_friends


@nb.njit(cache=True)
def _free_slot(indptr, nbr, i):
    """i's first free slot, or -1."""
    for s in range(indptr[i], indptr[i + 1]):
        if nbr[s] < 0:
            return s
    return -1


@nb.njit(cache=True)
def _tied(indptr, nbr, i, j):
    for s in range(indptr[i], indptr[i + 1]):
        if nbr[s] == j:
            return True
    return False


@nb.njit(cache=True)
def _reference(key, indptr, nbr, family, target, proposers, region_start, region, cost, triadic, refusal,
               partner_key, window, locality, partners, friends):
    """One proposal at a time, each drawn from the graph as the ones before left it: the
    definition."""
    formed = 0
    refused = 0
    for i in proposers:
        s = agent_seed(key, i)
        if uniform(s, 0) < triadic:
            di = indptr[i + 1] - indptr[i]
            f = nbr[indptr[i] + int(uniform(s, 1) * di)]
            if f < 0:
                continue
            df = indptr[f + 1] - indptr[f]
            j = nbr[indptr[f] + int(uniform(s, 2) * df)]
            if j < 0:
                continue
        else:
            lo = region_start[region[i]]
            j = stub_target(partner_key, i, lo, region_start[region[i] + 1] - lo, len(target), window,
                            locality, partners, uniform(s, 5), uniform(s, 1), uniform(s, 6))
        if j == i or friends[i] >= target[i]:
            continue
        if friends[j] >= target[j] or _tied(indptr, nbr, i, j):
            continue
        if uniform(s, 3) < refusal * cost[i]:
            refused += 1
            continue
        if uniform(s, 4) < refusal * cost[j]:
            continue
        si = _free_slot(indptr, nbr, i)
        sj = _free_slot(indptr, nbr, j)
        if si < 0 or sj < 0:
            continue
        _link(nbr, family, friends, i, j, si, sj)
        formed += 1
    return formed, refused


def _graph(rng, n):
    """Rows of 2-12 slots, about half free; a small world so that proposals collide often."""
    sizes = rng.integers(2, 13, n)
    indptr = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    nbr = np.full(indptr[-1], -1, np.int32)
    family = np.zeros(indptr[-1], np.bool_)
    for i in range(n):  # symmetric ties into the first free slots
        for j in rng.integers(0, n, sizes[i] // 3):
            if j != i and not _tied(indptr, nbr, i, j):
                si, sj = _free_slot(indptr, nbr, i), _free_slot(indptr, nbr, j)
                if si >= 0 and sj >= 0:
                    nbr[si], nbr[sj] = j, i
                    family[si] = family[sj] = rng.random() < 0.1
    friends = live_friends(indptr, nbr, family)
    target = (friends + rng.integers(0, 4, n)).astype(np.int32)
    return indptr, nbr, family, friends, target


@pytest.mark.parametrize("triadic", [0.0, 0.5, 1.0])
def test_formation_is_taking_each_proposal_in_turn(triadic):
    rng = np.random.default_rng(int(triadic * 10) + 1)
    n = 3000
    indptr, nbr, family, friends, target = _graph(rng, n)
    region = np.repeat(np.arange(3), n // 3).astype(np.int32)
    region_start = np.array([0, n // 3, 2 * n // 3, n], np.int64)
    cost = np.where(rng.random(n) < 0.7, 0.0, rng.random(n)).astype(np.float32)
    formed_total = 0
    for rep in range(4):
        proposers = np.flatnonzero(rng.random(n) < 0.6).astype(np.int64)
        key = np.uint64(rng.integers(0, 2**63))
        args = (key, indptr, nbr, family, target, proposers, region_start, region, cost, np.float32(triadic),
                np.float32(0.8), np.uint64(99), 20, 0.7, 3)
        want = [x.copy() for x in (nbr, family, friends)]
        got = [x.copy() for x in (nbr, family, friends)]
        r_want = _reference(*args[:2], want[0], want[1], *args[4:], want[2])
        r_got = _form(*args[:2], got[0], got[1], family_counts(indptr, family), *args[4:], got[2])
        assert r_got == r_want
        for a, b in zip(got, want):
            assert np.array_equal(a, b)
        formed_total += r_want[0]
        nbr, family, friends = want
    assert formed_total > 200 and r_want[1] > 0  # ties form, and some proposals are refused


@nb.njit(cache=True)
def _draws0(key, n):
    out = np.empty(n)
    for i in range(n):
        out[i] = uniform(agent_seed(key, i), 0)
    return out


@pytest.mark.parametrize("n", [1, 5, CHUNK, 3 * CHUNK + 7])
def test_proposers_are_who_proposes_in_order(n):
    """The listed proposers: persons below their initial friend count whose draw 0 falls below
    form_rate, in increasing order, across the parts' bounds."""
    rng = np.random.default_rng(n)
    target = rng.integers(0, 8, n).astype(np.int32)
    friend_degree = (target - rng.integers(-1, 3, n)).astype(np.int32)
    key, rate = np.uint64(12345), np.float32(0.4)
    got = _proposers(key, friend_degree, target, rate)
    draw = _draws0(key, n)
    want = np.flatnonzero((friend_degree < target) & (draw < rate))
    assert got.dtype == np.int64
    assert np.array_equal(got, want)
    if n > 100:
        assert 0 < len(want) < n  # both kinds of persons occur
