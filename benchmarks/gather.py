"""Random gather reference line: read float32 values of a 10-million array through indices.

    out[k] = src[idx[k]]        (Numba, parallel over k)

with idx drawn five ways: uniformly at random; the same indices sorted; "local", every index
within +-60 of a slowly advancing owner (as a person's ties are in credsim's network);
"clustered", 90 % local and 10 % random, the way credsim lays out ties (`locality` = 0.9);
and "clustered99", 1 % random.  The clustered cases show what a sparse random access costs
among local ones: nearly its full latency, since the out-of-order window holds only the few
misses that fit between many hits (`random_access_ns_*` estimates it; prefetching helps).  Reported as ns per gathered element, with 1 thread and with
every thread, and NumPy's `src[idx]` (one thread) for reference.  At 10 million persons a
step reads each tie's score once, so ns/element x ties is the price of the tie reads.

    python -m benchmarks.gather [--n 10000000] [--m 20000000] [--reps 7]
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
def gather(src, idx, out):
    for k in nb.prange(len(idx)):
        out[k] = src[idx[k]]


def _indices(n: int, m: int, rng) -> dict:
    rnd = rng.integers(0, n, m).astype(np.int32)
    owner = (np.arange(m, dtype=np.int64) * n // m)
    off = rng.integers(1, 61, m) * np.where(rng.random(m) < 0.5, -1, 1)
    local = np.mod(owner + off, n).astype(np.int32)
    u = rng.random(m)
    return {"random": rnd, "sorted": np.sort(rnd), "local": local,
            "clustered99": np.where(u < 0.99, local, rnd).astype(np.int32),
            "clustered": np.where(u < 0.9, local, rnd).astype(np.int32)}


def measure(n: int = 10_000_000, m: int = 20_000_000, reps: int = 7) -> dict:
    rng = np.random.default_rng(7)
    src = rng.random(n, dtype=np.float32)
    out = np.empty(m, np.float32)
    res: dict = {"bench": "gather", "n": n, "m": m, "src_MiB": n * 4 / 2**20,
                 "threads_available": nb.config.NUMBA_NUM_THREADS}
    idxs = _indices(n, m, rng)
    for threads in sorted({1, nb.config.NUMBA_NUM_THREADS}):
        nb.set_num_threads(threads)
        for name, idx in idxs.items():
            gather(src, idx, out)
            times = []
            for _ in range(reps):
                t = time.perf_counter()
                gather(src, idx, out)
                times.append(time.perf_counter() - t)
            ns = stats([t / m * 1e9 for t in times])
            res[f"{name}_{threads}t_ns"] = ns
            log(f"gather {name:9s} {threads} thread(s): {ns['median']:.2f} ns/element (spread {ns['spread']:.0%})")
    for key in [k for k in res if k.startswith("clustered") and k.endswith("_ns")]:
        th = key.split("_")[1]
        share = 0.01 if key.startswith("clustered99") else 0.1
        local_ns = res[f"local_{th}_ns"]["median"]
        res[f"random_access_ns_{key[:-3]}"] = (res[key]["median"] - (1 - share) * local_ns) / share
    nb.set_num_threads(nb.config.NUMBA_NUM_THREADS)
    for name in ("random", "sorted"):
        times = []
        for _ in range(max(3, reps // 2)):
            t = time.perf_counter()
            np.take(src, idxs[name], out=out)
            times.append(time.perf_counter() - t)
        res[f"{name}_numpy_ns"] = stats([t / m * 1e9 for t in times])
        log(f"gather {name:9s} numpy: {res[f'{name}_numpy_ns']['median']:.2f} ns/element")
    return res


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=10_000_000, help="source array length (float32)")
    ap.add_argument("--m", type=int, default=20_000_000, help="gathered elements")
    ap.add_argument("--reps", type=int, default=7)
    a = ap.parse_args(argv)
    res = measure(a.n, a.m, a.reps)
    emit(res)
    return res


if __name__ == "__main__":
    main()
