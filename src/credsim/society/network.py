"""The social network: family cliques and local friend ties, stored as slotted CSR arrays.

Each person owns a fixed run of slots `indptr[i]:indptr[i+1]` (initial degree plus `slack`
free slots).  A slot holds a neighbour index or -1 (free).  Ties are undirected: both ends
hold a slot.  A row keeps its live ties first: `indptr[i]:indptr[i] + degree_i` holds them
and the rest of the row is free, so a pass over a row stops at its first free slot.  Cutting
a tie frees both slots, and each takes its row's last live tie; forming one fills the first
free slot at both ends, so the arrays never move during a run.  Family ties are never cut.

Friend ties are drawn mostly inside a window of nearby indices of the same region (persons
are laid out region by region, household by household), which clusters them the way a small
world does and keeps every tie read local in memory; a share `1 - locality` of ties are
long-range.  Long-range ties come in bundles, as they do between real communities (a migrant's
home village, a workplace across town): the population is cut into communities of
`2 * window` consecutive persons, each community is paired with `partners` communities drawn
at random from the whole population, and a long-range tie goes to a random member of one of
its community's partners.  The network stays a small world (every community is a few random
shortcuts from any other), and reading a community's long-range ties touches a few contiguous
runs of memory instead of one random place per tie.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba as nb
import numpy as np

from ..scenario.schema import NetworkSection
from ..randomness import agent_seed, step_key, uniform
from .population import Persons, Regions


@dataclass
class Graph:
    indptr: np.ndarray   # int64 (N+1)
    nbr: np.ndarray      # int32 (slots): neighbour or -1
    family: np.ndarray   # bool (slots): family tie (never cut)
    target_friends: np.ndarray  # int16 (N): friend ties the person wants (its initial count)
    partner_key: np.uint64 = np.uint64(0)  # the key that pairs communities (`stub_target`)

    @property
    def n(self) -> int:
        return len(self.indptr) - 1

    @property
    def n_family(self) -> np.ndarray:
        """int32 (N): family ties of each person, all live (family ties are never cut), counted
        once per family array (a graph swapped in, as the Granovetter check does, counts anew)."""
        if getattr(self, "_n_family_of", None) is not self.family:
            self._n_family = family_counts(self.indptr, self.family)
            self._n_family_of = self.family
        return self._n_family


@nb.njit(parallel=True, cache=True)
def pack_rows(indptr, nbr, family):
    """Move every row's live ties to its front, in their order, and free the rest (for slot
    arrays from elsewhere, such as a checkpoint from before the rows were kept so)."""
    for i in nb.prange(len(indptr) - 1):
        w = indptr[i]
        for s in range(indptr[i], indptr[i + 1]):
            if nbr[s] >= 0:
                nbr[w] = nbr[s]
                family[w] = family[s]
                w += 1
        for s in range(w, indptr[i + 1]):
            nbr[s] = -1
            family[s] = False


_SENTINEL = np.uint64(0xFFFFFFFFFFFFFFFF)
_LOW32 = np.uint64(0xFFFFFFFF)


@nb.njit(inline="always")
def _edge_key(a, b, friend):
    """An undirected tie as one sortable word: lower end, higher end, then 0 for family."""
    lo, hi = min(a, b), max(a, b)
    return (np.uint64(lo) << np.uint64(33)) | (np.uint64(hi) << np.uint64(1)) | np.uint64(friend)


@nb.njit(cache=True)
def _family_edges(household, keys):
    """Every pair of members of a household (households are contiguous runs)."""
    n = len(household)
    k = 0
    start = 0
    for i in range(1, n + 1):
        if i == n or household[i] != household[start]:
            for x in range(start, i):
                for y in range(x + 1, i):
                    keys[k] = _edge_key(x, y, 0)
                    k += 1
            start = i
    return k


@nb.njit(cache=True)
def _family_count(household):
    n = len(household)
    k = 0
    start = 0
    for i in range(1, n + 1):
        if i == n or household[i] != household[start]:
            size = i - start
            k += size * (size - 1) // 2
            start = i
    return k


@nb.njit(parallel=True, cache=True)
def _friend_stubs(key, half, stubs):
    whole = int(half)
    frac = half - whole
    for i in nb.prange(len(stubs)):
        extra = 1 if uniform(agent_seed(key, i), 0) < frac else 0
        stubs[i] = max(whole + extra, 1)


BUNDLE_SPREAD = 8  # a long-range tie lands at most this many places from i's own position


@nb.njit(inline="always")
def stub_target(partner_key, i, lo, size, n, window, locality, partners, u1, u2, u3):
    """Where a friend stub of i lands, given three uniforms.

    Local (u1 < locality): a person at most `window` places away in i's region (lo, size),
    wrapping inside it.  Long-range: partner number floor(u3 * partners) of i's community c
    (communities are runs of 2 * window persons; partner k of c is community
    floor(uniform(agent_seed(partner_key, c), k) * communities)), at i's own position in c
    moved by off = floor(u2 * (2 * BUNDLE_SPREAD + 1)) - BUNDLE_SPREAD, wrapping inside the
    partner: the long-range ties of neighbouring persons land on neighbouring persons, so a
    pass over the persons in order reads the partners in order too.
    """
    if u1 < locality:
        off = 1 + int(u2 * window)
        if u3 < 0.5:
            off = -off
        return lo + (i - lo + off) % size
    width = 2 * window
    communities = (n + width - 1) // width
    k = min(int(u3 * partners), partners - 1)
    p = min(int(uniform(agent_seed(partner_key, i // width), k) * communities), communities - 1)
    start = p * width
    members = min(width, n - start)
    off = min(int(u2 * (2 * BUNDLE_SPREAD + 1)), 2 * BUNDLE_SPREAD) - BUNDLE_SPREAD
    return start + (i - (i // width) * width + off) % members


@nb.njit(parallel=True, cache=True)
def _friend_edges(key, partner_key, first, region, region_start, window, locality, partners, keys):
    """Stub t of person i goes where `stub_target` puts it; self-ties become sentinels."""
    n = len(region)
    for i0 in nb.prange(n):
        i = np.int64(i0)
        s = agent_seed(key, i)
        lo = region_start[region[i]]
        size = region_start[region[i] + 1] - lo
        for t in range(first[i + 1] - first[i]):
            j = stub_target(partner_key, i, lo, size, n, window, locality, partners,
                            uniform(s, 3 * t + 1), uniform(s, 3 * t + 2), uniform(s, 3 * t + 3))
            keys[first[i] + t] = _SENTINEL if j == i else _edge_key(i, j, 1)


@nb.njit(cache=True)
def _unique(keys, degree):
    """Compact sorted keys to one per tie (the family one where both exist); count degrees."""
    m = 0
    prev = _SENTINEL
    for k in range(len(keys)):
        key = keys[k]
        if key == _SENTINEL:
            break
        pair = key >> np.uint64(1)
        if pair == prev:
            continue
        prev = pair
        keys[m] = key
        m += 1
        degree[np.int64(key >> np.uint64(33))] += 1
        degree[np.int64(pair & _LOW32)] += 1
    return m


@nb.njit(cache=True)
def _fill(keys, m, indptr, nbr, family):
    pos = indptr[:-1].copy()
    for k in range(m):
        key = keys[k]
        lo = np.int64(key >> np.uint64(33))
        hi = np.int64((key >> np.uint64(1)) & _LOW32)
        fam = (key & np.uint64(1)) == 0
        nbr[pos[lo]] = hi
        family[pos[lo]] = fam
        pos[lo] += 1
        nbr[pos[hi]] = lo
        family[pos[hi]] = fam
        pos[hi] += 1


def build_network(net: NetworkSection, persons: Persons, regions: Regions,
                  rng: np.random.Generator) -> Graph:
    n = persons.count
    if n >= 2**31:
        raise ValueError(f"at most {2**31 - 1} persons are supported, not {n}")
    n_family = _family_count(persons.household)
    family_degree = 2.0 * n_family / n
    friend_degree = max(net.mean_degree - family_degree, 2.0)
    stubs = np.empty(n, np.int32)
    _friend_stubs(step_key(rng), friend_degree / 2.0, stubs)
    first = np.zeros(n + 1, np.int64)
    np.cumsum(stubs, out=first[1:])
    del stubs
    keys = np.empty(n_family + int(first[-1]), np.uint64)
    _family_edges(persons.household, keys[:n_family])
    stub_key = step_key(rng)
    partner_key = step_key(rng)
    _friend_edges(stub_key, partner_key, first, persons.region, regions.start, net.window,
                  net.locality, net.partners, keys[n_family:])
    del first
    keys.sort()
    degree = np.zeros(n, np.int64)
    m = _unique(keys, degree)
    capacity = degree + net.slack
    if capacity.max() > LANE_MASK:
        raise ValueError(f"a person holds {capacity.max()} tie slots; at most {LANE_MASK} are supported")
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(capacity, out=indptr[1:])
    nbr = np.full(int(indptr[-1]), -1, dtype=np.int32)
    family = np.zeros(int(indptr[-1]), dtype=bool)
    _fill(keys, m, indptr, nbr, family)
    del keys
    friends = _friend_counts(indptr, nbr, family)
    return Graph(indptr=indptr, nbr=nbr, family=family, target_friends=friends,
                 partner_key=partner_key)


@nb.njit(parallel=True, cache=True)
def _friend_counts(indptr, nbr, family):
    out = np.empty(len(indptr) - 1, np.int16)
    for i in nb.prange(len(out)):
        k = 0
        for s in range(indptr[i], indptr[i + 1]):
            if nbr[s] >= 0 and not family[s]:
                k += 1
        out[i] = k
    return out


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
def _pack(score, lo, scale, listed, acted, observed, n_bits, words):
    """words[j]: person j's score in fixed point (high 32 bits) and its flags (low 16: acted
    bits, observed bits, listed), so reading a tie is one 8-byte gather."""
    low = (1 << n_bits) - 1
    for j in nb.prange(len(words)):
        q = np.uint64(max((score[j] - lo) * scale, 0.0))
        flags = (acted[j] & low) | ((observed[j] & low) << n_bits) | (np.uint16(listed[j]) << (2 * n_bits))
        words[j] = (q << np.uint64(32)) | np.uint64(flags)


@nb.njit(inline="always")
def lane(packed, b):
    """Counter b of a word of 12-bit lanes (`spread_table`), as an int32 (AVX2 converts those
    to floats, so loops over persons that use it vectorise)."""
    return np.int32((packed >> np.uint64(LANE * b)) & np.uint64(LANE_MASK))


@nb.njit(parallel=True, cache=True)
def family_counts(indptr, family):
    """Family ties of each person (never cut, so fixed for a run)."""
    out = np.empty(len(indptr) - 1, np.int32)
    for i in nb.prange(len(out)):
        k = 0
        for s in range(indptr[i], indptr[i + 1]):
            k += family[s]
        out[i] = k
    return out


def aggregate(indptr, nbr, n_family, score, listed, acted, observed, spread, n_bits,
              tie_mean, listed_ties, degree, friend_degree, did_count, obs_count, words):
    """One pass over every tie: what each person sees of its ties.

    tie_mean: mean score of the ties (own score where none), summed exactly in 32-bit fixed
    point over the range of the scores; listed_ties: blacklisted ties; degree, friend_degree:
    live ties (family ties are never cut: n_family, `Graph.n_family`, are all live);
    did_count[i], obs_count[i]: in lane b (`lane(word, b)`, b < n_bits), the ties whose bit b
    was set in `acted` / `observed` last step (12-bit lanes of one uint64).  words: a buffer of
    N uint64 for each person's packed score and flags.  Returns the least and greatest score.
    """
    assert 3 * n_bits <= 16
    lo, hi = float(score.min()), float(score.max())
    scale = (2.0**32 - 2**10) / max(hi - lo, 1e-30)  # headroom for float rounding
    _pack(score, lo, scale, listed, acted, observed, n_bits, words)
    _aggregate(indptr, nbr, n_family, score, words, lo, scale, n_bits, spread, tie_mean, listed_ties,
               degree, friend_degree, did_count, obs_count)
    return lo, hi


@nb.njit(parallel=True, cache=True)
def _aggregate(indptr, nbr, n_family, score, words, lo, scale, n_bits, spread,
               tie_mean, listed_ties, degree, friend_degree, did_count, obs_count):
    n = len(indptr) - 1
    low = (1 << n_bits) - 1
    mask16 = np.uint64(0xFFFF)
    ulow, ubits, ubits2 = np.uint64(low), np.uint64(n_bits), np.uint64(2 * n_bits)
    for i in nb.prange(n):
        sacc = np.uint64(0)
        k = 0
        lt = 0
        dacc = np.uint64(0)
        oacc = np.uint64(0)
        # unsigned indices: no negative-index wraparound code in the loop (about 15 % faster,
        # and 17 % more for the two lookups in `spread`)
        for slot in range(np.uint64(indptr[i]), np.uint64(indptr[i + 1])):
            j = nbr[slot]
            if j < 0:  # the live ties come first (`Graph`): the rest of the row is free
                break
            k += 1
            w = words[np.uint32(j)]
            sacc += w >> np.uint64(32)
            fl = w & mask16  # unsigned, like every index here
            lt += np.int64(fl >> ubits2)
            dacc += spread[fl & ulow]
            oacc += spread[(fl >> ubits) & ulow]
        # sacc < 2**44: as int64 it converts to a float in one instruction (uint64 takes several)
        tie_mean[i] = lo + (np.int64(sacc) / k) / scale if k > 0 else score[i]
        listed_ties[i] = lt
        degree[i] = k
        friend_degree[i] = k - n_family[i]
        did_count[i] = dacc
        obs_count[i] = oacc
