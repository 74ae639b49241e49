"""The compiled bit counts the step's counters come from (`credsim.engine.bits`)."""

import numba as nb
import numpy as np
import pytest

from credsim.engine.bits import CHUNK, chunk_bit_counts, chunks_of


@pytest.mark.parametrize("n", [0, 1, CHUNK - 1, CHUNK, 3 * CHUNK + 17])
def test_bit_counts_equal_a_count_per_bit(n):
    v = np.random.default_rng(n).integers(0, 1 << 9, n).astype(np.uint16)
    v[: n // 3] = 0  # most persons have nothing to count
    want = [np.count_nonzero(v & (1 << b)) for b in range(9)]
    out = np.empty((9, chunks_of(n)), np.int64)
    chunk_bit_counts(v, 9, out)
    assert out.sum(axis=1).tolist() == want


def test_chunk_counts_are_the_chunks_own_and_independent_of_threads():
    n = 2 * CHUNK + 5
    v = np.random.default_rng(7).integers(0, 1 << 5, n).astype(np.uint8)
    outs = []
    threads = nb.get_num_threads()
    try:
        for t in sorted({1, threads}):
            nb.set_num_threads(t)
            out = np.empty((5, chunks_of(n)), np.int64)
            chunk_bit_counts(v, 5, out)
            outs.append(out)
    finally:
        nb.set_num_threads(threads)
    assert all(np.array_equal(outs[0], o) for o in outs)
    for c in range(chunks_of(n)):
        part = v[c * CHUNK:(c + 1) * CHUNK]
        assert outs[0][:, c].tolist() == [np.count_nonzero(part & (1 << b)) for b in range(5)]


def test_bit_counts_into_counts_one_part_at_an_offset():
    from credsim.engine.bits import bit_counts_into

    v = np.random.default_rng(4).integers(0, 1 << 10, 5000).astype(np.uint16)
    out = np.full(14, -1, np.int64)
    bit_counts_into(v, np.uint64(1000), np.uint64(3500), 10, out, 3)
    part = v[1000:3500].astype(np.int64)
    assert out[3:13].tolist() == [int(((part >> b) & 1).sum()) for b in range(10)]
    assert out[:3].tolist() == [-1] * 3 and out[13] == -1  # nothing outside its slots


@pytest.mark.parametrize("n", [1, CHUNK - 1, CHUNK + 1, 3 * CHUNK + 17])
@pytest.mark.parametrize("density", [0.0, 0.2, 1.0])
def test_listing_by_bit_is_flatnonzero_of_each_bit(n, density):
    """observation._by_bit: for each bit, the persons with it in increasing order, as
    np.flatnonzero lists them, with 1 and 2 threads (no write lands outside its bit's list)."""
    from credsim.mechanisms.observation import _by_bit

    rng = np.random.default_rng(n)
    v = np.where(rng.random(n) < density, rng.integers(0, 1 << 10, n), 0).astype(np.uint16)
    v[-1] = 1 << 9  # the last person has only the last bit
    count = np.empty((10, chunks_of(n)), np.int64)
    chunk_bit_counts(v, 10, count)
    threads = nb.get_num_threads()
    try:
        for t in sorted({1, threads}):
            nb.set_num_threads(t)
            idx, first = _by_bit(v, count)
            for b in range(10):
                assert np.array_equal(idx[first[b]:first[b + 1]], np.flatnonzero(v & (1 << b)))
            assert first[-1] == len(idx)
    finally:
        nb.set_num_threads(threads)
