"""No compiled kernel writes outside the arrays it is given.

Every kernel of credsim that Python calls directly is wrapped: each array it gets is copied
into the middle of a larger buffer whose margins hold a fixed byte pattern, the kernel runs on
those copies, the margins are checked, and the results are copied back.  A write one element
past an array's end lands in a margin (without the margins it lands in the heap next to the
array: at some population sizes glibc then aborts with "malloc assertion failure", at others
nothing shows).  The run with the wrapped kernels must also give the very rows of a plain run,
so the wrapping itself is faithful.
"""

from __future__ import annotations

import sys

import numpy as np
import pytest
from numba.core.registry import CPUDispatcher

from credsim import Simulation, load_scenario

MARGIN = 1 << 12  # bytes before and after each array
PATTERN = 0xA5


def _entry_kernels() -> list[tuple[object, str, CPUDispatcher]]:
    """(module, name, kernel) for every credsim kernel no other kernel calls by name (those
    are compiled into their callers, where a Python wrapper cannot go) and not inlined."""
    mods = [m for name, m in list(sys.modules.items())
            if m is not None and (name == "credsim" or name.startswith("credsim."))]
    found = [(m, k, v) for m in mods for k, v in vars(m).items() if isinstance(v, CPUDispatcher)]
    called = {name for _, _, v in found for name in v.py_func.__code__.co_names}
    return [(m, k, v) for m, k, v in found
            if v.__name__ not in called and v.targetoptions.get("inline", "never") != "always"]


def _guarded(kernel, breaches: list):
    def run(*args):
        copies = {}  # id(array) -> (array, buffer, copy): an array given twice is one copy
        new = []
        for x in args:
            if isinstance(x, np.ndarray) and x.nbytes > 0:
                if id(x) not in copies:
                    buf = np.full(x.nbytes + 2 * MARGIN, PATTERN, np.uint8)
                    copy = buf[MARGIN:MARGIN + x.nbytes].view(x.dtype).reshape(x.shape)
                    copy[...] = x
                    copies[id(x)] = (x, buf, copy)
                new.append(copies[id(x)][2])
            else:
                new.append(x)
        out = kernel(*new)
        for x, buf, copy in copies.values():
            before, after = buf[:MARGIN], buf[MARGIN + x.nbytes:]
            if (before != PATTERN).any() or (after != PATTERN).any():
                breaches.append((kernel.py_func.__module__ + "." + kernel.__name__, str(x.dtype), x.shape,
                                 int((before != PATTERN).sum()), int((after != PATTERN).sum())))
            if x.flags.writeable:
                x[...] = copy
        return out
    return run


def _rows(n: int, steps: int) -> list[dict]:
    sc = load_scenario("seed", overrides={"population.agents": n, "run.steps": steps, "run.seed": 7})
    return Simulation(sc).run()


@pytest.mark.parametrize("n", [1300, 3000])
def test_kernels_write_only_inside_their_arrays(n, monkeypatch):
    steps = 3
    plain = _rows(n, steps)  # also compiles every kernel (before any is wrapped)
    breaches: list = []
    kernels = _entry_kernels()
    assert len(kernels) >= 15  # the step's kernels are found
    for module, name, kernel in kernels:
        monkeypatch.setattr(module, name, _guarded(kernel, breaches))
    guarded = _rows(n, steps)
    assert breaches == []
    assert guarded == plain
