"""Phase 8, ties: cutting ties to low-scoring or listed friends, forming new ones, refusals.

What a tie to j costs (visible to others), in [0, 1]:
    cost_j = min(1, score_aversion * network_weight * max(0, base - score_j) / max(base - min, 1)
                    + (naming + listed_tie_penalty / point_scale) * blacklisted_j)
(the score term only where scoring is on: where friends' scores count, low scorers cost).
Each month i cuts its friend tie to j with probability cut_rate * cost_j * (0.5 + 0.5 *
salience_i), and j cuts it with cut_rate * cost_i * (0.5 + 0.5 * salience_j), independently;
a cut tie goes from both ends.  The draws are made at the end that bears the cost, by thinning
(see `_cuts_against`), so their number scales with the cuts, not with the ties.
Family ties are never cut.  A person with fewer friend ties than it started with proposes a
tie with probability form_rate a month: to a friend of a friend with probability `triadic`,
else to someone from where its friend ties come from (drawn like a friend stub when the
network is built: nearby in its region with probability `locality`, else in one of its
community's partner communities).  The candidate refuses with probability
refusal * cost_proposer ("the man who could not get a date"); the proposer avoids a
candidate with probability refusal * cost_candidate; a candidate at or above its own initial
friend count declines, so nobody has more friend ties than it started with.

The code, in the order `step` (at the end) runs it: the costs (`tie_cost`); the cuts, drawn
(`_cuts`, over `_may_cut` and `_cuts_against`) then applied (`_apply_cuts`); the proposals,
their proposers (`_proposers`), drawn against the graph in parallel (`_proposals`, over
`_first_hop`, `_refusals` and `_outcome`) and settled in turn (`_form`).
"""

from __future__ import annotations

import numba as nb
import numpy as np

from ..engine.prefetch import prefetch
from ..randomness import agent_seed, step_key, uniform, uniform_lanes
from ..society.network import stub_target


def tie_cost(sim) -> tuple[np.ndarray, bool]:
    """Each person's tie cost, and whether anyone's is above 0."""
    sc, st = sim.sc, sim.state
    s = sc.scoring
    aversion = np.float32(sc.ties.score_aversion * s.network_weight if s.enabled and s.network_weight > 0 else 0.0)
    visible = 0.0
    if sc.lists.blacklist:
        visible = float(sc.lists.naming) + s.listed_tie_penalty / sc.behaviour.point_scale * s.enabled
    cost = np.empty(len(st.score), np.float32)
    costly = _tie_cost(st.score, st.black, aversion, np.float32(s.base), np.float32(max(s.base - s.min, 1.0)),
                       np.float32(visible), cost)
    return cost, costly > 0


@nb.njit(parallel=True, cache=True)
def _tie_cost(score, black, aversion, base, span, visible, cost):
    """cost[i] (the module docstring); returns how many persons have a cost above 0."""
    zero = np.float32(0.0)
    costly = 0
    for i in nb.prange(len(cost)):
        c = zero
        if aversion > zero:
            c = aversion * max(zero, base - score[i]) / span
        if black[i]:
            c = c + visible
        cost[i] = min(c, np.float32(1.0))
        costly += cost[i] > zero
    return costly


@nb.njit(inline="always")
def _reach(q):
    """q / (1 - q) with a margin of 1e-9 (0 for q >= 1): a skip drawn from u passes `left`
    slots when u >= left * reach (`_cuts_against`)."""
    return q / (1.0 - q) * (1.0 + 1e-9) if q < 1.0 else 0.0


@nb.njit(inline="always")
def _skip_passes(u, left, reach):
    """Whether the skip drawn from u passes the `left` slots left (q < 1), decided without the
    logs: log(1 - u) <= -u and log1p(-q) >= -q / (1 - q).  `_cuts_against` and `_may_cut`."""
    return u >= np.float64(left) * reach


