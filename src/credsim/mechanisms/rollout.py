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


def _schedule(sc, regions) -> tuple:
    """Per (channel, region): the start step, the ramp and the level; which channels are on;
    the cameras' factor by region (as in `step`, once per scenario)."""
    chans = [getattr(sc.channels, name) for name in CHANNELS]
    on = np.array([ch.enabled and ch.coverage != 0.0 for ch in chans])
    pilot = np.array([ch.schedule.pilot_start for ch in chans])[:, None]
    national = np.array([ch.schedule.national_start for ch in chans])[:, None]
    ramp = np.array([ch.schedule.ramp for ch in chans])[:, None]
    start = np.where(regions.pilot, pilot, national)
    level = np.array([ch.coverage for ch in chans])[:, None]
    camera = np.where(regions.urban, 1.0, sc.channels.rural_camera_factor)
    return on, ramp, start, level, camera


def step(sim, ctx) -> None:
    sc, regions, t = sim.sc, sim.society.regions, ctx.t
    boost = sim.state.boost if sc.feedback.enabled else 0.0
    on, ramp, start, level, camera = sim.memo("rollout", lambda: _schedule(sc, regions))
    # every channel at once, (channel, region), element by element as for one channel alone
    share = np.where(ramp > 0, np.minimum(np.maximum((t - start + 1) / np.maximum(ramp, 1), 0.0), 1.0),
                     (t >= start).astype(np.float64))
    cov = np.minimum(1.0, level * share * (1.0 + boost))
    cam = CHANNELS.index("cameras")
    cov[cam] = cov[cam] * camera
    cov = np.where(on[:, None], cov, 0.0).astype(np.float32)
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
        st.boost = float(np.clip(st.boost + sc.feedback.gain * max(0.0, compliance - st.compliance_ref),
                                 0.0, sc.feedback.max_boost))
