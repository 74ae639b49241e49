"""STREAM-like memory bandwidth of this machine: triad a = b + s * c over float64 arrays.

Counting follows STREAM: 24 bytes per element for triad (read b, read c, write a), with the
write-allocate read of `a` NOT counted (normal stores read the line first, so the hardware
moves 32 B per element; `median_GBps_with_write_allocate` reports that figure too).  Arrays are
3 x 256 MiB by default, far beyond the caches (32 MiB L3 here).

Kernels: Numba `parallel=True` with 1 thread and with every thread, and plain NumPy (one
thread, two passes: `np.multiply(c, s, out=a); a += b`, still counted as 24 B per element, so
it reads as "the triad bandwidth a NumPy user gets").  A read-only reduction (`sum(b)`, with
fastmath so that it vectorizes; 8 B per element) is reported as the read bandwidth that
gather-heavy kernels lean on.

The bandwidth every bound divides by (`bandwidth_GBps`) is, as STREAM reports it, the best
rate: the Numba triad's best repetition at the thread count that gives the most (on a shared
2-core machine one thread sometimes wins).  The medians are reported alongside
(`bandwidth_median_GBps`): on a busy machine the best is the closer to what it can do.

    python -m benchmarks.stream [--mib 256] [--reps 10]
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


@nb.njit(parallel=True, cache=True)
def triad(a, b, c, s):
    for i in nb.prange(len(a)):
        a[i] = b[i] + s * c[i]


@nb.njit(parallel=True, cache=True)
def first_touch(a, v):
    for i in nb.prange(len(a)):
        a[i] = v


@nb.njit(parallel=True, fastmath=True, cache=True)
def read_sum(b):
    t = 0.0
    for i in nb.prange(len(b)):
        t += b[i]
    return t


def _numpy_triad(a, b, c, s):
    np.multiply(c, s, out=a)
    a += b


def _best_median(times, nbytes):
    gbs = [nbytes / t / 1e9 for t in times]
    st = stats(gbs)
    return {"best_GBps": max(gbs), "median_GBps": st["median"], "min_GBps": st["min"],
            "spread": st["spread"], "values_GBps": gbs}


def measure(mib: int = 256, reps: int = 10, numpy_reps: int = 5) -> dict:
    n = mib * 1024 * 1024 // 8
    a, b, c = (np.empty(n) for _ in range(3))
    for x, v in ((a, 0.0), (b, 1.0), (c, 2.0)):
        first_touch(x, v)  # pages land with the threads that use them
    s = 3.0
    max_threads = nb.config.NUMBA_NUM_THREADS
    out: dict = {"bench": "stream", "elements": n, "array_MiB": mib, "arrays": 3,
                 "convention": "triad: 24 B/element (read b, read c, write a); write-allocate of a not counted",
                 "threads_available": max_threads}
    for threads in sorted({1, max_threads}):
        nb.set_num_threads(threads)
        triad(a, b, c, s)  # warm (compile, fault pages)
        times = []
        for _ in range(reps):
            t = time.perf_counter()
            triad(a, b, c, s)
            times.append(time.perf_counter() - t)
        r = _best_median(times, 24 * n)
        r["median_GBps_with_write_allocate"] = r["median_GBps"] * 32 / 24
        out[f"triad_numba_{threads}t"] = r
        read_sum(b)
        times = []
        for _ in range(reps):
            t = time.perf_counter()
            read_sum(b)
            times.append(time.perf_counter() - t)
        out[f"read_numba_{threads}t"] = _best_median(times, 8 * n)
        log(f"stream: numba {threads} thread(s): triad {out[f'triad_numba_{threads}t']['median_GBps']:.1f} GB/s "
            f"(best {out[f'triad_numba_{threads}t']['best_GBps']:.1f}), read {out[f'read_numba_{threads}t']['median_GBps']:.1f} GB/s")
    nb.set_num_threads(max_threads)
    _numpy_triad(a, b, c, s)
    times = []
    for _ in range(numpy_reps):
        t = time.perf_counter()
        _numpy_triad(a, b, c, s)
        times.append(time.perf_counter() - t)
    out["triad_numpy"] = _best_median(times, 24 * n)
    log(f"stream: numpy triad {out['triad_numpy']['median_GBps']:.1f} GB/s")
    assert a[0] == 1.0 + s * 2.0
    # the figure every bound in these benchmarks divides by
    keys = [k for k in out if k.startswith("triad_numba_")]
    best = max(keys, key=lambda k: out[k]["best_GBps"])
    out["bandwidth_GBps"] = out[best]["best_GBps"]
    out["bandwidth_from"] = best
    out["bandwidth_median_GBps"] = max(out[k]["median_GBps"] for k in keys)
    return out


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mib", type=int, default=256, help="MiB per array (3 arrays)")
    ap.add_argument("--reps", type=int, default=10)
    a = ap.parse_args(argv)
    res = measure(a.mib, a.reps)
    emit(res)
    return res


if __name__ == "__main__":
    main()
