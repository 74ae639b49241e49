"""Phase 5, lists: blacklist entry, minimum term, exit, appeals, joint punishment, red list.

Entry: an observed record whose rule lists directly, or (with scoring on) score < black_threshold.
Exit:  at least min_term months on the list, score >= exit_threshold (with scoring on), no
       unpaid court judgment and no listing record this month; or a successful appeal: a
       listed person appeals with probability appeal_rate a month, and its false records are
       overturned with probability appeal_success (their points are returned); a listing that
       rested on them (cause BY_FALSE) ends at once unless a court judgment is unpaid.
Joint punishment: a company entering the list costs its legal representative
       representative_points and, with list_representative, lists the representative too.
Red list: not blacklisted and score >= red_threshold.
Cause of a spell, fixed at entry: BY_RULE (a true record whose rule lists), BY_FALSE (a false
record that lists, or a score that would not be below the threshold without false records:
the person is an innocent on the list), BY_ASSOCIATION (the person's own records are above the
threshold; the network term, its ties' standing, took it below), BY_SCORE, BY_JOINT.
Naming (publication) changes nothing here: it decides who can *see* the list (consequences, ties).
"""

from __future__ import annotations

import numba as nb
import numpy as np

from ..engine.bits import CHUNK, chunks_of  # persons per partial count (integer counts: any parts)
from ..engine.state import BY_ASSOCIATION, BY_FALSE, BY_JOINT, BY_RULE, BY_SCORE, NOT_LISTED
from ..scenario.events import EVENTS


TRUE_HIT, FALSE_HIT = 1, 2


def _listing_hits(sim, ctx, subject: str, n: int) -> np.ndarray:
    """hits[i]: TRUE_HIT if i has a true record this month whose rule lists, | FALSE_HIT for a
    false one."""
    listing = sim.memo("lists.listing", lambda: {ev for ev in EVENTS if sim.rulebook.listing(ev)})
    hits = np.zeros(n, np.uint8)
    for ev, idx, true in ctx.records:
        if ev in listing and EVENTS[ev][0] == subject and len(idx):
            _mark(hits, idx, TRUE_HIT if true else FALSE_HIT)
    return hits


@nb.njit(cache=True)
def _mark(hits, idx, flag):
    """hits[idx] |= flag (a loop: NumPy's in-place operator on an index list is a slow path)."""
    for i in idx:
        hits[i] |= flag


def step(sim, ctx) -> None:
    L, st = sim.sc.lists, sim.state
    if L.blacklist:
        _persons(sim, ctx)
        _companies(sim, ctx)
    else:
        _release_all(sim, ctx)
    red_on = L.redlist and sim.sc.scoring.enabled
    counts = np.zeros((chunks_of(len(st.score)), 2), np.int64)
    _red_and_counts(st.black, st.list_cause, st.score, red_on, np.float32(L.red_threshold), st.red, counts)
    innocents, association = counts.sum(axis=0)
    ctx.add("innocents_listed", int(innocents))
    ctx.add("listed_by_association", int(association))


@nb.njit(parallel=True, cache=True)
def _red_and_counts(black, cause, score, red_on, red_threshold, red, counts):
    """Red list: not blacklisted and score >= red_threshold; counts[c]: chunk c's listed
    innocents (cause BY_FALSE) and persons listed by association."""
    n = len(black)
    for c in nb.prange(counts.shape[0]):
        innocents = 0
        association = 0
        # no branches and unsigned indices: the loop vectorises (0.13 -> 0.03 ms at 1e5)
        for i in range(np.uint64(c * CHUNK), np.uint64(min(n, (c + 1) * CHUNK))):
            b = black[i]
            red[i] = red_on & (not b) & (score[i] >= red_threshold)
            innocents += b & (cause[i] == BY_FALSE)
            association += b & (cause[i] == BY_ASSOCIATION)
        counts[c, 0] = innocents
        counts[c, 1] = association


def _end_spells(st, leaving: np.ndarray, completed: bool = True) -> None:
    """End the spells of `leaving` this month; `completed` spells count in the recovery times."""
    if completed:
        months = st.months_listed[leaving] + 1  # this month counts
        st.spell_hist += np.bincount(np.minimum(months, len(st.spell_hist) - 1), minlength=len(st.spell_hist))
    st.black[leaving] = False
    st.list_cause[leaving] = NOT_LISTED
    st.months_listed[leaving] = 0