@nb.njit(inline="always")
def _cuts_against(key, i, lo, hi, nbr, family, q, salience, out, k):
    """Ties of i cut by its friends this month, sampled by thinning.

    Friend f cuts with p = cut_rate * cost_i * (0.5 + 0.5 * salience_f) <= q = cut_rate * cost_i:
    candidate slots are drawn at rate q by geometric skips and kept with probability p / q,
    so a person draws about 1 + degree * q numbers instead of one per tie.  Writes the kept
    slots to out[k:] when out is not None; returns how many.
    """
    s = agent_seed(key, i)
    # most skips (every one for most persons) are decided without the logs (`_skip_passes`)
    reach = _reach(q)
    log_keep = 0.0
    pos = lo - 1
    d = 0
    found = 0
    while True:
        u = uniform(s, d)
        d += 1
        if q < 1.0:
            if _skip_passes(u, hi - 1 - pos, reach):
                break
            if log_keep == 0.0:  # the first skip that needs it (log1p(-q) < 0 for q > 0)
                log_keep = np.log1p(-q)
            pos += 1 + int(np.log(1.0 - u) / log_keep)
        else:
            pos += 1
        if pos >= hi:
            break
        f = nbr[pos]
        if f < 0 or family[pos]:
            continue
        if uniform(s, d) < 0.5 + 0.5 * salience[f]:
            if k >= 0:
                out[k + found] = pos
            found += 1
        d += 1
    return found


CHUNK = 1 << 12  # persons per part of the cut draws and the proposers (the draws do not depend on it)


@nb.njit(cache=True, error_model="numpy")
def _may_cut(key, lo, cost, cut_rate, friends, degree, maybe):
    """maybe[j]: whether person lo + j has a tie cost, a live friend tie and a first skip (draw
    0) that stays inside its live ties, by the very test `_cuts_against` starts with (persons
    without are sure to cut nothing); a loop that vectorises (unsigned indices, `uniform_lanes`)."""
    for j in range(np.uint64(len(maybe))):
        i = lo + j
        q = np.float64(cut_rate * cost[i])
        reach = _reach(q)
        u = uniform_lanes(agent_seed(key, i), 0)
        maybe[j] = (q > 0.0) & (friends[i] > 0) & ((q >= 1.0) | (not _skip_passes(u, degree[i], reach)))


AHEAD = 4  # persons or cuts ahead whose rows the serial loops prefetch

SPACE = 1 << 10  # cut slots a part keeps from its counting pass (a part with more draws again)


@nb.njit(parallel=True, cache=True)
def _cuts(key, indptr, nbr, family, cost, cut_rate, salience, friends, degree):
    """The slots cut this month (`_cuts_against` over the live ties of every person with a tie
    cost and a live friend tie; friends[i], degree[i]: i's live friend ties and live ties, the
    first degree[i] slots of its row), in increasing order of their owners, and the owners.
    Fixed parts in parallel find their cuts and keep them in their own SPACE; a part whose
    cuts do not fit remembers who cut (few) and lists their cuts again once the parts' totals
    are known."""
    n = len(cost)
    parts = (n + CHUNK - 1) // CHUNK
    dummy = np.empty(0, np.int64)
    count = np.zeros(parts + 1, np.int64)
    kept = np.empty(parts * SPACE, np.int64)  # part c's cuts: kept[c * SPACE:c * SPACE + count[c + 1]]
    keeper = np.empty(parts * SPACE, np.int32)
    spilled = np.zeros(parts, np.bool_)
    who = np.empty(n, np.int32)  # part c's persons with cuts: who[c * CHUNK:c * CHUNK + cutters[c]]
    cutters = np.zeros(parts, np.int64)
    for c in nb.prange(parts):
        lo = c * CHUNK
        size = min(n, lo + CHUNK) - lo
        # first, in vector lanes: who may cut at all (a tie cost, a live friend tie and a first
        # skip that does not pass the row: the test `_cuts_against` starts with); most persons
        # stop here
        maybe = np.empty(size, np.bool_)
        _may_cut(key, np.uint64(lo), cost, cut_rate, friends, degree, maybe)
        listed = np.empty(size, np.int64)  # the part's persons who may cut, listed
        n_listed = 0
        for j in range(size):
            listed[n_listed] = j
            n_listed += maybe[j]
        k = 0
        m = 0
        for t in range(n_listed):
            if t + AHEAD < n_listed:  # the rows of a person a few ahead (`engine.prefetch`)
                row = indptr[lo + listed[t + AHEAD]]
                prefetch(nbr, row)
                prefetch(family, row)
            i = lo + listed[t]
            q = np.float64(cut_rate * cost[i])
            # a person cuts at most its live ties: kept while they all would fit
            spilled[c] |= k + degree[i] > SPACE
            out, at = (dummy, -1) if spilled[c] else (kept, c * SPACE + k)
            found = _cuts_against(key, i, indptr[i], indptr[i] + degree[i], nbr, family, q, salience,
                                  out, at)
            if not spilled[c]:
                keeper[at:at + found] = i
            if found > 0:
                who[c * CHUNK + m] = i
                m += 1
                k += found
        count[c + 1] = k
        cutters[c] = m
    for c in range(parts):
        count[c + 1] += count[c]
    slots = np.empty(count[parts], np.int64)
    owners = np.empty(count[parts], np.int64)
    for c in nb.prange(parts):
        k = count[c]
        if not spilled[c]:
            found = count[c + 1] - k
            slots[k:k + found] = kept[c * SPACE:c * SPACE + found]
            owners[k:k + found] = keeper[c * SPACE:c * SPACE + found]
            continue
        for t in range(cutters[c]):
            i = np.int64(who[c * CHUNK + t])
            q = np.float64(cut_rate * cost[i])
            found = _cuts_against(key, i, indptr[i], indptr[i] + degree[i], nbr, family, q, salience,
                                  slots, k)
            owners[k:k + found] = i
            k += found
    return slots, owners


