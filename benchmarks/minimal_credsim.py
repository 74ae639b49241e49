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

Two kernels, timed alternately on the same graph (`--kernels`): `plain`, the loop above, and
`prefetch`, the same loop with a software prefetch (`llvm.prefetch` through a Numba
intrinsic) of the score of the tie PREFETCH_AHEAD slots ahead.  Both give bitwise the same
scores (checked).  The headline figures are the faster kernel's.  Two diagnostic half-kernels
(`--diagnostics`, not the model) split the time: `rows_only`, the per-person loop over the
slots without the gathers, and `gathers_only`, the gathers in one flat prefetched pass.

Bound.  The least a step must move:
    indptr 8 B x (N + 1) + nbr 4 B x slots (free slots included: the layout reads them)
    + gathered neighbour scores 4 B x live ties (counted as if streamed once; random gathers
      cost more, see `gather.py`) + own score 4 B x N read + new score 4 B x N written
    ratio = measured step time / (bytes / STREAM triad bandwidth measured in the same run)
A second, gather-aware bound charges each "far" tie (to a person more than FAR indices
away; about 8 % of credsim's ties) the measured random-gather time (`gather.py`) instead of
4 streamed bytes.  Since long-range ties are bundled between partner communities (a pass
reads each partner in order), this bound is pessimistic; the plain bound is the target.

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
from llvmlite import ir
from llvmlite.binding import llvm_version_info
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

try:
    from .common import emit, log, peak_rss_bytes, reset_peak, rss_bytes, stats
    from .rngcost import splitmix64, two_uniforms
except ImportError:
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from common import emit, log, peak_rss_bytes, reset_peak, rss_bytes, stats
    from rngcost import splitmix64, two_uniforms

BASE = np.float32(1000.0)
DECAY = np.float32(0.01)
PENALTY = np.float32(10.0)
P0, P1, OBS = np.float32(0.05), np.float32(0.1), np.float32(0.1)
PREFETCH_AHEAD = 128  # slots (about 9 persons); 64-128 measured best on the 2-core machine
FAR = 4096  # a tie to a person more than this many indices away counts as a random gather


@nb.njit(cache=True)
def _step_key(seed, t):
    return splitmix64((np.uint64(seed) << np.uint64(32)) + np.uint64(t))


def step_key(seed: int, t: int) -> np.uint64:
    """The key of step t: every random number of the step is a hash of (key, person)."""
    return np.uint64(_step_key(seed, t))


@intrinsic
def prefetch(typingctx, arr, idx):
    """Hint the CPU to fetch arr[idx] into the caches (llvm.prefetch: read, high locality)."""
    sig = types.void(arr, idx)

    def codegen(context, builder, signature, args):
        aryty, _ = signature.args
        ary = context.make_array(aryty)(context, builder, args[0])
        ptr = cgutils.get_item_pointer(context, builder, aryty, ary, [args[1]])
        i8p = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        name = "llvm.prefetch.p0" if llvm_version_info >= (15,) else "llvm.prefetch.p0i8"
        fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32]), name)
        builder.call(fn, [builder.bitcast(ptr, i8p), ir.Constant(i32, 0), ir.Constant(i32, 3), ir.Constant(i32, 1)])
        return context.get_dummy_value()

    return sig, codegen


@nb.njit(inline="always")
def _update(i, tot, k, s_in, s_out, key):
    s = s_in[i]
    m = tot / np.float32(k) if k > 0 else s
    p = P0 + P1 * (np.float32(1.0) - m / BASE)
    p = min(max(p, np.float32(0.0)), np.float32(1.0))
    u1, u2 = two_uniforms(key, i)
    a = u1 < p
    o = a and u2 < OBS
    s_out[i] = s + DECAY * (BASE - s) - (PENALTY if o else np.float32(0.0))
    return a, o


def _make_step(ahead: int):
    """The step kernel; with ahead > 0 it prefetches the score of the tie `ahead` slots on
    (the loop ends of short rows are mispredicted branches, which otherwise keep few cache
    misses in flight).  `ahead` is a compile-time constant: with 0 the prefetch is not there."""

    @nb.njit(parallel=True, fastmath=True, cache=True)
    def kernel(indptr, nbr, s_in, s_out, key):
        acted = 0
        seen = 0
        last = np.uint64(len(nbr) - 1)
        for i in nb.prange(len(s_in)):
            tot = np.float32(0.0)
            k = 0
            # unsigned indices: no negative-index wraparound code in the loop
            for slot in range(np.uint64(indptr[i]), np.uint64(indptr[i + 1])):
                if ahead > 0:
                    prefetch(s_in, max(nbr[min(slot + np.uint64(ahead), last)], 0))
                j = nbr[slot]
                if j >= 0:
                    tot += s_in[np.uint32(j)]
                    k += 1
            a, o = _update(i, tot, k, s_in, s_out, key)
            acted += a
            seen += o
        return acted, seen

    return kernel


