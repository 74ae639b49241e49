"""The minimal networked scoring model the credsim way: one Numba kernel per step.

Same model as `mesa_minimal.py`.  Persons and ties come from credsim's own society generator
(`credsim.society.make_society`: slotted CSR `indptr` int64 / `nbr` int32, -1 = a free slot,
with ties clustered by region and household; mean degree 10).  Each step is one
`parallel=True` pass over persons:

    m   = mean of s_in[j] over live slots j of person i   (own score where none)
    p   = clip(0.05 + 0.1 * (1 - m / 1000), 0, 1)
    u1, u2 = two float32 uniforms from splitmix64(step key, i)   (counter-based)
    s_out[i] = s_in[i] + 0.01 * (1000 - s_in[i]) - 10 * (u1 < p and u2 < 0.1)

Scores are float32, double buffered (s_in, s_out swap each step), nothing is allocated per
step, and the result is bit-identical for any thread count (checked on every run: each
person's sum is done by one thread, so `fastmath`'s reassociation cannot depend on threads).

Bound.  The least a step must move:
    indptr 8 B x (N + 1) + nbr 4 B x slots (free slots included: the layout reads them)
    + gathered neighbour scores 4 B x live ties (counted as if streamed once; random gathers
      cost more, see `gather.py`) + own score 4 B x N read + new score 4 B x N written
    ratio = measured step time / (bytes / STREAM triad bandwidth measured in the same run)

`--graph random` swaps in a G(n, m)-like random graph (same mean degree, same slotted layout,
slack 0) to show what locality is worth.

    python -m benchmarks.minimal_credsim --n 1000000 [--steps 10] [--reps 5] [--bandwidth GBps]
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import time

import numba as nb
import numpy as np

try:
    from .common import emit, log, peak_rss_bytes, rss_bytes, stats
    from .rngcost import splitmix64, two_uniforms
except ImportError:
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from common import emit, log, peak_rss_bytes, rss_bytes, stats
    from rngcost import splitmix64, two_uniforms

BASE = np.float32(1000.0)
DECAY = np.float32(0.01)
PENALTY = np.float32(10.0)
P0, P1, OBS = np.float32(0.05), np.float32(0.1), np.float32(0.1)


@nb.njit(cache=True)
def _step_key(seed, t):
    return splitmix64((np.uint64(seed) << np.uint64(32)) + np.uint64(t))


def step_key(seed: int, t: int) -> np.uint64:
    """The key of step t: every random number of the step is a hash of (key, person)."""
    return np.uint64(_step_key(seed, t))


@nb.njit(parallel=True, fastmath=True, cache=True)
def step(indptr, nbr, s_in, s_out, key):
    n = len(s_in)
    acted = 0
    seen = 0
    for i in nb.prange(n):
        tot = np.float32(0.0)
        k = 0
        for slot in range(indptr[i], indptr[i + 1]):
            j = nbr[slot]
            if j >= 0:
                tot += s_in[j]
                k += 1
        s = s_in[i]
        m = tot / np.float32(k) if k > 0 else s
        p = P0 + P1 * (np.float32(1.0) - m / BASE)
        p = min(max(p, np.float32(0.0)), np.float32(1.0))
        u1, u2 = two_uniforms(key, i)
        a = u1 < p
        o = a and u2 < OBS
        s_out[i] = s + DECAY * (BASE - s) - (PENALTY if o else np.float32(0.0))
        acted += a
        seen += o
    return acted, seen


def credsim_graph(n: int, mean_degree: float, seed: int):
    from credsim import load_scenario
    from credsim.engine.rng import streams
    from credsim.society import make_society

    sc = load_scenario("seed", overrides={"population.agents": n, "network.mean_degree": mean_degree,
                                          "run.seed": seed})
    society = make_society(sc, streams(seed))
    g = society.graph
    return g.indptr, g.nbr, {"slack": sc.network.slack, "locality": sc.network.locality,
                             "window": sc.network.window}


def random_graph(n: int, mean_degree: float, seed: int):
    """Undirected G(n, m)-like graph (m = n * degree / 2 pairs drawn with replacement, self
    pairs dropped) in the same slotted layout, without free slots."""
    rng = np.random.default_rng(seed)
    m = int(round(n * mean_degree / 2))
    a = rng.integers(0, n, m)
    b = rng.integers(0, n, m)
    keep = a != b
    a, b = a[keep], b[keep]
    src = np.concatenate([a, b])
    dst = np.concatenate([b, a]).astype(np.int32)
    del a, b
    order = np.argsort(src, kind="stable")
    nbr = dst[order]
    del dst
    indptr = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(src, minlength=n), out=indptr[1:])
    return indptr, nbr, {"slack": 0, "locality": 0.0}


def min_bytes(n: int, slots: int, live: int) -> dict:
    parts = {"indptr": 8 * (n + 1), "nbr": 4 * slots, "gathered_scores": 4 * live,
             "score_in": 4 * n, "score_out": 4 * n}
    return {"parts": parts, "total": sum(parts.values())}


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--degree", type=float, default=10.0)
    ap.add_argument("--steps", type=int, default=10, help="steps per repetition")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--graph", choices=("credsim", "random"), default="credsim")
    ap.add_argument("--bandwidth", type=float, default=None,
                    help="GB/s to compute the bound with (default: measure a STREAM triad here)")
    a = ap.parse_args(argv)

    t = time.perf_counter()
    indptr, nbr, layout = (credsim_graph if a.graph == "credsim" else random_graph)(a.n, a.degree, a.seed)
    gen_s = time.perf_counter() - t
    gc.collect()
    peak_after_gen = peak_rss_bytes()
    n, slots = len(indptr) - 1, len(nbr)
    live = int(np.count_nonzero(nbr >= 0))
    log(f"minimal[{a.graph}] n={n:,}: society in {gen_s:.1f} s, {live / n:.2f} live ties/person, "
        f"{slots / n:.2f} slots/person")

    s_in = np.full(n, BASE, np.float32)
    s_out = np.empty_like(s_in)
    # same result for any thread count: 2 steps with 1 thread and with all, bitwise
    threads = nb.config.NUMBA_NUM_THREADS
    outs = []
    for th in (1, threads):
        nb.set_num_threads(th)
        x, y = s_in.copy(), np.empty_like(s_in)
        counts = []
        for tt in range(2):
            counts.append(step(indptr, nbr, x, y, step_key(a.seed, tt)))
            x, y = y, x
        outs.append((x.copy(), counts))
    nb.set_num_threads(threads)
    identical = bool(np.array_equal(outs[0][0], outs[1][0]) and outs[0][1] == outs[1][1])
    del outs, x, y
    gc.collect()

    per_step = []
    tt = 0
    acted = seen = 0
    for r in range(a.reps):
        t = time.perf_counter()
        for _ in range(a.steps):
            ac, se = step(indptr, nbr, s_in, s_out, step_key(a.seed, tt))
            s_in, s_out = s_out, s_in
            tt += 1
        dt = (time.perf_counter() - t) / a.steps
        per_step.append(dt)
        acted += ac
        seen += se
        log(f"  rep {r}: {dt * 1e3:.1f} ms/step, {n / dt / 1e6:.1f} M agent-steps/s")

    peak = peak_rss_bytes()  # before the STREAM arrays below
    if a.bandwidth is None:
        try:
            from .stream import measure
        except ImportError:
            from stream import measure
        bw = measure(mib=256, reps=5, numpy_reps=1)["bandwidth_GBps"]
    else:
        bw = a.bandwidth
    mb = min_bytes(n, slots, live)
    bound_s = mb["total"] / (bw * 1e9)
    st = stats(per_step)
    res = {
        "bench": "minimal_credsim", "graph": a.graph, "layout": layout, "n": n,
        "mean_degree_requested": a.degree, "live_ties_per_person": live / n, "slots_per_person": slots / n,
        "society_s": gen_s, "steps_per_rep": a.steps, "reps": a.reps, "threads": threads,
        "step_s": st, "agent_steps_per_s": stats([n / s for s in per_step]),
        "identical_across_thread_counts": identical,
        "mean_score_end": float(s_in.mean(dtype=np.float64)),
        "bytes_per_step": mb, "bandwidth_GBps": bw, "bound_s": bound_s,
        "ratio_to_bound": st["median"] / bound_s,
        "ratio_to_bound_best": st["min"] / bound_s,
        "effective_GBps": mb["total"] / st["median"] / 1e9,
        "peak_rss_bytes": peak, "peak_rss_after_generation_bytes": peak_after_gen, "rss_bytes": rss_bytes(),
        "working_set_bytes": int(indptr.nbytes + nbr.nbytes + s_in.nbytes + s_out.nbytes),
    }
    log(f"minimal[{a.graph}] n={n:,}: {st['median'] * 1e3:.1f} ms/step (spread {st['spread']:.0%}), "
        f"bound {bound_s * 1e3:.1f} ms at {bw:.1f} GB/s -> ratio {res['ratio_to_bound']:.2f}; "
        f"identical across thread counts: {identical}")
    emit(res)
    return res


if __name__ == "__main__":
    main()
