"""Phase 4, scoring: rule points of observed records, decay, the network term, bounds, grades.

For persons:
    personal += sum of the rule points of the month's records (true and false)
    personal += decay * (base - personal)                   (forgetting)
    personal = clip(personal, min, max)
    score = clip(personal + network_weight * (mean score of ties - base)
                 - listed_tie_penalty * (blacklisted ties), min, max)
The network term is a level added to the person's own record, not an increment: an increment
proportional to the ties' deviation feeds back through clustered ties and runs away whenever
network_weight exceeds decay.  `false_points`, the part of `personal` owed to false records,
decays like the rest.  Companies score the same way without a network term.
Grade: the first band, best to worst, whose `min` the score reaches (the worst if none).

Record kinds: where a rule splits its action into kinds (`[[rules.kinds]]`), each true record
of the action is of kind k with probability share_k, drawn per record from a counter-based
hash of (the step's scoring key, person, action bit), and carries that kind's points.  False
records (camera matches) carry the rule's mean points.  Without kinds nothing is drawn.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from ..engine.state import RECORD_BITS
from ..randomness import agent_seed, step_key, uniform
from ..scenario.events import COMPANY_EVENTS


CHUNK = 512  # persons a part: the grades are counted over a part in vector lanes


@nb.njit(parallel=True, cache=True)
def _score_persons(points, seen, par, grade_mins, tie_mean, listed_ties,
                   personal, false_points, score, grade, punished, rewarded):
    """Parts of CHUNK persons in parallel: first each person's score, then the part's grades
    in one loop per band that vectorises (the grade, the first band whose min the score
    reaches, is the number of bands above it whose min it does not reach: the mins fall).
    The month's points are summed bit by bit over the whole part, in vector lanes: a branch on
    whether a person has a record mispredicts whenever records are neither rare nor the rule
    (a sixth to a third of persons have one in a run of `seed`).  Each sum adds the same points
    in the same order (ascending bit) as a loop over each person's bits would."""
    base, lo, hi, keep, net_w, tie_pen = par[0], par[1], par[2], par[3], par[4], par[5]
    n_bits = len(points)
    n_grades = len(grade_mins)
    n = len(seen)
    neg_bits = 0  # the bits whose records take points away, and those that add points
    pos_bits = 0
    for b in range(n_bits):
        neg_bits |= (points[b] < 0) << b
        pos_bits |= (points[b] > 0) << b
    neg_bits = np.uint16(neg_bits)
    pos_bits = np.uint16(pos_bits)
    for c in nb.prange((n + CHUNK - 1) // CHUNK):
        first = c * CHUNK
        m = np.uint64(min(first + CHUNK, n) - first)
        values = np.empty(CHUNK, np.float64)  # the score before its cast to float32, for the grade
        deltas = np.zeros(CHUNK, np.float32)
        for b in range(n_bits):
            pt = points[b]
            ub = np.uint16(b)
            for j in range(m):
                d = deltas[j]
                deltas[j] = d + pt if (seen[np.uint64(first) + j] >> ub) & np.uint16(1) else d
        for j in range(m):
            i = np.uint64(first) + j
            s = seen[i]
            punished[i] |= (s & neg_bits) != 0
            rewarded[i] |= (s & pos_bits) != 0
        for j in range(m):  # a loop without branches, over unsigned indices: it vectorises
            i = np.uint64(first) + j
            own = base + (personal[i] + deltas[j] - base) * keep
            fp = false_points[i] * keep
            # clipped at the floor: the false part cannot exceed what the person stands below base
            floored = own < lo
            fp = max(fp, lo - base) if floored else fp
            own = lo if floored else own
            p = min(own, hi)
            personal[i] = p
            false_points[i] = fp
            v = p + net_w * (tie_mean[i] - base) - tie_pen * listed_ties[i]
            v = min(max(v, lo), hi)
            score[i] = v
            values[j] = v
        above = np.zeros(CHUNK, np.int8)
        for k in range(n_grades - 1):
            floor = grade_mins[k]
            for j in range(m):
                above[j] += np.int8(values[j] < floor)
        for j in range(m):
            grade[first + j] = above[j]


@nb.njit(cache=True)
def _draw_kinds(key, idx, draw, cum, out):
    last = len(cum) - 1
    for j in range(len(idx)):
        u = uniform(agent_seed(key, idx[j]), draw)
        k = 0
        while k < last and u >= cum[k]:
            k += 1
        out[j] = k


def draw_kinds(key, idx: np.ndarray, bit: int, cum: np.ndarray) -> np.ndarray:
    """The kind (index into `cum`) of each record of action `bit` held by persons `idx`."""
    out = np.empty(len(idx), np.int8)
    _draw_kinds(np.uint64(key), idx.astype(np.int64), bit, cum, out)
    return out


def _kind_points(sim, ctx, points) -> None:
    """Add the points of the records of actions with kinds; zero those actions in `points`."""
    key = step_key(sim.rng["scoring"])
    st = sim.state
    for ev, kinds in sim.rulebook.kinds.items():
        bit = RECORD_BITS[ev]
        idx = np.flatnonzero(ctx.seen & (1 << bit))
        code = draw_kinds(key, idx, bit, kinds.cum)
        pts = kinds.points[code]
        st.personal[idx] += pts  # one record of an action per person and month
        ctx.punished[idx[pts < 0]] = True
        ctx.rewarded[idx[pts > 0]] = True
        ctx.kinds[ev] = code
        points[bit] = 0.0


def step(sim, ctx) -> None:
    s, st, rb = sim.sc.scoring, sim.state, sim.rulebook
    n = len(st.score)
    ctx.punished = np.zeros(n, bool)
    ctx.rewarded = np.zeros(n, bool)
    if not s.enabled:
        return
    # false records (few, possibly repeated for one person) first, then every true record
    fp = rb.pts("misconduct")
    if fp and len(ctx.false_idx):
        _false_points(ctx.false_idx, np.float32(fp), st.personal, st.false_points,
                      ctx.punished if fp < 0 else ctx.rewarded)
    points, par, mins, company_points = sim.memo("scoring", lambda: _params(sim))
    points = points.copy()  # `_kind_points` zeroes the actions it scores itself
    if rb.kinds:
        _kind_points(sim, ctx, points)
    _score_persons(points, ctx.seen, par, mins, ctx.tie_mean, ctx.listed_ties, st.personal,
                   st.false_points, st.score, st.grade, ctx.punished, ctx.rewarded)
    c_points = np.zeros(len(st.c_score), np.float32)
    if ctx.c_observed is not None:  # None: no company records (a month scored on its own)
        _company_points(*ctx.c_observed, company_points, c_points)
    _score_companies(c_points, par, mins, st.c_score, st.c_grade)


@nb.njit(cache=True)
def _false_points(idx, points, personal, false_points, flag):
    """The false records' points, record by record in order (a person may have several), on the
    personal score and its false part; flag[i]: punished (points < 0) or rewarded."""
    for i in idx:
        personal[i] += points
        false_points[i] += points
        flag[i] = True


@nb.njit(cache=True)
def _company_points(kept, ends, points, c_points):
    """c_points[i] += points[k] for each company i observed doing event k (`observation`:
    kept[ends[k]:ends[k + 1]], each company once an event), event by event in float32."""
    for k in range(len(ends) - 1):
        if points[k] != 0.0:
            for t in range(ends[k], ends[k + 1]):
                c_points[kept[t]] += points[k]


def _params(sim) -> tuple:
    """The record points, the kernels' parameters, the grades' mins and each company event's
    points (a function of the scenario and the rulebook)."""
    s, rb = sim.sc.scoring, sim.rulebook
    points = np.array([rb.pts(ev) for ev in RECORD_BITS], dtype=np.float32)
    par = np.array([s.base, s.min, s.max, 1.0 - s.decay, s.network_weight, s.listed_tie_penalty],
                   dtype=np.float32)
    mins = np.array([g.min for g in s.grades], dtype=np.float32)
    company_points = np.array([rb.pts(ev) for ev in COMPANY_EVENTS], dtype=np.float32)  # as observed
    return points, par, mins, company_points


@nb.njit(cache=True)
def _score_companies(c_points, par, grade_mins, c_score, c_grade):
    """Companies: the month's points, decay and bounds in float32 as for persons (no network
    term), and the grade (the number of bands above whose min the score does not reach)."""
    base, lo, hi, keep = par[0], par[1], par[2], par[3]
    for i in range(len(c_score)):
        v = base + (c_score[i] + c_points[i] - base) * keep
        v = min(max(v, lo), hi)
        c_score[i] = v
        above = 0
        for k in range(len(grade_mins) - 1):
            above += v < grade_mins[k]
        c_grade[i] = above
