"""The social network: family cliques and local friend ties, stored as slotted CSR arrays.

Each person owns a fixed run of slots `indptr[i]:indptr[i+1]` (initial degree plus `slack`
free slots).  A slot holds a neighbour index or -1 (free).  Ties are undirected: both ends
hold a slot.  Cutting a tie frees both slots, forming one fills a free slot at both ends, so
the arrays never move during a run.  Family ties are never cut.

Friend ties are drawn mostly inside a window of nearby indices of the same region (persons
are laid out region by region, household by household), which clusters them the way a small
world does and keeps every tie read local in memory; a share `1 - locality` of ties goes to
anyone in the population (long-range ties).
"""

from __future__ import annotations

from dataclasses import dataclass

import numba as nb
import numpy as np

from ..scenario.schema import NetworkSection
from .population import Persons, Regions


@dataclass
class Graph:
    indptr: np.ndarray   # int64 (N+1)
    nbr: np.ndarray      # int32 (slots): neighbour or -1
    family: np.ndarray   # bool (slots): family tie (never cut)
    target_friends: np.ndarray  # int16 (N): friend ties the person wants (its initial count)

    @property
    def n(self) -> int:
        return len(self.indptr) - 1


def _family_pairs(household: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n = len(household)
    src, dst = [], []
    d = 1
    while True:
        same = np.flatnonzero(household[: n - d] == household[d:])
        if same.size == 0:
            break
        src.append(same)
        dst.append(same + d)
        d += 1
    if not src:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    return np.concatenate(src).astype(np.int64), np.concatenate(dst).astype(np.int64)


def _friend_pairs(n_friend_stubs: np.ndarray, persons: Persons, regions: Regions,
                  net: NetworkSection, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    src = np.repeat(np.arange(len(n_friend_stubs), dtype=np.int64), n_friend_stubs)
    k = len(src)
    lo = regions.start[persons.region[src]]
    hi = regions.start[persons.region[src] + 1]
    size = hi - lo
    offset = rng.integers(1, net.window + 1, k) * np.where(rng.random(k) < 0.5, -1, 1)
    local = src + offset
    # wrap around inside the region's index range
    local = lo + np.mod(local - lo, np.maximum(size, 1))
    far = rng.integers(0, len(n_friend_stubs), k)
    dst = np.where(rng.random(k) < net.locality, local, far)
    return src, dst


def build_network(net: NetworkSection, persons: Persons, regions: Regions,
                  rng: np.random.Generator) -> Graph:
    n = persons.count
    fs, fd = _family_pairs(persons.household)
    family_degree = 2.0 * len(fs) / n
    friend_degree = max(net.mean_degree - family_degree, 2.0)
    half = friend_degree / 2.0
    stubs = np.floor(half).astype(np.int64) + (rng.random(n) < (half - np.floor(half)))
    stubs = np.maximum(stubs, 1)
    gs, gd = _friend_pairs(stubs, persons, regions, net, rng)
    # undirected, unique, no self ties; a family pair stays a family tie
    a = np.concatenate([fs, gs])
    b = np.concatenate([fd, gd])
    is_family = np.concatenate([np.ones(len(fs), bool), np.zeros(len(gs), bool)])
    keep = a != b
    a, b, is_family = a[keep], b[keep], is_family[keep]
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    key = lo * n + hi
    order = np.lexsort((~is_family, key))  # family first within a duplicated key
    key, is_family = key[order], is_family[order]
    first = np.ones(len(key), bool)
    first[1:] = key[1:] != key[:-1]
    key, is_family = key[first], is_family[first]
    lo, hi = key // n, key % n
    # directed slots, grouped by source
    src = np.concatenate([lo, hi])
    dst = np.concatenate([hi, lo])
    fam = np.concatenate([is_family, is_family])
    order = np.argsort(src, kind="stable")
    src, dst, fam = src[order], dst[order], fam[order]
    degree = np.bincount(src, minlength=n)
    capacity = degree + net.slack
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(capacity, out=indptr[1:])
    nbr = np.full(int(indptr[-1]), -1, dtype=np.int32)
    family = np.zeros(int(indptr[-1]), dtype=bool)
    start_of_src = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(degree, out=start_of_src[1:])
    pos = indptr[src] + (np.arange(len(src)) - start_of_src[src])
    nbr[pos] = dst
    family[pos] = fam
    friends = np.bincount(src[~fam], minlength=n).astype(np.int16)
    if capacity.max() > LANE_MASK:
        raise ValueError(f"a person holds {capacity.max()} tie slots; at most {LANE_MASK} are supported")
    return Graph(indptr=indptr, nbr=nbr, family=family, target_friends=friends)


LANE = 12  # bits per packed counter: up to 4095 ties a person
LANE_MASK = (1 << LANE) - 1
MAX_LANES = 64 // LANE


def spread_table(n_bits: int) -> np.ndarray:
    """spread[v] puts bit b of v into the b-th 12-bit lane of a uint64 (counters add lane-wise)."""
    assert n_bits <= MAX_LANES
    v = np.arange(1 << n_bits, dtype=np.uint64)
    out = np.zeros(1 << n_bits, dtype=np.uint64)
    for b in range(n_bits):
        out |= ((v >> np.uint64(b)) & np.uint64(1)) << np.uint64(LANE * b)
    return out


@nb.njit(parallel=True, cache=True)
def _pack(listed, acted, observed, n_bits, flags):
    """flags[j] = acted bits | observed bits << n_bits | listed << 2 n_bits: one gather per tie."""
    low = (1 << n_bits) - 1
    for j in nb.prange(len(flags)):
        flags[j] = (acted[j] & low) | ((observed[j] & low) << n_bits) | (np.uint16(listed[j]) << (2 * n_bits))


def aggregate(indptr, nbr, family, score, listed, acted, observed, spread,
              tie_mean, listed_ties, degree, friend_degree, did_count, obs_count):
    """One pass over every tie: what each person sees of its ties.

    tie_mean: mean score of the ties (own score where none); listed_ties: blacklisted ties;
    degree, friend_degree: live ties; did_count[b, i], obs_count[b, i]: ties whose bit b
    (b < did_count.shape[0]) was set in `acted` / `observed` last step.  The bit counts are
    accumulated in 12-bit lanes of one uint64 each (`spread_table`).
    """
    n_bits = did_count.shape[0]
    assert 3 * n_bits <= 16
    flags = np.empty(len(score), np.uint16)
    _pack(listed, acted, observed, n_bits, flags)
    _aggregate(indptr, nbr, family, score, flags, n_bits, spread, tie_mean, listed_ties, degree,
               friend_degree, did_count, obs_count)


@nb.njit(parallel=True, cache=True)
def _aggregate(indptr, nbr, family, score, flags, n_bits, spread,
               tie_mean, listed_ties, degree, friend_degree, did_count, obs_count):
    n = len(indptr) - 1
    low = (1 << n_bits) - 1
    for i in nb.prange(n):
        s = 0.0
        k = 0
        f = 0
        lt = 0
        dacc = np.uint64(0)
        oacc = np.uint64(0)
        for slot in range(indptr[i], indptr[i + 1]):
            j = nbr[slot]
            if j < 0:
                continue
            k += 1
            if not family[slot]:
                f += 1
            s += score[j]
            fl = flags[j]
            lt += fl >> (2 * n_bits)
            dacc += spread[fl & low]
            oacc += spread[(fl >> n_bits) & low]
        tie_mean[i] = s / k if k > 0 else score[i]
        listed_ties[i] = lt
        degree[i] = k
        friend_degree[i] = f
        for b in range(n_bits):
            shift = np.uint64(LANE * b)
            did_count[b, i] = (dacc >> shift) & np.uint64(LANE_MASK)
            obs_count[b, i] = (oacc >> shift) & np.uint64(LANE_MASK)