@nb.njit(inline="always")
def _slot_of(indptr, nbr, n_family, friends, i, j):
    """The slot of i's row that holds j, or -1 (its live ties come first)."""
    for s in range(indptr[i], indptr[i] + n_family[i] + friends[i]):
        if nbr[s] == j:
            return s
    return -1


@nb.njit(inline="always")
def _unlink(indptr, nbr, family, n_family, friends, i, s):
    """Free slot s of i's row, a friend tie: its last live tie moves into it."""
    friends[i] -= 1
    last = indptr[i] + n_family[i] + friends[i]
    nbr[s], family[s] = nbr[last], family[last]
    nbr[last], family[last] = -1, False


@nb.njit(cache=True)
def _apply_cuts(indptr, nbr, family, n_family, slots, owners, friends):
    """Cut the chosen ties in the order listed, each from both ends (a tie chosen twice goes
    once): at each end the row's last live tie moves into the freed slot, so the rows keep
    their live ties first (`Graph`); friends[i]: i's live friend ties, kept up to date (only
    friend ties are cut)."""
    n = len(slots)
    other = np.empty(n, np.int64)  # who each chosen slot held when the cuts were drawn
    for k in range(n):
        other[k] = nbr[slots[k]]
    cut = 0
    for k in range(n):
        # the far end's counts asked for 2 * AHEAD cuts ahead, its row AHEAD cuts ahead (`engine.prefetch`)
        if k + 2 * AHEAD < n:
            far = other[k + 2 * AHEAD]
            prefetch(indptr, far)
            prefetch(friends, far)
            prefetch(n_family, far)
        if k + AHEAD < n:
            row = indptr[other[k + AHEAD]]
            prefetch(nbr, row)
            prefetch(family, row)
        i, j = owners[k], other[k]
        si = slots[k] if nbr[slots[k]] == j else _slot_of(indptr, nbr, n_family, friends, i, j)
        if si < 0:  # cut already, from j's end
            continue
        sj = _slot_of(indptr, nbr, n_family, friends, j, i)
        _unlink(indptr, nbr, family, n_family, friends, i, si)
        _unlink(indptr, nbr, family, n_family, friends, j, sj)
        cut += 1
    return cut


