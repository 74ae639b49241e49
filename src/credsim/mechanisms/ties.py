"""Phase 8, ties: cutting ties to low-scoring or listed friends, forming new ones, refusals.

What a tie to j costs (visible to others), in [0, 1]:
    cost_j = min(1, score_aversion * network_weight * max(0, base - score_j) / (base - min)
                    + (naming + listed_tie_penalty / point_scale) * blacklisted_j)
(the score term only where scoring is on: where friends' scores count, low scorers cost).
Each friend tie (i, j) is cut with probability cut_rate * cost_j * (0.5 + 0.5 * salience_i);
family ties are never cut.  A person with fewer friend ties than it started with proposes a
tie with probability form_rate a month: to a friend of a friend with probability `triadic`,
else to a random resident of its region.  The candidate refuses with probability
refusal * cost_proposer ("the man who could not get a date"); the proposer avoids a
candidate with probability refusal * cost_candidate; a candidate already above its own initial
friend count declines, so nobody ends more than one friend tie above its initial count.
"""

from __future__ import annotations

import numba as nb
import numpy as np


def tie_cost(sim) -> np.ndarray:
    sc, st = sim.sc, sim.state
    n = len(st.score)
    cost = np.zeros(n, np.float32)
    s = sc.scoring
    if s.enabled and s.network_weight > 0:
        cost += np.float32(sc.ties.score_aversion * s.network_weight) * np.maximum(0.0, s.base - st.score) / np.float32(max(s.base - s.min, 1.0))
    if sc.lists.blacklist:
        visible = float(sc.lists.naming) + s.listed_tie_penalty / sc.behaviour.point_scale * s.enabled
        if visible:
            cost += np.float32(visible) * st.black
    return np.minimum(cost, 1.0)


@nb.njit(cache=True)
def _cut(indptr, nbr, family, cand, cost, salience, u, cut_rate):
    k = 0
    cut = 0
    for ci in range(len(cand)):
        j = cand[ci]
        cj = cost[j]
        for slot in range(indptr[j], indptr[j + 1]):
            uu = u[k]
            k += 1
            i = nbr[slot]
            if i < 0 or family[slot]:
                continue
            if uu < cut_rate * cj * (0.5 + 0.5 * salience[i]):
                nbr[slot] = -1
                for s2 in range(indptr[i], indptr[i + 1]):
                    if nbr[s2] == j and not family[s2]:
                        nbr[s2] = -1
                        break
                cut += 1
    return cut


@nb.njit(cache=True)
def _free_slot(indptr, nbr, i):
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
def _friends(indptr, nbr, family, j):
    k = 0
    for s in range(indptr[j], indptr[j + 1]):
        if nbr[s] >= 0 and not family[s]:
            k += 1
    return k


@nb.njit(cache=True)
def _form(indptr, nbr, family, target, proposers, region_start, region, cost, u, triadic, refusal):
    formed = 0
    refused = 0
    for pi in range(len(proposers)):
        i = proposers[pi]
        if u[0, pi] < triadic:
            di = indptr[i + 1] - indptr[i]
            f = nbr[indptr[i] + int(u[1, pi] * di)]
            if f < 0:
                continue
            df = indptr[f + 1] - indptr[f]
            j = nbr[indptr[f] + int(u[2, pi] * df)]
            if j < 0:
                continue
        else:
            lo = region_start[region[i]]
            hi = region_start[region[i] + 1]
            j = lo + int(u[1, pi] * (hi - lo))
        if j == i or _tied(indptr, nbr, i, j) or _friends(indptr, nbr, family, j) > target[j]:
            continue
        if u[3, pi] < refusal * cost[i]:
            refused += 1
            continue
        if u[4, pi] < refusal * cost[j]:
            continue
        si = _free_slot(indptr, nbr, i)
        sj = _free_slot(indptr, nbr, j)
        if si < 0 or sj < 0:
            continue
        nbr[si] = j
        family[si] = False
        nbr[sj] = i
        family[sj] = False
        formed += 1
    return formed, refused


def step(sim, ctx) -> None:
    T = sim.sc.ties
    if not T.enabled:
        return
    g, st = sim.society.graph, sim.state
    rng = sim.rng["ties"]
    cost = tie_cost(sim)
    cand = np.flatnonzero(cost > 0)
    if len(cand) and T.cut_rate > 0:
        slots = int((g.indptr[cand + 1] - g.indptr[cand]).sum())
        u = rng.random(slots, dtype=np.float32)
        ctx.add("ties_cut", _cut(g.indptr, g.nbr, g.family, cand, cost, st.salience, u, np.float32(T.cut_rate)))
    below = ctx.friend_degree < g.target_friends
    proposers = np.flatnonzero(below & (rng.random(len(below), dtype=np.float32) < T.form_rate))
    if len(proposers):
        u = rng.random((5, len(proposers)), dtype=np.float32)
        formed, refused = _form(g.indptr, g.nbr, g.family, g.target_friends, proposers, sim.society.regions.start,
                                sim.society.persons.region, cost, u, np.float32(T.triadic), np.float32(T.refusal))
        ctx.add("ties_formed", formed)
        ctx.add("tie_refusals", refused)
