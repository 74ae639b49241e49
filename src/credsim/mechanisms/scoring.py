"""Phase 4, scoring: rule points of observed records, decay, the network term, bounds, grades.

For persons:
    personal += sum of the rule points of the month's records (true and false)
    personal += decay * (base - personal)                   (forgetting)
    personal = clip(personal, min, max)
    score = clip(personal + network_weight * (mean score of ties - base)
                 - listed_tie_penalty * (blacklisted ties), min, max)
The network term is a level added to the person's own record, not an increment: an increment
proportional to the ties' deviation feeds back through clustered ties and runs away whenever
network_weight exceeds decay.  Companies score the same way without a network term.
Grade: the first band, best to worst, whose `min` the score reaches.
"""

from __future__ import annotations

import numpy as np

from ..engine.state import grade_of
from ..scenario.events import EVENTS


def step(sim, ctx) -> None:
    s, st, rb = sim.sc.scoring, sim.state, sim.rulebook
    n = len(st.score)
    ctx.punished = np.zeros(n, bool)
    ctx.rewarded = np.zeros(n, bool)
    if not s.enabled:
        return
    c_points = np.zeros(len(st.c_score), np.float32)
    for ev, idx, true in ctx.records:
        pts = rb.pts(ev)
        if pts == 0.0 or len(idx) == 0:
            continue
        if EVENTS[ev][0] == "company":
            np.add.at(c_points, idx, pts)
            continue
        np.add.at(st.personal, idx, np.float32(pts))
        if not true:
            np.add.at(st.false_points, idx, np.float32(pts))
        (ctx.punished if pts < 0 else ctx.rewarded)[idx] = True
    keep = np.float32(1.0 - s.decay)
    base = np.float32(s.base)
    st.personal[:] = base + (st.personal - base) * keep
    st.false_points *= keep
    np.clip(st.personal, s.min, s.max, out=st.personal)
    net = s.network_weight * (ctx.tie_mean - base) - s.listed_tie_penalty * ctx.listed_ties
    np.clip(st.personal + net.astype(np.float32), s.min, s.max, out=st.score)
    st.grade[:] = grade_of(st.score, s.grades)
    st.c_score += c_points
    st.c_score[:] = base + (st.c_score - base) * keep
    np.clip(st.c_score, s.min, s.max, out=st.c_score)
    st.c_grade[:] = grade_of(st.c_score, s.grades)