@nb.njit(inline="always")
def _free_slot(indptr, n_family, friends, i):
    """i's first free slot (its live ties come first), or -1 where its row is full."""
    s = indptr[i] + n_family[i] + friends[i]
    return s if s < indptr[i + 1] else -1


@nb.njit(inline="always")
def _tied(indptr, n_family, friends, nbr, i, j):
    """Whether i and j are tied, read from the end with fewer live ties."""
    a, b = (i, j) if n_family[i] + friends[i] <= n_family[j] + friends[j] else (j, i)
    return _slot_of(indptr, nbr, n_family, friends, a, b) >= 0


@nb.njit(cache=True, error_model="numpy")
def _mark_proposers(key, lo, friend_degree, target, form_rate, mask):
    """mask[j]: whether person lo + j proposes; returns how many do.  A loop that vectorises
    (unsigned indices, `&` for `and`, `uniform_lanes`): 0.11 -> 0.07 ms at 1e5."""
    k = 0
    for j in range(np.uint64(len(mask))):
        i = lo + j
        yes = (friend_degree[i] < target[i]) & (uniform_lanes(agent_seed(key, i), 0) < form_rate)
        mask[j] = yes
        k += yes
    return k


@nb.njit(parallel=True, cache=True)
def _proposers(key, friend_degree, target, form_rate):
    """The persons who propose a tie this month (fewer friend ties than at the start, and draw
    0 below form_rate), in increasing order, as `np.flatnonzero` of them would list them:
    fixed parts in parallel mark and count them, then list them from where the parts before
    them end."""
    n = len(friend_degree)
    mask = np.empty(n, np.bool_)
    parts = (n + CHUNK - 1) // CHUNK
    ends = np.zeros(parts + 1, np.int64)
    for c in nb.prange(parts):
        lo = c * CHUNK
        ends[c + 1] = _mark_proposers(key, np.uint64(lo), friend_degree, target, form_rate,
                                      mask[lo:min(n, lo + CHUNK)])
    for c in range(parts):
        ends[c + 1] += ends[c]
    out = np.empty(ends[parts], np.int64)
    for c in nb.prange(parts):
        k = ends[c]
        for i in range(c * CHUNK, min(n, (c + 1) * CHUNK)):
            if mask[i]:
                out[k] = i
                k += 1
    return out


@nb.njit(inline="always")
def _link(nbr, family, friends, i, j, si, sj):
    """A friend tie between i and j in slots si (of i) and sj (of j)."""
    nbr[si] = j
    family[si] = False
    nbr[sj] = i
    family[sj] = False
    friends[i] += 1
    friends[j] += 1


@nb.njit(inline="always")
def _first_hop(s, i, indptr, nbr, triadic, region_start, region, partner_key, n, window, locality, partners):
    """The first hop of proposer i's search (draws from seed s): (f, j) with f >= 0 the friend
    whose row the candidate is drawn from (`_friend_slot`), f = -1 a free slot drawn (j = -1),
    or f = -2 and j a stranger met where i's friend ties come from (`stub_target`)."""
    if uniform(s, 0) < triadic:
        di = indptr[i + 1] - indptr[i]
        f = nbr[indptr[i] + int(uniform(s, 1) * di)]
        return (np.int64(f), np.int64(-1)) if f >= 0 else (np.int64(-1), np.int64(-1))
    lo = region_start[region[i]]
    j = stub_target(partner_key, i, lo, region_start[region[i] + 1] - lo, n, window, locality, partners,
                    uniform(s, 5), uniform(s, 1), uniform(s, 6))
    return np.int64(-2), np.int64(j)


@nb.njit(inline="always")
def _friend_slot(s, f, indptr):
    """The slot of friend f's row that a triadic proposal (draws from seed s) takes its
    candidate from."""
    return indptr[f] + int(uniform(s, 2) * (indptr[f + 1] - indptr[f]))


@nb.njit(inline="always")
def _candidate(s, i, indptr, nbr, triadic, region_start, region, partner_key, n, window, locality, partners):
    """Whom proposer i (draws from seed s) proposes to, or -1 (a free slot drawn), and the
    friend it went through (-1: a free slot; -2: none, a stranger met where i's friend ties
    come from)."""
    f, j = _first_hop(s, i, indptr, nbr, triadic, region_start, region, partner_key, n, window, locality,
                      partners)
    if f >= 0:
        j = np.int64(nbr[_friend_slot(s, f, indptr)])
    return j, f


