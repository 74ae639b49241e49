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
    return Graph(indptr=indptr, nbr=nbr, family=family, target_friends=friends)


@nb.njit(parallel=True, cache=True)
def aggregate(indptr, nbr, family, score, listed, acted, observed, n_bits,
              tie_mean, listed_ties, degree, friend_degree, did_count, obs_count):
    """One pass over every tie: what each person sees of its ties.

    tie_mean: mean score of the ties (own score where none); listed_ties: blacklisted ties;
    degree, friend_degree: live ties; did_count[b, i], obs_count[b, i]: ties whose action
    bit b was set in `acted` / `observed` last step.
    """
    n = len(indptr) - 1
    for i in nb.prange(n):
        s = 0.0
        k = 0
        f = 0
        lt = 0
        dbits = np.zeros(16, np.int32)
        obits = np.zeros(16, np.int32)
        for slot in range(indptr[i], indptr[i + 1]):
            j = nbr[slot]
            if j < 0:
                continue
            k += 1
            if not family[slot]:
                f += 1
            s += score[j]
            if listed[j]:
                lt += 1
            a = acted[j]
            o = observed[j]
            for b in range(n_bits):
                dbits[b] += (a >> b) & 1
                obits[b] += (o >> b) & 1
        tie_mean[i] = s / k if k > 0 else score[i]
        listed_ties[i] = lt
        degree[i] = k
        friend_degree[i] = f
        for b in range(n_bits):
            did_count[b, i] = dbits[b]
            obs_count[b, i] = obits[b]
