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

import numba as nb
import numpy as np

from ..engine.state import ACTION_BITS
from ..scenario.events import PERSON_BAD, PERSON_GOOD
from ..society.network import lane


CHUNK = 512  # persons a part: each action's risk loop runs over a part, in vector lanes


@nb.njit(parallel=True, cache=True, error_model="numpy")
def _learn(par, internalize, acted, seen, tie_did, tie_obs, punished, rewarded,
           risk, internalization, salience):
    """Parts of CHUNK persons in parallel; in a part, one loop per action over its persons.
    Indices are unsigned: a signed index costs a negative-index fix-up on every access, which
    stops LLVM from vectorising the read-modify-write of the risk rows."""
    (risk_rate, push, grow_punish, grow_reward, grow_propaganda, fade, sal_growth,
     gamification, sal_fade) = (par[0], par[1], par[2], par[3], par[4], par[5], par[6], par[7], par[8])
    n_bad = risk.shape[0]
    n = len(acted)
    for c in nb.prange((n + CHUNK - 1) // CHUNK):
        lo = np.uint64(c * CHUNK)
        hi = np.uint64(min((c + 1) * CHUNK, n))
        for k in range(n_bad):
            risk_k = risk[k]
            for i in range(lo, hi):
                did = lane(tie_did[i], k) + np.int32((acted[i] >> k) & 1)
                obs = lane(tie_obs[i], k) + np.int32((seen[i] >> k) & 1)
                r = np.float64(risk_k[i])
                moved = r + risk_rate * (np.float64(obs) / np.float64(max(did, np.int32(1))) - r)
                r = moved if did > 0 else r  # moves only where anyone seen did k
                r += push * (1.0 - r)
                risk_k[i] = min(max(r, 0.0), 1.0)
        for i in range(lo, hi):
            if internalize:
                x = internalization[i]
                grow = grow_propaganda
                if punished[i]:
                    grow += grow_punish
                if rewarded[i]:
                    grow += grow_reward
                x += grow * (1.0 - x) - fade * x
                internalization[i] = min(max(x, 0.0), 1.0)
            else:
                internalization[i] = 0.0
            sal = salience[i]
            touched = 0.5 if (punished[i] or rewarded[i]) else 0.0
            sal += sal_growth * (gamification + touched) * (1.0 - sal) - sal_fade * sal
            salience[i] = min(max(sal, 0.0), 1.0)


def step(sim, ctx) -> None:
    sc, st = sim.sc, sim.state
    L = sc.learning
    if not L.enabled:
        return
    declared, par = sim.memo("learning", lambda: _params(sim))
    # each entry as alone: standard += rate * (declared - standard)
    st.standard += L.standard_rate * (declared - st.standard)
    _learn(par, L.internalize, ctx.acted, ctx.seen, ctx.tie_did, ctx.tie_obs, ctx.punished,
           ctx.rewarded, st.risk, st.internalization, st.salience)


def _params(sim) -> tuple:
    """Whether the rulebook declares each action bad (or good, for the rewarded ones), as floats
    in ACTION_BITS order, and the kernel's parameters."""
    L, rb = sim.sc.learning, sim.rulebook
    declared = np.zeros(len(ACTION_BITS))
    for ev in PERSON_BAD + PERSON_GOOD:
        declared[ACTION_BITS[ev]] = float(rb.declared_bad(ev) if ev in PERSON_BAD else rb.declared_good(ev))
    par = np.array([L.risk_rate, L.propaganda_rate * L.propaganda, L.internalization_punish,
                    L.internalization_reward, L.propaganda_rate * L.propaganda,
                    L.internalization_fade, L.salience_growth, L.gamification, L.salience_fade],
                   dtype=np.float32)
    return declared, par