step = _make_step(0)
step_prefetch = _make_step(PREFETCH_AHEAD)
KERNELS = {"plain": step, "prefetch": step_prefetch}


@nb.njit(parallel=True, fastmath=True, cache=True)
def rows_only(indptr, nbr, s_in, s_out, key):
    """Diagnostic, not the model: the per-person loop over slots without the gathers (reads
    indptr, nbr and the own score, writes the new one) - what the row structure costs."""
    for i in nb.prange(len(s_in)):
        k = 0
        for slot in range(indptr[i], indptr[i + 1]):
            k += nbr[slot] >= 0
        s_out[i] = s_in[i] + np.float32(k)
    return 0, 0


@nb.njit(parallel=True, fastmath=True, cache=True)
def gathers_only(indptr, nbr, s_in, s_out, key):
    """Diagnostic, not the model: every live tie's score gathered in one flat, prefetched pass
    over the slots, without per-person rows - what the gathers cost."""
    acc = np.float32(0.0)
    last = len(nbr) - 1
    for slot in nb.prange(len(nbr)):
        prefetch(s_in, max(nbr[min(slot + PREFETCH_AHEAD, last)], 0))
        j = nbr[slot]
        if j >= 0:
            acc += s_in[j]
    s_out[0] = acc
    return 0, 0


DIAGNOSTICS = {"rows_only": rows_only, "gathers_only": gathers_only}


def credsim_graph(n: int, mean_degree: float, seed: int):
    from credsim import load_scenario
    from credsim.randomness import streams
    from credsim.society import make_society

    sc = load_scenario("seed", overrides={"population.agents": n, "network.mean_degree": mean_degree,
                                          "run.seed": seed})
    society = make_society(sc, streams(seed))
    g = society.graph
    return g.indptr, g.nbr, {"slack": sc.network.slack, "locality": sc.network.locality,
                             "window": sc.network.window, "partners": sc.network.partners}


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


def far_ties(indptr, nbr) -> int:
    """Live ties to a person more than FAR indices away (whose score read is a random gather)."""
    owner = np.repeat(np.arange(len(indptr) - 1, dtype=np.int64), np.diff(indptr))
    live = nbr >= 0
    return int(np.count_nonzero(np.abs(nbr[live].astype(np.int64) - owner[live]) > FAR))


