"""Phase 3, observation: actions reach the register only through a channel's coverage.

A person's action is recorded with probability coverage(channel, region) (times hit_rate for
cameras).  Degrees are confirmed once a year (steps 0, 12, ...) for holders the education
channel reaches.  Face recognition also misattributes infractions: in region r a month holds
Poisson(size_r * coverage_cameras_r * scans_per_month * false_match_rate) false matches, each
on a uniformly drawn resident (guilty or not: the record is false either way), each caught by
human review with probability human_review.  Every record carries whether it is true.
"""

from __future__ import annotations

import numba as nb
import numpy as np
from numba.cpython.unsafe.numbers import trailing_zeros

from ..randomness import agent_seed, step_key, uniform
from ..engine.bits import CHUNK, chunk_bit_counts, chunks_of
from ..engine.state import RECORD_BITS
from ..scenario.events import COMPANY_EVENTS, channel_of, channel_rows

PERSON_RECORDS = tuple(RECORD_BITS)
FULFIL = RECORD_BITS["fulfil_judgment"]
BACHELOR, POSTGRAD = RECORD_BITS["degree_bachelor"], RECORD_BITS["degree_postgraduate"]


PART = 1024  # persons a part of the observation kernel


@nb.njit(parallel=True, cache=True)
def _observe_persons(key, acted, fulfilled, education, degree_year, region, cov, seen):
    """cov[b, r]: chance that record bit b of a person of region r reaches the register.

    Parts of PART persons in parallel.  Most persons did nothing to record (about 80 % in
    `seed`): a part first lists, without branches, those who did something (an action, a paid
    judgment, a degree in a month that confirms them), then draws only for them, visiting only
    their set bits (`trailing_zeros`) and recording a draw without a branch on it.  A branch per
    person and per bit, taken for a fifth of persons and by the draws, mispredicts (at 1e5,
    0.25-0.44 ms a step in a run)."""
    n = len(acted)
    act_mask = np.uint16((1 << FULFIL) - 1)
    for c in nb.prange((n + PART - 1) // PART):
        lo = np.uint64(c * PART)
        m = np.uint64(min(c * PART + PART, n) - c * PART)
        who = np.empty(PART, np.uint64)
        k = 0
        for j in range(m):
            i = lo + j
            seen[i] = 0
            who[k] = i
            k += ((acted[i] & act_mask) != 0) | fulfilled[i] | (degree_year & (education[i] >= 2))
        for t in range(k):
            i = who[t]
            s = agent_seed(key, i)
            r = region[i]
            bits = np.uint64(0)
            a = np.uint64(acted[i] & act_mask)
            while a != 0:
                b = trailing_zeros(a)
                bits |= np.uint64(uniform(s, b) < cov[b, r]) << b
                a &= a - np.uint64(1)
            if fulfilled[i]:
                bits |= np.uint64(uniform(s, FULFIL) < cov[FULFIL, r]) << np.uint64(FULFIL)
            if degree_year and education[i] >= 2:
                at = BACHELOR if education[i] == 2 else POSTGRAD
                bits |= np.uint64(uniform(s, BACHELOR) < cov[BACHELOR, r]) << np.uint64(at)
            seen[i] = np.uint16(bits)


@nb.njit(parallel=True, cache=True)
def _by_bit(bits, count):
    """The persons with each bit set, in increasing order: idx[first[b]:first[b + 1]]
    (written by fixed chunks of persons in parallel; count[b, c]: the chunk's persons with bit
    b, `chunk_bit_counts`).  Without branches on the bits, which a few persons in five have:
    a chunk first lists its persons with any bit, then each bit's, writing every listed person
    and moving on only past those with the bit, into a buffer with a slot to spare (at 1e5
    0.18 -> 0.10 ms, and 0.46 -> 0.21 ms in a month that confirms degrees)."""
    n = len(bits)
    n_bits, chunks = count.shape
    start = np.empty((n_bits, chunks), np.int64)  # where chunk c's persons with bit b go
    first = np.zeros(n_bits + 1, np.int64)
    total = 0
    for b in range(n_bits):
        first[b] = total
        for c in range(chunks):
            start[b, c] = total
            total += count[b, c]
    first[n_bits] = total
    idx = np.empty(total, np.int64)
    for c in nb.prange(chunks):
        lo, hi = c * CHUNK, min(n, (c + 1) * CHUNK)
        who = np.empty(hi - lo, np.int64)  # the chunk's persons with any bit, and their bits
        val = np.empty(hi - lo, np.int64)
        m = 0
        for i in range(lo, hi):
            v = np.int64(bits[i])
            who[m] = i
            val[m] = v
            m += v != 0
        most = 0
        for b in range(n_bits):
            most = max(most, count[b, c])
        buf = np.empty(most + 1, np.int64)
        for b in range(n_bits):
            k = count[b, c]
            if k == 0:
                continue
            p = 0
            for t in range(m):
                buf[p] = who[t]
                p += (val[t] >> b) & 1
            idx[start[b, c]:start[b, c] + k] = buf[:k]
    return idx, first


def step(sim, ctx) -> None:
    sc = sim.sc
    p, c, regions = sim.society.persons, sim.society.companies, sim.society.regions
    rng = sim.rng["observation"]
    rows, factor, company_rows = sim.memo("observation", lambda: _channels(sc))
    cov = np.empty((len(rows), ctx.coverage_all.shape[1]), np.float32)
    _record_coverage(ctx.coverage_all, rows, factor, cov)
    ctx.seen = np.empty(p.count, np.uint16)
    _observe_persons(step_key(rng), ctx.acted, ctx.fulfilled, p.education, ctx.t % 12 == 0,
                     p.region, cov, ctx.seen)
    count = np.empty((len(RECORD_BITS), chunks_of(p.count)), np.int64)
    chunk_bit_counts(ctx.seen, len(RECORD_BITS), count)
    idx, first = _by_bit(ctx.seen, count)
    for ev, bit in RECORD_BITS.items():
        ctx.records.append((ev, idx[first[bit]:first[bit + 1]], True))
    n_true = len(idx)
    ctx.false_idx = _false_matches(sim, ctx, regions, rng)
    ctx.records.append(("misconduct", ctx.false_idx, False))
    # the companies' records: every event's doers at once, event by event and in increasing
    # order, with one draw each from the stream (as one call per event would draw them)
    u = rng.random(np.count_nonzero(ctx.c_did), dtype=np.float32)
    kept, ends = _company_records(ctx.c_did, ctx.coverage_all, company_rows, c.region, u)
    ctx.c_observed = (kept, ends)
    for k, ev in enumerate(COMPANY_EVENTS):
        ctx.records.append((ev, kept[ends[k]:ends[k + 1]], True))
    n_true += len(kept)
    ctx.add("records_true", n_true)
    ctx.add("records_false", len(ctx.false_idx))


@nb.njit(cache=True)
def _record_coverage(coverage_all, rows, factor, cov):
    """cov[b, r] = coverage_all[rows[b], r] * factor[b], in float32 (`_channels`)."""
    for b in range(len(rows)):
        for r in range(coverage_all.shape[1]):
            cov[b, r] = coverage_all[rows[b], r] * factor[b]


def _channels(sc) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each record bit, the row of its channel in `ctx.coverage_all` and the factor on its
    coverage (hit_rate for cameras, else 1), in float32; each company event's row."""
    factor = np.array([sc.recognition.hit_rate if channel_of(ev) == "cameras" else 1.0 for ev in RECORD_BITS],
                      dtype=np.float32)
    return np.array(channel_rows(RECORD_BITS)), factor, np.array(channel_rows(COMPANY_EVENTS))


@nb.njit(cache=True)
def _company_records(did, cov, rows, region, u):
    """The companies observed doing each event: event k's in increasing order in
    kept[ends[k]:ends[k + 1]].  The doers are taken event by event, company by company; the
    t-th of them is observed when u[t] < cov[rows[k], its region] (float32)."""
    kept = np.empty(len(u), np.int64)
    ends = np.zeros(did.shape[0] + 1, np.int64)
    t = m = 0
    for k in range(did.shape[0]):
        for i in range(did.shape[1]):
            if did[k, i]:
                kept[m] = i
                m += u[t] < cov[rows[k], region[i]]
                t += 1
        ends[k + 1] = m
    return kept[:m], ends


def _false_matches(sim, ctx, regions, rng) -> np.ndarray:
    rec = sim.sc.recognition
    if rec.false_match_rate == 0.0 or rec.scans_per_month == 0.0:
        return np.empty(0, np.int64)
    size = regions.size
    lam = np.empty(len(size))
    _false_match_rates(size, ctx.coverage["cameras"], rec.scans_per_month, rec.false_match_rate, lam)
    k = rng.poisson(lam)
    # the residents matched, then the human review: two runs of `total` draws, taken as one
    u = rng.random(2 * int(k.sum()))
    idx, reviewed_out = _false_records(k, regions.start, size, u, rec.human_review)
    ctx.add("false_matches_reviewed_out", reviewed_out)
    return idx


@nb.njit(cache=True)
def _false_match_rates(size, cameras, scans, rate, lam):
    """lam[r] = size[r] * cameras[r] * scans * rate, in float64 and in that order."""
    for r in range(len(size)):
        lam[r] = np.float64(size[r]) * np.float64(cameras[r]) * scans * rate


@nb.njit(cache=True)
def _false_records(k, start, size, u, human_review):
    """k[r] false matches in region r, on residents start[r] + floor(u * size[r]) from the first
    half of u, each kept when its draw in the second half is >= human_review: the kept ones in
    increasing order, and how many review caught."""
    total = len(u) // 2
    out = np.empty(total, np.int64)
    m = p = 0
    for r in range(len(k)):
        for _ in range(k[r]):
            out[m] = start[r] + np.int64(u[p] * size[r])
            m += u[total + p] >= human_review
            p += 1
    return np.sort(out[:m]), total - m