@nb.njit(inline="always")
def _refusals(s, i, j, refusal, cost):
    """Whether j refuses i (1) and whether i avoids j (2), from draws 3 and 4."""
    r = np.int8(uniform(s, 3) < refusal * cost[i])
    return r | (np.int8(uniform(s, 4) < refusal * cost[j]) << 1) if j >= 0 else r


@nb.njit(inline="always")
def _outcome(i, j, r, indptr, nbr, n_family, target, friends):
    """What proposal i -> j (refusals r) comes to: -1 nothing, -2 refused by j, else the free
    slot of i it forms in (the free slot of j: `_free_slot`)."""
    if j < 0 or j == i or friends[i] >= target[i]:
        return -1
    if friends[j] >= target[j] or _tied(indptr, n_family, friends, nbr, i, j):
        return -1
    if r & 1:
        return -2
    if r & 2:
        return -1
    si = _free_slot(indptr, n_family, friends, i)
    return si if si >= 0 and _free_slot(indptr, n_family, friends, j) >= 0 else -1


@nb.njit(parallel=True, cache=True)
def _proposals(key, indptr, nbr, n_family, proposers, region_start, region, cost, triadic, refusal,
               partner_key, window, locality, partners, friends, target, cand, via, refuse, code):
    """Every proposal against the graph as it stands before any forms, in parallel: the
    candidate, the friend it went through, the refusals and the outcome (`_candidate`,
    `_refusals`, `_outcome`).  In three passes, each asking for what the proposals a few ahead
    will read (`engine.prefetch`): a proposal's loads depend on one another (its proposer's
    row, then the friend's row, then the candidate's counts) behind branches that mispredict,
    so the processor cannot run ahead by itself.  1: the first hop (`_first_hop`), the
    proposer's row start asked for 2 * AHEAD proposals ahead and its row AHEAD ahead; 2: the
    candidate from the friend's row, whose start is asked for 2 * AHEAD proposals ahead and
    the slot AHEAD ahead; 3: the refusals and the outcome, the candidate's cost and counts
    asked for AHEAD ahead.  At 1e5, in a run: 0.69-0.87 -> 0.56-0.68 ms with pass 3 alone."""
    n = len(indptr) - 1
    m = len(proposers)
    seeds = np.empty(m, np.uint64)  # each proposer's seed, hashed once for the three passes
    for p in nb.prange(m):
        if p + 2 * AHEAD < m:
            prefetch(indptr, proposers[p + 2 * AHEAD])
        if p + AHEAD < m:
            prefetch(nbr, indptr[proposers[p + AHEAD]])
        i = proposers[p]
        s = agent_seed(key, i)
        seeds[p] = s
        via[p], cand[p] = _first_hop(s, i, indptr, nbr, triadic, region_start, region,
                                     partner_key, n, window, locality, partners)
    for p in nb.prange(m):
        if p + 2 * AHEAD < m and via[p + 2 * AHEAD] >= 0:
            prefetch(indptr, via[p + 2 * AHEAD])
        if p + AHEAD < m and via[p + AHEAD] >= 0:
            prefetch(nbr, _friend_slot(seeds[p + AHEAD], via[p + AHEAD], indptr))
        f = via[p]
        if f >= 0:
            cand[p] = nbr[_friend_slot(seeds[p], f, indptr)]
    for p in nb.prange(m):
        if p + AHEAD < m and cand[p + AHEAD] >= 0:
            ahead = cand[p + AHEAD]
            prefetch(cost, ahead)
            prefetch(friends, ahead)
            prefetch(target, ahead)
            prefetch(n_family, ahead)
            prefetch(indptr, ahead)
        i, j = proposers[p], cand[p]
        r = _refusals(seeds[p], i, j, refusal, cost)
        refuse[p] = r
        code[p] = _outcome(i, j, r, indptr, nbr, n_family, target, friends)


