"""Phase 3, observation: actions reach the register only through a channel's coverage.

Degrees are confirmed once a year (steps 0, 12, ...) for holders the education channel reaches.
A person's action is recorded with probability coverage(channel, region) (times hit_rate for
cameras).  Face recognition also misattributes infractions: in region r a month holds
Poisson(size_r * coverage_cameras_r * scans_per_month * false_match_rate) false matches, each
on a uniformly drawn resident (guilty or not: the record is false either way), each caught by
human review with probability human_review.  Every record carries whether it is true.
"""

from __future__ import annotations

import numpy as np

from ..scenario.events import COMPANY_BAD, PERSON_BAD, PERSON_GOOD


def _observe(did: np.ndarray, region: np.ndarray, cov_by_region: np.ndarray, factor: float,
             rng: np.random.Generator) -> np.ndarray:
    idx = np.flatnonzero(did)
    p = cov_by_region[region[idx]] * factor
    return idx[rng.random(len(idx), dtype=np.float32) < p]


def step(sim, ctx) -> None:
    sc = sim.sc
    p, c, regions = sim.society.persons, sim.society.companies, sim.society.regions
    rng = sim.rng["observation"]
    hit = sc.recognition.hit_rate
    for ev in PERSON_BAD + PERSON_GOOD:
        ch = sim.channel_of(ev)
        idx = _observe(ctx.did[ev], p.region, ctx.coverage[ch], hit if ch == "cameras" else 1.0, rng)
        ctx.observed[ev] = idx
        ctx.records.append((ev, idx, True))
    idx = _observe(ctx.fulfilled, p.region, ctx.coverage["court"], 1.0, rng)
    ctx.observed["fulfil_judgment"] = idx
    ctx.records.append(("fulfil_judgment", idx, True))
    # degrees: the education channel confirms each degree once a year, in the first month
    holders = (p.education >= 2) & (ctx.t % 12 == 0)
    idx = _observe(holders, p.region, ctx.coverage["education"], 1.0, rng)
    for level, ev in ((2, "degree_bachelor"), (3, "degree_postgraduate")):
        sel = idx[p.education[idx] == level]
        ctx.observed[ev] = sel
        ctx.records.append((ev, sel, True))
    ctx.false_idx = _false_matches(sim, ctx, regions, rng)
    ctx.records.append(("misconduct", ctx.false_idx, False))
    for ev in COMPANY_BAD:
        idx = _observe(ctx.did[ev], c.region, ctx.coverage[sim.channel_of(ev)], 1.0, rng)
        ctx.observed[ev] = idx
        ctx.records.append((ev, idx, True))
    idx = _observe(ctx.c_fulfilled, c.region, ctx.coverage["court"], 1.0, rng)
    ctx.observed["company_fulfil_judgment"] = idx
    ctx.records.append(("company_fulfil_judgment", idx, True))
    ctx.add("records_true", sum(len(i) for _, i, true in ctx.records if true))
    ctx.add("records_false", len(ctx.false_idx))


def _false_matches(sim, ctx, regions, rng) -> np.ndarray:
    rec = sim.sc.recognition
    if rec.false_match_rate == 0.0 or rec.scans_per_month == 0.0:
        return np.empty(0, np.int64)
    size = regions.size
    lam = size * ctx.coverage["cameras"].astype(np.float64) * rec.scans_per_month * rec.false_match_rate
    k = rng.poisson(lam)
    total = int(k.sum())
    lo = np.repeat(regions.start[:-1], k)
    idx = lo + (rng.random(total) * np.repeat(size, k)).astype(np.int64)
    survived = rng.random(total) >= rec.human_review
    ctx.add("false_matches_reviewed_out", total - int(survived.sum()))
    return np.sort(idx[survived])