def _same_across_threads(kernel, indptr, nbr, s0, seed) -> tuple[bool, np.ndarray]:
    """Two steps with 1 thread and with every thread: bitwise the same scores and counts?"""
    threads = nb.config.NUMBA_NUM_THREADS
    outs = []
    for th in (1, threads):
        nb.set_num_threads(th)
        x, y = s0.copy(), np.empty_like(s0)
        counts = []
        for t in range(2):
            counts.append(kernel(indptr, nbr, x, y, step_key(seed, t)))
            x, y = y, x
        outs.append((x, counts))
    nb.set_num_threads(threads)
    return bool(np.array_equal(outs[0][0], outs[1][0]) and outs[0][1] == outs[1][1]), outs[1][0]


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--degree", type=float, default=10.0)
    ap.add_argument("--steps", type=int, default=10, help="steps per repetition")
    ap.add_argument("--reps", type=int, default=5, help="repetitions per kernel (the kernels alternate)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--graph", choices=("credsim", "random"), default="credsim")
    ap.add_argument("--kernels", default="plain,prefetch", help="comma list of: " + ", ".join(KERNELS))
    ap.add_argument("--diagnostics", default="rows_only,gathers_only",
                    help="comma list (or '') of diagnostic half-kernels timed alongside: " + ", ".join(DIAGNOSTICS))
    ap.add_argument("--bandwidth", type=float, default=None,
                    help="GB/s to compute the bound with (default: measure a STREAM triad here)")
    ap.add_argument("--gather-ns", type=float, default=None,
                    help="ns per random gather, for the gather-aware bound (default: measure here)")
    a = ap.parse_args(argv)
    kernels = {k: KERNELS[k] for k in a.kernels.split(",")}
    diagnostics = {k: DIAGNOSTICS[k] for k in a.diagnostics.split(",") if k}

    t = time.perf_counter()
    indptr, nbr, layout = (credsim_graph if a.graph == "credsim" else random_graph)(a.n, a.degree, a.seed)
    gen_s = time.perf_counter() - t
    gc.collect()
    peak_after_gen = peak_rss_bytes()
    n, slots = len(indptr) - 1, len(nbr)
    live = int(np.count_nonzero(nbr >= 0))
    far = far_ties(indptr, nbr)
    log(f"minimal[{a.graph}] n={n:,}: society in {gen_s:.1f} s, {live / n:.2f} live ties/person "
        f"({far / live:.0%} far), {slots / n:.2f} slots/person")

    peak_reset = reset_peak()  # from here VmHWM is the steps' own peak
    s0 = np.full(n, BASE, np.float32)
    checks, ref = {}, None
    for name, kernel in kernels.items():
        same, out = _same_across_threads(kernel, indptr, nbr, s0, a.seed)
        checks[name] = {"identical_across_thread_counts": same,
                        "identical_to_first_kernel": True if ref is None else bool(np.array_equal(out, ref))}
        ref = out if ref is None else ref
    del ref, out
    gc.collect()

    timed = {**kernels, **diagnostics}
    states = {name: [s0.copy(), np.empty_like(s0), 0] for name in timed}
    per_step = {name: [] for name in timed}
    for r in range(a.reps):
        for name, kernel in timed.items():
            st_ = states[name]
            t = time.perf_counter()
            for _ in range(a.steps):
                kernel(indptr, nbr, st_[0], st_[1], step_key(a.seed, st_[2]))
                st_[0], st_[1] = st_[1], st_[0]
                st_[2] += 1
            dt = (time.perf_counter() - t) / a.steps
            per_step[name].append(dt)
            log(f"  rep {r} {name:8s}: {dt * 1e3:.1f} ms/step, {n / dt / 1e6:.1f} M agent-steps/s")
    mean_end = {name: float(states[name][0].mean(dtype=np.float64)) for name in kernels}
    working = int(indptr.nbytes + nbr.nbytes + 2 * s0.nbytes)
    del states, s0
    gc.collect()

    peak_steps = peak_rss_bytes() if peak_reset else None  # before the STREAM and gather arrays below
    peak = max(peak_rss_bytes(), peak_after_gen)
    if a.bandwidth is None:
        try:
            from .stream import measure
        except ImportError:
            from stream import measure
        bw = measure(mib=256, reps=5, numpy_reps=1)["bandwidth_GBps"]
    else:
        bw = a.bandwidth
    if a.gather_ns is None:
        try:
            from .gather import measure as gmeasure
        except ImportError:
            from gather import measure as gmeasure
        g = gmeasure(reps=3)
        gather_ns = g[f"random_{nb.config.NUMBA_NUM_THREADS}t_ns"]["min"]
    else:
        gather_ns = a.gather_ns
    mb = min_bytes(n, slots, live)
    bound_s = mb["total"] / (bw * 1e9)
    # gather-aware: the far ties' scores cost a random gather each instead of 4 streamed bytes
    gbound_s = (mb["total"] - 4 * far) / (bw * 1e9) + far * gather_ns * 1e-9
    res_k = {}
    for name in kernels:
        st = stats(per_step[name])
        res_k[name] = {"step_s": st, "agent_steps_per_s": stats([n / x for x in per_step[name]]),
                       "ratio_to_bound": st["median"] / bound_s, "ratio_to_bound_best": st["min"] / bound_s,
                       "ratio_to_gather_bound": st["median"] / gbound_s,
                       "effective_GBps": mb["total"] / st["median"] / 1e9,
                       "mean_score_end": mean_end[name], **checks[name]}
        log(f"minimal[{a.graph}] n={n:,} {name}: {st['median'] * 1e3:.1f} ms/step (spread {st['spread']:.0%}), "
            f"bound {bound_s * 1e3:.1f} ms at {bw:.1f} GB/s -> ratio {res_k[name]['ratio_to_bound']:.2f}; "
            f"gather-aware bound {gbound_s * 1e3:.1f} ms -> {res_k[name]['ratio_to_gather_bound']:.2f}; "
            f"identical across thread counts: {checks[name]['identical_across_thread_counts']}")
    best = min(res_k, key=lambda k: res_k[k]["step_s"]["median"])
    res = {
        "bench": "minimal_credsim", "graph": a.graph, "layout": layout, "n": n,
        "mean_degree_requested": a.degree, "live_ties_per_person": live / n, "slots_per_person": slots / n,
        "far_ties_per_person": far / n, "far_threshold": FAR,
        "society_s": gen_s, "steps_per_rep": a.steps, "reps": a.reps, "threads": nb.config.NUMBA_NUM_THREADS,
        "bytes_per_step": mb, "bandwidth_GBps": bw, "bound_s": bound_s,
        "gather_ns": gather_ns, "gather_bound_s": gbound_s,
        "kernels": res_k, "kernel": best, **res_k[best],
        "diagnostics": {name: {"step_s": stats(per_step[name]), "doc": DIAGNOSTICS[name].__doc__.split(":")[0]}
                        for name in diagnostics},
        "peak_rss_bytes": peak, "peak_rss_after_generation_bytes": peak_after_gen, "rss_bytes": rss_bytes(),
        "peak_rss_steps_bytes": peak_steps,
        "working_set_bytes": working,
    }
    emit(res)
    return res


if __name__ == "__main__":
    main()
