"""The minimal model's `blocked` benchmark kernel (benchmarks/minimal_credsim.py) computes the
same model as the plain reference: its layout holds every live tie exactly once, its steps
agree with `plain` up to the fixed-point rounding, and they do not depend on the thread count.
The timing itself is not tested here (benchmarks/ measures it)."""

from __future__ import annotations

import sys
from pathlib import Path

import numba as nb
import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
mc = pytest.importorskip("benchmarks.minimal_credsim")

N = 30_000


@pytest.fixture(scope="module")
def graph():
    indptr, nbr, _ = mc.credsim_graph(N, 10.0, 3)
    return indptr, nbr


@pytest.fixture(scope="module")
def blocked(graph):
    # small parts and blocks, so that many of each (and their edges) are exercised
    return mc.Blocked(*graph, sub=64, blk=1024)


def test_layout_holds_every_live_tie_once(graph, blocked):
    indptr, nbr = graph
    owner = np.repeat(np.arange(N, dtype=np.int64), np.diff(indptr))
    live = nbr >= 0
    want = np.sort(owner[live] * N + nbr[live])
    # near ties: offsets from their part's first person, in person order, 2 cnt per person;
    # a person with pad = 1 has a tie to itself last in its row, which is no tie of the graph
    slots = 2 * blocked.cnt.astype(np.int64)
    near_owner = np.repeat(np.arange(N, dtype=np.int64), slots)
    near_j = (near_owner // blocked.sub) * blocked.sub + blocked.near.astype(np.int64)
    row_end = np.cumsum(slots)
    padded = np.flatnonzero(blocked.pad)
    assert np.array_equal(near_j[row_end[padded] - 1], padded)  # the pads: self ties, last
    assert len(padded) > 0 and np.count_nonzero(near_owner == near_j) == len(padded)  # no other self ties
    keep = np.ones(len(near_j), bool)
    keep[row_end[padded] - 1] = False
    near_owner, near_j = near_owner[keep], near_j[keep]
    # far ties: sources in source order; V position pos; destination block by binptr, dloc
    block_of_v = np.repeat(np.arange(len(blocked.binptr) - 1), np.diff(blocked.binptr))
    dst_of_v = block_of_v * blocked.blk + blocked.dloc.astype(np.int64)
    far_dst = dst_of_v[blocked.pos]
    got = np.sort(np.concatenate([near_owner * N + near_j, far_dst * N + blocked.src.astype(np.int64)]))
    assert np.array_equal(got, want)
    assert np.array_equal(blocked.deg, np.bincount(owner[live], minlength=N))
    assert np.all(np.abs(far_dst - blocked.src) > mc.FAR) and blocked.far > 0
    assert np.all(np.diff(blocked.src) >= 0)  # the far pass reads the scores in order


def _steps(step, state, steps=3, seed=5):
    x, y = state, np.empty_like(state)
    counts = []
    for t in range(steps):
        counts.append(tuple(int(c) for c in step(x, y, mc.step_key(seed, t))))
        x, y = y, x
    return x, counts


def test_blocked_agrees_with_plain(graph, blocked):
    indptr, nbr = graph
    rng = np.random.default_rng(0)
    s0 = mc.BASE - rng.uniform(0, 300, N).astype(np.float32)  # spread scores: p varies by person
    s0 = mc.Blocked.scores(mc.Blocked.state(s0)).astype(np.float32)  # start on the fixed-point grid
    plain, c_plain = _steps(lambda x, y, k: mc.step(indptr, nbr, x, y, k), s0.copy())
    fixed, c_fixed = _steps(blocked.step, mc.Blocked.state(s0))
    assert np.abs(mc.Blocked.scores(fixed) - plain).max() <= 4.0 / mc.SCALE
    # the same random numbers decide: the counts differ at most where p sits on a rounding edge
    for (a1, o1), (a2, o2) in zip(c_plain, c_fixed):
        assert abs(a1 - a2) <= 3 and abs(o1 - o2) <= 3
    assert 0 < c_fixed[0][0] < N


def test_one_uniform_gives_the_model_its_rates(graph):
    """With every score at 1000 each person acts with p = 0.05 and is observed with 0.1 p: over
    ten step keys the counts of the one-uniform draw (`minimal_credsim.decide`) fall within 4
    standard deviations of N p and N p / 10, and nobody is observed without acting."""
    indptr, nbr = graph
    s0 = np.full(N, mc.BASE, np.float32)
    acted = observed = 0
    for t in range(10):
        a, o = mc.step(indptr, nbr, s0, np.empty_like(s0), mc.step_key(11, t))
        acted, observed = acted + a, observed + o
    m, p = 10 * N, 0.05
    assert abs(acted - m * p) <= 4 * np.sqrt(m * p * (1 - p))
    assert abs(observed - m * p / 10) <= 4 * np.sqrt(m * p / 10 * (1 - p / 10))
    u = [mc.uniform(mc.step_key(11, 0), i) for i in range(2000)]
    assert all(0.0 <= x < 1.0 for x in u) and len(set(u)) > 1990
    pairs = [mc.decide(x, np.float32(0.3)) for x in u]
    assert all(a or not o for a, o in pairs)  # observed implies acted
    assert 0 < sum(o for _, o in pairs) < sum(a for a, _ in pairs)


@nb.njit
def _uniform_mismatches(key, start, count):
    bad = 0
    for i in range(start, start + count):
        bad += mc.uniform(key, i) != mc.uniform_reference(key, i)
        bad += mc.uniform(key, np.uint64(i)) != mc.uniform_reference(key, np.uint64(i))
        bad += mc.uniform(key, np.int16(i)) != mc.uniform_reference(key, np.int16(i))
    return bad


def test_the_32_bit_uniform_is_the_reference_hash():
    """`uniform` (triple32 written in 32-bit LLVM IR, so it vectorises 8 lanes wide) gives the
    bits of `uniform_reference` (the same hash in Numba's arithmetic): for 300,000 persons under
    three keys, around 2**32 (where i wraps), and for 64-bit and 16-bit person indices."""
    for key in (mc.step_key(1, 0), np.uint32(0), np.uint32(0xFFFFFFFF)):
        assert _uniform_mismatches(key, 0, 100_000) == 0
        assert _uniform_mismatches(key, 2**32 - 50_000, 100_000) == 0
    assert _uniform_mismatches(mc.step_key(2, 7), -40_000, 80_000) == 0  # negative indices too


def test_blocked_same_bits_for_any_thread_count(blocked):
    s0 = mc.Blocked.state(np.full(N, mc.BASE, np.float32))
    threads = nb.config.NUMBA_NUM_THREADS
    out = []
    for th in (1, threads):
        nb.set_num_threads(th)
        try:
            out.append(_steps(blocked.step, s0.copy()))
        finally:
            nb.set_num_threads(threads)
    assert np.array_equal(out[0][0], out[1][0]) and out[0][1] == out[1][1]


def test_full_seed_times_kernels_apart_and_restores_them():
    """benchmarks.full_seed charges each phase's compiled-kernel time to that phase: never more
    than the phase took, the big kernels among those timed, and the engine's kernels put back."""
    fs = pytest.importorskip("benchmarks.full_seed")
    from credsim.mechanisms import actions

    before = actions._persons_kernel
    res = fs.run(2_000, 3, 10.0, 5, count_rng=False)
    assert actions._persons_kernel is before
    assert "credsim.mechanisms.actions._persons_kernel" in res["kernels_timed"]
    assert "credsim.society.network._aggregate" in res["kernels_timed"]
    assert not any(k.endswith((".uniform", ".mix", ".lane")) for k in res["kernels_timed"])  # helpers
    phases, kernels = res["phase_s_per_step"], res["phase_kernel_s_per_step"]
    assert kernels.get("actions", 0.0) > 0.0 and kernels.get("perceive", 0.0) > 0.0
    for name, k in kernels.items():
        assert k <= phases[name] + 1e-9, (name, k, phases[name])
    assert 0.0 < res["kernel_s_per_step"] <= res["phase_steps_s"] / res["phase_steps"]
    # the rate comes from the plain steps before the timed ones, the first (warm-up) left out
    assert res["phase_steps"] == 3 and res["step_s"]["n"] == 3 and res["phase_step_s"]["n"] == 3
    assert res["agent_steps_per_s"] == pytest.approx(2_000 * 2 / (res["steps_s"] - res["first_step_s"]))
    assert res["agent_steps_per_s_whole"] == pytest.approx(2_000 * 3 / res["steps_s"])


def test_full_seed_serves_fresh_runs_at_the_rate_run_measures(monkeypatch, capsys):
    """`full_seed --serve` (paired.py's credsim side): one fresh run per line read, each reported
    as `run` reports its rate (the steps after the first)."""
    import io
    import json

    fs = pytest.importorskip("benchmarks.full_seed")
    from benchmarks.common import MARKER

    monkeypatch.setattr(sys, "stdin", io.StringIO("go\n\ngo\n"))
    fs.main(["--n", "2000", "--steps", "3", "--degree", "10", "--serve"])
    got = [json.loads(line[len(MARKER):]) for line in capsys.readouterr().out.splitlines()
           if line.startswith(MARKER)]
    assert got[0]["ready"] and got[0]["n"] == 2000 and len(got) == 3  # ready, then one per "go"
    for r in got[1:]:
        assert r["agent_steps_per_s"] > 0 and r["step_s"] > 0
    assert fs.rate_after_first(10, [5.0, 1.0, 3.0]) == 10 * 2 / 4.0