def _release_all(sim, ctx) -> None:
    st = sim.state
    ctx.add("blacklist_outflow", np.count_nonzero(st.black))
    _end_spells(st, st.black.copy(), completed=False)  # released by abolition, not recovered
    ctx.add("company_blacklist_outflow", np.count_nonzero(st.c_black))
    st.c_black[:] = False
    st.c_months_listed[:] = 0


@nb.njit(parallel=True, cache=True)
def _exits_and_entries(black, months, cause, score, personal, false_points, default_out, hits, scored,
                       threshold, exit_threshold, min_term, punished, spells, counts):
    """Exit, then entry, person by person (see the module docstring); spells[c], counts[c]:
    chunk c's completed spells by months and its (exits, entries).  A chunk first lists,
    without branches, the persons either can concern (the listed, those with a listing record
    and those scored below the threshold), then decides for them alone: a branch per person
    on whether it is listed mispredicts."""
    n = len(black)
    last = spells.shape[1] - 1
    for c in nb.prange(counts.shape[0]):
        exits = 0
        entries = 0
        lo, hi = np.uint64(c * CHUNK), np.uint64(min(n, (c + 1) * CHUNK))
        who = np.empty(CHUNK, np.uint64)
        k = 0
        for i in range(lo, hi):
            who[k] = i
            k += black[i] | (hits[i] != 0) | (scored & (score[i] < threshold))
        for t in range(k):
            i = who[t]
            hit = hits[i]
            if black[i]:
                months[i] += 1
                recovered = not scored or score[i] >= exit_threshold
                if months[i] >= min_term and recovered and not default_out[i] and hit == 0:
                    spells[c, min(months[i], last)] += 1
                    black[i] = False
                    cause[i] = NOT_LISTED
                    months[i] = 0
                    exits += 1
            if not black[i] and (hit != 0 or (scored and score[i] < threshold)):
                if hit & TRUE_HIT:
                    cause[i] = BY_RULE
                elif hit & FALSE_HIT or score[i] - false_points[i] >= threshold:
                    cause[i] = BY_FALSE
                elif personal[i] - false_points[i] >= threshold:
                    cause[i] = BY_ASSOCIATION
                else:
                    cause[i] = BY_SCORE
                black[i] = True
                punished[i] = True
                entries += 1
        counts[c, 0] = exits
        counts[c, 1] = entries


def _persons(sim, ctx) -> None:
    L, st, scored = sim.sc.lists, sim.state, sim.sc.scoring.enabled
    n = len(st.score)
    hits = _listing_hits(sim, ctx, "person", n)
    if L.appeals:
        _appeals(sim, ctx)
    chunks = chunks_of(n)
    spells = np.zeros((chunks, len(st.spell_hist)), np.int64)
    counts = np.zeros((chunks, 2), np.int64)
    _exits_and_entries(st.black, st.months_listed, st.list_cause, st.score, st.personal, st.false_points,
                       st.default_out, hits, scored, np.float32(L.black_threshold),
                       np.float32(L.exit_threshold), L.min_term, ctx.punished, spells, counts)
    st.spell_hist += spells.sum(axis=0)
    exits, entries = counts.sum(axis=0)
    ctx.add("blacklist_outflow", int(exits))
    ctx.add("blacklist_inflow", int(entries))


def _appeals(sim, ctx) -> None:
    L, st = sim.sc.lists, sim.state
    rng = sim.rng["lists"]
    listed = np.flatnonzero(st.black)
    appellants = listed[rng.random(len(listed)) < L.appeal_rate]
    ctx.add("appeals", len(appellants))
    wronged = (st.false_points[appellants] < 0) | (st.list_cause[appellants] == BY_FALSE)
    upheld = appellants[wronged & (rng.random(len(appellants)) < L.appeal_success)]
    ctx.add("appeals_upheld", len(upheld))
    fp = st.false_points[upheld]
    st.personal[upheld] = np.minimum(st.personal[upheld] - fp, sim.sc.scoring.max)
    st.score[upheld] = np.minimum(st.score[upheld] - fp, sim.sc.scoring.max)
    st.false_points[upheld] = 0.0
    wrongly = upheld[st.list_cause[upheld] == BY_FALSE]
    wrongly = wrongly[~st.default_out[wrongly]]
    ctx.add("blacklist_outflow", len(wrongly))
    ctx.add("exits_by_appeal", len(wrongly))
    mask = np.zeros(len(st.black), bool)
    mask[wrongly] = True
    _end_spells(st, mask)
    ctx.appealed, ctx.upheld, ctx.appeal_exits = appellants, upheld, wrongly


