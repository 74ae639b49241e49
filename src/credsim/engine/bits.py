"""Counts of the bits set in per-person bit sets (`acted`, `seen`), compiled.

Counted by fixed chunks of persons in parallel: integer counts, so the result does not depend
on the number of threads.
"""

from __future__ import annotations

import numba as nb
import numpy as np

CHUNK = 1 << 13  # persons a chunk (in L1 for the bit-by-bit loop)


def chunks_of(n: int) -> int:
    return max((n + CHUNK - 1) // CHUNK, 1)


@nb.njit(cache=True)
def bit_counts_into(values, lo, hi, n_bits, out, at):
    """out[at + b]: values[lo:hi] with bit b set, for one part of a parallel loop (bit by bit:
    loops that vectorise)."""
    for b in range(n_bits):
        t = 0
        for i in range(lo, hi):
            t += (np.int64(values[i]) >> b) & 1
        out[at + b] = t


@nb.njit(parallel=True, cache=True)
def chunk_bit_counts(values, n_bits, out):
    """out[b, c]: values of chunk c (CHUNK persons) with bit b set; out has chunks_of(n) columns."""
    n = len(values)
    for c in nb.prange(out.shape[1]):
        # unsigned bounds: the bit-by-bit loops vectorise
        bit_counts_into(values, np.uint64(c * CHUNK), np.uint64(min(n, (c + 1) * CHUNK)), n_bits,
                        out[:, c], 0)

