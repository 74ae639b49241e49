"""Phase 7, learning: perceived risk, the internalized standard, internalization, salience.

Perceived risk of action a moves toward the detection rate the person saw in its own and its
ties' actions (of those who did a, the share that was recorded), and propaganda pushes it up:
    risk_a += risk_rate * (seen_a - risk_a)     where anyone seen did a
    risk_a += propaganda_rate * propaganda * (1 - risk_a)
The standard (society-wide, per action) tracks what the rulebook declares bad or good:
    standard_a += standard_rate * (declared_a - standard_a)
Internalization grows with punishments, rewards and propaganda, and fades without them
(learning.internalize = false holds it at 0):
    I += (internalization_punish * punished + internalization_reward * rewarded
          + propaganda_rate * propaganda) * (1 - I) - internalization_fade * I
Salience grows with the game-like display of the score and with what the system did to the
person this month (a scored record, a listing, a refusal, a lost job or a reward):
    S += salience_growth * (gamification + 0.5 * touched) * (1 - S) - salience_fade * S
"""

from __future__ import annotations

import numpy as np

from ..engine.state import ACTION_BITS
from ..scenario.events import PERSON_BAD, PERSON_GOOD


def step(sim, ctx) -> None:
    sc, st = sim.sc, sim.state
    L = sc.learning
    if not L.enabled:
        return
    n = len(st.score)
    for k, ev in enumerate(PERSON_BAD):
        bit = ACTION_BITS[ev]
        own_did = ctx.did[ev]
        own_obs = np.zeros(n, bool)
        own_obs[ctx.observed[ev]] = True
        did = ctx.tie_did[bit] + own_did
        seen = ctx.tie_obs[bit] + own_obs
        some = did > 0
        r = st.risk[k]
        r[some] += L.risk_rate * (seen[some] / did[some] - r[some])
        if L.propaganda:
            r += L.propaganda_rate * L.propaganda * (1.0 - r)
    rb = sim.rulebook
    for ev in PERSON_BAD + PERSON_GOOD:
        bit = ACTION_BITS[ev]
        declared = rb.declared_bad(ev) if ev in PERSON_BAD else rb.declared_good(ev)
        st.standard[bit] += L.standard_rate * (float(declared) - st.standard[bit])
    I = st.internalization
    if not L.internalize:
        I[:] = 0.0
        grow = 0.0
    else:
        grow = (L.internalization_punish * ctx.punished + L.internalization_reward * ctx.rewarded
                + L.propaganda_rate * L.propaganda)
    I += grow * (1.0 - I) - L.internalization_fade * I
    np.clip(I, 0.0, 1.0, out=I)
    recorded = ctx.punished | ctx.rewarded
    S = st.salience
    S += L.salience_growth * (L.gamification + 0.5 * recorded) * (1.0 - S) - L.salience_fade * S
    np.clip(S, 0.0, 1.0, out=S)