def _companies(sim, ctx) -> None:
    L, st = sim.sc.lists, sim.state
    m = len(st.c_score)
    hits = _listing_hits(sim, ctx, "company", m)
    entering = np.empty(m, np.bool_)
    inflow, outflow = _company_spells(st.c_black, st.c_months_listed, st.c_score, st.c_default_out, hits,
                                      sim.sc.scoring.enabled, np.float32(L.black_threshold),
                                      np.float32(L.exit_threshold), L.min_term, entering)
    ctx.add("company_blacklist_inflow", inflow)
    ctx.add("company_blacklist_outflow", outflow)
    if inflow > 0:
        _joint(sim, ctx, entering)


@nb.njit(cache=True)
def _company_spells(black, months, score, default_out, hits, scored, threshold, exit_threshold,
                    min_term, entering):
    """The companies' blacklist month, company by company (a dozen NumPy calls on a few
    thousand companies before): a listed company counts the month; it leaves after min_term
    months once recovered (score >= exit_threshold where scoring is on), with no judgment owed
    and no true listing record this month; a company not listed enters with a true listing
    record or, where scoring is on, a score below the threshold.  entering[i]: whether i
    entered.  Returns the inflow and the outflow."""
    inflow = outflow = 0
    for i in range(len(black)):
        true_hit = (hits[i] & TRUE_HIT) != 0
        if black[i]:
            months[i] += 1
            recovered = not scored or score[i] >= exit_threshold
            if months[i] >= min_term and recovered and not default_out[i] and not true_hit:
                black[i] = False
                months[i] = 0
                outflow += 1
        enters = not black[i] and (true_hit or (scored and score[i] < threshold))
        entering[i] = enters
        if enters:
            black[i] = True
            inflow += 1
    return inflow, outflow


def _joint(sim, ctx, entering: np.ndarray) -> None:
    J, st, s = sim.sc.sanctions.joint, sim.state, sim.sc.scoring
    if not J.enabled:
        return
    reps = _representatives(entering, sim.society.companies.representative)
    ctx.records.append(("joint_representative", reps, True))
    ctx.add("records_true", len(reps))
    new = _joint_representatives(reps, s.enabled, np.float32(J.representative_points), np.float32(s.min),
                                 np.float32(s.max), J.list_representative, st.personal, st.score,
                                 ctx.punished, st.black, st.list_cause)
    if s.enabled and J.employee_points:
        staff = np.flatnonzero((st.employer >= 0) & entering[np.maximum(st.employer, 0)])
        st.personal[staff] = np.clip(st.personal[staff] + J.employee_points, s.min, s.max)
        st.score[staff] = np.clip(st.score[staff] + J.employee_points, s.min, s.max)
    if J.list_representative:
        ctx.add("blacklist_inflow", new)


@nb.njit(cache=True)
def _representatives(entering, representative):
    """The distinct legal representatives of the companies entering, in increasing order
    (`np.unique(representative[entering])`)."""
    reps = np.sort(representative[entering])
    m = 0
    for t in range(len(reps)):
        if t == 0 or reps[t] != reps[m - 1]:
            reps[m] = reps[t]
            m += 1
    return reps[:m]


@nb.njit(cache=True)
def _joint_representatives(reps, scored, points, lo, hi, list_them, personal, score, punished, black,
                           cause):
    """The representatives (distinct) of the companies entering the list: points on their
    personal and displayed scores, clipped to [lo, hi] in float32 (where scoring is on);
    punished; listed (BY_JOINT) where list_them and not listed already.  Returns how many were
    listed."""
    new = 0
    for r in reps:
        if scored:
            personal[r] = min(max(personal[r] + points, lo), hi)
            score[r] = min(max(score[r] + points, lo), hi)
        punished[r] = True
        if list_them and not black[r]:
            black[r] = True
            cause[r] = BY_JOINT
            new += 1
    return new
