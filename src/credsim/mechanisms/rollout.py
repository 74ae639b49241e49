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

import numba as nb
import numpy as np

from ..scenario.events import CHANNELS


def _schedule(sc, regions) -> tuple:
    """Per (channel, region): the start step; per channel: the ramp, the level and whether it is
    on; the cameras' factor by region and the cameras' row (as in `step`, once per scenario)."""
    chans = [getattr(sc.channels, name) for name in CHANNELS]
    on = np.array([ch.enabled and ch.coverage != 0.0 for ch in chans])
    pilot = np.array([ch.schedule.pilot_start for ch in chans], dtype=np.int64)[:, None]
    national = np.array([ch.schedule.national_start for ch in chans], dtype=np.int64)[:, None]
    ramp = np.array([ch.schedule.ramp for ch in chans], dtype=np.int64)
    start = np.where(regions.pilot, pilot, national)
    level = np.array([ch.coverage for ch in chans], dtype=np.float64)
    camera = np.where(regions.urban, 1.0, sc.channels.rural_camera_factor).astype(np.float64)
    return on, ramp, start, level, camera, CHANNELS.index("cameras")


@nb.njit(cache=True)
def _coverage(t, start, ramp, level, camera, on, cam, boost, cov):
    """cov[c, r]: channel c's coverage in region r at step t, in float64 as the formula above
    reads, then stored in float32 (a few channels by a few dozen regions: one small loop, not
    a dozen NumPy calls)."""
    for c in range(start.shape[0]):
        for r in range(start.shape[1]):
            if ramp[c] > 0:
                share = min(max((t - start[c, r] + 1) / max(ramp[c], 1), 0.0), 1.0)
            else:
                share = 1.0 if t >= start[c, r] else 0.0
            v = min(1.0, level[c] * share * (1.0 + boost))
            if c == cam:
                v = v * camera[r]
            cov[c, r] = np.float32(v) if on[c] else np.float32(0.0)


def step(sim, ctx) -> None:
    sc, regions = sim.sc, sim.society.regions
    boost = sim.state.boost if sc.feedback.enabled else 0.0
    on, ramp, start, level, camera, cam = sim.memo("rollout", lambda: _schedule(sc, regions))
    cov = np.empty(start.shape, np.float32)
    _coverage(ctx.t, start, ramp, level, camera, on, cam, float(boost), cov)
    ctx.coverage_all = cov
    for k, name in enumerate(CHANNELS):
        ctx.coverage[name] = cov[k]


def feedback(sim, ctx) -> None:
    """Grow the system with compliance; called once the step's actions are known."""
    sc, st = sim.sc, sim.state
    compliance = ctx.counts.get("compliance_n", 0) / max(sim.society.persons.count, 1)
    ctx.counts["compliance"] = compliance
    if st.compliance_ref < 0:
        st.compliance_ref = compliance
    if sc.feedback.enabled:
        # clipped to [0, max_boost] (Python floats: np.clip's wrappers cost more than the step's rest)
        boost = st.boost + sc.feedback.gain * max(0.0, compliance - st.compliance_ref)
        st.boost = float(min(max(boost, 0.0), sc.feedback.max_boost))
