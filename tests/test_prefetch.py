"""engine.prefetch: a cache hint in the compiled code that changes no result and never faults."""

from __future__ import annotations

import platform

import numba as nb
import numpy as np

from credsim.engine.prefetch import prefetch


@nb.njit(cache=False)
def _sum_with_hints(a, far):
    s = 0.0
    for k in range(len(a)):
        prefetch(a, k + 8)          # past the end near the last elements
        prefetch(a, far)            # anywhere at all
        prefetch(a, np.uint32(k))   # unsigned and narrow indices
        s += a[k]
    return s


def test_prefetch_is_emitted_and_changes_nothing():
    a = np.random.default_rng(3).random(1000)
    plain = 0.0
    for x in a:
        plain += x
    for far in (-(10**12), 10**12, len(a), 0):
        assert _sum_with_hints(a, far) == plain  # the same additions in the same order
    asm = _sum_with_hints.inspect_asm(_sum_with_hints.signatures[0])
    hint = "\tprefetch" if platform.machine().lower() in ("x86_64", "amd64") else "\tprfm"
    assert hint in asm  # the hint reaches the machine code (prefetcht0 on x86, prfm on ARM)