@nb.njit(cache=True)
def _form(key, indptr, nbr, family, n_family, target, proposers, region_start, region, cost, triadic,
          refusal, partner_key, window, locality, partners, friends):
    """Proposals in increasing order of the proposer; friends[i]: i's live friend ties,
    kept up to date as ties form (cuts are applied before).  Every proposal is first drawn and
    settled in parallel against the graph before any forms (`_proposals`); in turn, one whose
    proposer, friend or candidate has gained a tie since is settled again (drawn again where
    the proposer's or the friend's row changed), so the result is that of taking each in turn.
    That loop asks for the flags and counts of the proposal AHEAD ahead (`engine.prefetch`;
    with pass 1's requests in `_proposals`, 0.72-0.96 -> 0.51-0.70 ms at 1e5 in a run)."""
    n = len(indptr) - 1
    m = len(proposers)
    cand = np.empty(m, np.int64)
    via = np.empty(m, np.int64)
    refuse = np.empty(m, np.int8)
    code = np.empty(m, np.int64)
    _proposals(key, indptr, nbr, n_family, proposers, region_start, region, cost, triadic, refusal,
               partner_key, window, locality, partners, friends, target, cand, via, refuse, code)
    touched = np.zeros(n, np.bool_)  # persons who gained a tie: their rows and counts changed
    formed = 0
    refused = 0
    for p in range(m):
        if p + AHEAD < m:  # the flags and counts a proposal a few ahead reads
            ahead = cand[p + AHEAD]
            if ahead >= 0:
                prefetch(touched, ahead)
                if code[p + AHEAD] >= 0:
                    prefetch(friends, ahead)
                    prefetch(indptr, ahead)
                    prefetch(n_family, ahead)
            if via[p + AHEAD] >= 0:
                prefetch(touched, via[p + AHEAD])
        i = proposers[p]
        j, f, si = cand[p], via[p], code[p]
        drawn_from_changed = touched[i] or (f >= 0 and touched[f])  # the rows j was drawn from
        if drawn_from_changed or (j >= 0 and touched[j]):
            r = refuse[p]
            if drawn_from_changed and f != -2:  # a stranger (-2) is drawn from no row
                s = agent_seed(key, i)
                j, _ = _candidate(s, i, indptr, nbr, triadic, region_start, region, partner_key, n, window,
                                  locality, partners)
                r = _refusals(s, i, j, refusal, cost)
            si = _outcome(i, j, r, indptr, nbr, n_family, target, friends)
        if si < 0:
            refused += si == -2
            continue
        _link(nbr, family, friends, i, j, si, _free_slot(indptr, n_family, friends, j))
        touched[i] = True
        touched[j] = True
        formed += 1
    return formed, refused


def step(sim, ctx) -> None:
    T = sim.sc.ties
    if not T.enabled:
        return
    g, st, net = sim.society.graph, sim.state, sim.sc.network
    rng = sim.rng["ties"]
    cost, costly = tie_cost(sim)
    friends = ctx.friend_degree.copy()  # live friend ties, kept up to date below
    if T.cut_rate > 0 and costly:
        slots, owners = _cuts(step_key(rng), g.indptr, g.nbr, g.family, cost, np.float32(T.cut_rate),
                              st.salience, ctx.friend_degree, ctx.degree)
        ctx.add("ties_cut", _apply_cuts(g.indptr, g.nbr, g.family, g.n_family, slots, owners, friends))
    if T.form_rate > 0:
        proposers = _proposers(step_key(rng), ctx.friend_degree, g.target_friends, np.float32(T.form_rate))
        formed, refused = _form(step_key(rng), g.indptr, g.nbr, g.family, g.n_family, g.target_friends,
                                proposers, sim.society.regions.start, sim.society.persons.region, cost,
                                np.float32(T.triadic), np.float32(T.refusal), g.partner_key,
                                net.window, net.locality, net.partners, friends)
        ctx.add("ties_formed", formed)
        ctx.add("tie_refusals", refused)
