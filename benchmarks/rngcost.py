"""What a random number costs on this machine.

- NumPy `Generator(PCG64).random(n, dtype=float32)`: what credsim's phases draw today (one
  thread; its best repetition is the figure the per-phase random-number bound of
  `full_seed.py` charges, `ns_per_random`);
- the same with float64;
- a counter-based splitmix64 hash of (key, index) in a Numba `parallel=True` loop, the
  finalizer credsim's engine draws its numbers with (here two float32 uniforms per 64-bit
  hash; thread-count independent), with 1 thread and with every thread.

    python -m benchmarks.rngcost [--n 10000000] [--reps 7]
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numba as nb
import numpy as np

try:
    from .common import emit, log, stats
except ImportError:
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from common import emit, log, stats

from credsim.randomness import _GOLDEN as GOLDEN, mix  # the engine's own SplitMix64 finalizer

INV24 = np.float32(1.0 / 16777216.0)


@nb.njit(inline="always")
def splitmix64(x):
    return mix(x + GOLDEN)


@nb.njit(inline="always")
def two_uniforms(key, i):
    """Two float32 uniforms in [0, 1) from one hash of (key, i): bits 40-63 and 8-31."""
    h = splitmix64(key ^ (np.uint64(i) * GOLDEN))
    u1 = np.float32(h >> np.uint64(40)) * INV24
    u2 = np.float32((h >> np.uint64(8)) & np.uint64(0xFFFFFF)) * INV24
    return u1, u2


@nb.njit(parallel=True, cache=True)
def fill_uniforms(key, out):
    for k in nb.prange(len(out) // 2):
        u1, u2 = two_uniforms(key, k)
        out[2 * k] = u1
        out[2 * k + 1] = u2


def measure(n: int = 10_000_000, reps: int = 7) -> dict:
    res: dict = {"bench": "rngcost", "n": n}
    g = np.random.Generator(np.random.PCG64(1))
    out32 = np.empty(n, np.float32)
    out64 = np.empty(n, np.float64)
    for name, fn in (("numpy_float32", lambda: g.random(n, dtype=np.float32, out=out32)),
                     ("numpy_float64", lambda: g.random(n, out=out64)),
                     ("numpy_float32_alloc", lambda: g.random(n, dtype=np.float32))):
        fn()
        times = []
        for _ in range(reps):
            t = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t)
        res[f"{name}_ns"] = stats([t / n * 1e9 for t in times])
        log(f"rng {name}: {res[f'{name}_ns']['median']:.2f} ns/number")
    for threads in sorted({1, nb.config.NUMBA_NUM_THREADS}):
        nb.set_num_threads(threads)
        fill_uniforms(np.uint64(1), out32)
        times = []
        for r in range(reps):
            t = time.perf_counter()
            fill_uniforms(np.uint64(r + 2), out32)
            times.append(time.perf_counter() - t)
        res[f"splitmix_{threads}t_ns"] = stats([t / n * 1e9 for t in times])
        log(f"rng splitmix64 counter-based, {threads} thread(s): {res[f'splitmix_{threads}t_ns']['median']:.2f} ns/number")
    nb.set_num_threads(nb.config.NUMBA_NUM_THREADS)
    m = float(out32.mean())
    assert 0.49 < m < 0.51, m
    # the cost a bound charges: the best repetition (like STREAM's best rate)
    res["ns_per_random"] = res["numpy_float32_ns"]["min"]
    return res


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=10_000_000)
    ap.add_argument("--reps", type=int, default=7)
    a = ap.parse_args(argv)
    res = measure(a.n, a.reps)
    emit(res)
    return res


if __name__ == "__main__":
    main()
