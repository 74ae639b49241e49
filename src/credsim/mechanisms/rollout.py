"""Phase 1, roll-out: each channel's coverage by region, and the compliance feedback loop.

Coverage of channel c in region r at step t:
    start = pilot_start if r is a pilot region else national_start
    ramp  = clip((t - start + 1) / schedule.ramp, 0, 1)   (a step when ramp = 0)
    cov   = min(1, coverage * ramp * (1 + boost)) * (rural_camera_factor for cameras in rural r)
The feedback loop ("as individuals become more compliant, the system grows"):
    boost += gain * max(0, compliance_t - compliance_0), clipped to [0, max_boost]
where compliance is the share of persons who did no disapproved action in the step.
"""

from __future__ import annotations

import numpy as np

from ..scenario.events import CHANNELS


def step(sim, ctx) -> None:
    sc, regions, t = sim.sc, sim.society.regions, ctx.t
    boost = sim.state.boost if sc.feedback.enabled else 0.0
    for name in CHANNELS:
        ch = getattr(sc.channels, name)
        if not ch.enabled or ch.coverage == 0.0:
            ctx.coverage[name] = np.zeros(regions.count, np.float32)
            continue
        s = ch.schedule
        start = np.where(regions.pilot, s.pilot_start, s.national_start)
        if s.ramp > 0:
            ramp = np.clip((t - start + 1) / s.ramp, 0.0, 1.0)
        else:
            ramp = (t >= start).astype(np.float64)
        cov = np.minimum(1.0, ch.coverage * ramp * (1.0 + boost))
        if name == "cameras":
            cov = cov * np.where(regions.urban, 1.0, sc.channels.rural_camera_factor)
        ctx.coverage[name] = cov.astype(np.float32)


def feedback(sim, ctx) -> None:
    """Grow the system with compliance; called once the step's actions are known."""
    sc, st = sim.sc, sim.state
    compliance = ctx.counts.get("compliance_n", 0) / max(sim.society.persons.count, 1)
    ctx.counts["compliance"] = compliance
    if st.compliance_ref < 0:
        st.compliance_ref = compliance
    if sc.feedback.enabled:
        st.boost = float(np.clip(st.boost + sc.feedback.gain * max(0.0, compliance - st.compliance_ref),
                                 0.0, sc.feedback.max_boost))
