"""The synthetic society: regions, persons and companies, generated as arrays.

Persons are laid out region by region (and household by household inside a region), so a
region is a contiguous index range; companies are laid out region by region too.  That order
is what gives the network and every per-region operation their memory locality.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from ..scenario.schema import PopulationSection

AGE_BAND_SHARES = (0.22, 0.30, 0.28, 0.20)  # 18-29, 30-44, 45-59, 60+
EDUCATION_LEVELS = ("none", "secondary", "bachelor", "postgraduate")


@dataclass
class Regions:
    start: np.ndarray      # int64 (R+1): persons of region r are start[r]:start[r+1]
    urban: np.ndarray      # bool (R)
    pilot: np.ndarray      # bool (R)
    company_start: np.ndarray  # int64 (R+1): companies of region r

    @property
    def count(self) -> int:
        return len(self.urban)

    @functools.cached_property
    def size(self) -> np.ndarray:
        """Persons of each region (made once: `start` is fixed for a run)."""
        return np.diff(self.start)


@dataclass
class Persons:
    region: np.ndarray            # int32
    household: np.ndarray         # int32, contiguous ids
    age_band: np.ndarray          # int8
    education: np.ndarray         # int8, index into EDUCATION_LEVELS
    income_base: np.ndarray       # float32, monthly income when employed
    conscientiousness: np.ndarray  # float32 in [0, 1]
    hardship0: np.ndarray         # float32 in [0, 1]
    risk_aversion: np.ndarray     # float32 in [0, 1]
    dissent_threshold: np.ndarray  # float32
    has_child: np.ndarray         # bool
    employer0: np.ndarray         # int32, company index or -1

    @property
    def count(self) -> int:
        return len(self.region)


@dataclass
class Companies:
    region: np.ndarray       # int32
    public: np.ndarray       # bool: public-sector employer (always checks the blacklist)
    sector: np.ndarray       # int8: 0 public, 1 manufacturing, 2 services, 3 technology
    propensity: np.ndarray   # float32 compliance propensity in [0, 1]
    check_u: np.ndarray      # float32 uniform: a private company checks lists if < private_check
    representative: np.ndarray  # int32 person index (the legal representative)

    @property
    def count(self) -> int:
        return len(self.region)


def make_regions(p: PopulationSection, rng: np.random.Generator) -> Regions:
    n, r = p.agents, p.regions
    weights = rng.lognormal(0.0, p.region_size_sigma, r)
    weights /= weights.sum()
    # every region gets at least one person, the rest by weight
    sizes = 1 + rng.multinomial(n - r, weights) if n >= r else np.ones(r, dtype=np.int64)
    order = np.argsort(-sizes, kind="stable")
    urban = np.zeros(r, dtype=bool)
    urban[order[: int(round(p.urban_share * r))]] = True
    pilot = np.zeros(r, dtype=bool)
    n_pilot = int(round(p.pilot_share * r))
    if p.pilot_share > 0 and n_pilot == 0:
        n_pilot = 1
    pool = np.flatnonzero(urban) if urban.sum() >= n_pilot else np.arange(r)
    if n_pilot:
        pilot[rng.choice(pool, size=n_pilot, replace=False)] = True
    start = np.zeros(r + 1, dtype=np.int64)
    np.cumsum(sizes, out=start[1:])
    companies = np.maximum(1, np.round(sizes / p.persons_per_company)).astype(np.int64)
    company_start = np.zeros(r + 1, dtype=np.int64)
    np.cumsum(companies, out=company_start[1:])
    return Regions(start=start, urban=urban, pilot=pilot, company_start=company_start)


def _households(n: int, mean: float, region_start: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    sizes = 1 + rng.poisson(max(mean - 1.0, 0.0), n)
    starts = np.zeros(n, dtype=bool)
    pos = np.cumsum(sizes) - sizes
    starts[pos[pos < n]] = True
    starts[region_start[:-1][region_start[:-1] < n]] = True
    return (np.cumsum(starts) - 1).astype(np.int32)


def make_persons(p: PopulationSection, regions: Regions, rng: np.random.Generator) -> Persons:
    n = p.agents
    region = np.repeat(np.arange(regions.count, dtype=np.int32), regions.size)
    household = _households(n, p.household_size_mean, regions.start, rng)
    age_band = rng.choice(4, size=n, p=AGE_BAND_SHARES).astype(np.int8)
    education = rng.choice(4, size=n, p=np.asarray(p.education_shares) / sum(p.education_shares)).astype(np.int8)
    median = np.asarray(p.income_median, dtype=np.float64)[education]
    income = (median * np.exp(p.income_sigma * rng.standard_normal(n))).astype(np.float32)
    conscientiousness = rng.beta(5.0, 3.0, n).astype(np.float32)
    # hardship: half idiosyncratic, half the person's place in the income distribution
    rank = np.empty(n, dtype=np.float64)
    rank[np.argsort(income, kind="stable")] = np.arange(n) / max(n - 1, 1)
    hardship0 = (0.5 * rng.random(n) + 0.5 * (1.0 - rank)).astype(np.float32)
    risk_aversion = rng.random(n).astype(np.float32)
    # thresholds are drawn by the dissent model's parameters later (behaviour may change them
    # between scenarios); here a standard normal deviate is stored
    threshold_z = rng.standard_normal(n).astype(np.float32)
    has_child = rng.random(n) < p.child_share
    employed = rng.random(n) < p.employment_rate
    return Persons(
        region=region,
        household=household,
        age_band=age_band,
        education=education,
        income_base=income,
        conscientiousness=conscientiousness,
        hardship0=hardship0,
        risk_aversion=risk_aversion,
        dissent_threshold=threshold_z,
        has_child=has_child,
        employer0=np.where(employed, 0, -1).astype(np.int32),
    )


def make_companies(p: PopulationSection, regions: Regions, persons: Persons, rng: np.random.Generator) -> Companies:
    m = int(regions.company_start[-1])
    region = np.repeat(np.arange(regions.count, dtype=np.int32), np.diff(regions.company_start))
    public = rng.random(m) < p.public_sector_share
    sector = np.where(public, 0, rng.integers(1, 4, m)).astype(np.int8)
    propensity = rng.beta(4.0, 2.0, m).astype(np.float32)
    check_u = rng.random(m).astype(np.float32)
    # company sizes are heavy-tailed; employees pick a company of their own region by size
    weight = rng.pareto(1.2, m) + 1.0
    per_region = np.diff(regions.company_start)
    cum = np.cumsum(weight)
    before = cum[regions.company_start[:-1]] - weight[regions.company_start[:-1]]
    totals = np.add.reduceat(weight, regions.company_start[:-1])
    # key runs through (r, r+1] over the companies of region r, in proportion to size
    key = region + (cum - np.repeat(before, per_region)) / np.repeat(totals, per_region)
    employed = persons.employer0 >= 0
    u = persons.region[employed] + rng.random(int(employed.sum())) * (1 - 1e-12)
    pick = np.searchsorted(key, u, side="right").astype(np.int32)
    np.minimum(pick, regions.company_start[persons.region[employed] + 1] - 1, out=pick)
    persons.employer0[employed] = pick
    representative = _representatives(persons, regions, region, rng)
    return Companies(region=region, public=public, sector=sector, propensity=propensity,
                     check_u=check_u, representative=representative)


def _representatives(persons: Persons, regions: Regions, company_region: np.ndarray, rng) -> np.ndarray:
    """A random employee of each company; a random resident where it has none."""
    m = len(company_region)
    employed = np.flatnonzero(persons.employer0 >= 0)
    order = employed[np.argsort(persons.employer0[employed], kind="stable")]
    counts = np.bincount(persons.employer0[order], minlength=m)
    first = np.zeros(m + 1, dtype=np.int64)
    np.cumsum(counts, out=first[1:])
    u = rng.random(m)
    rep = np.empty(m, dtype=np.int32)
    has = counts > 0
    rep[has] = order[first[:-1][has] + (u[has] * counts[has]).astype(np.int64)]
    lo = regions.start[company_region[~has]]
    size = regions.start[company_region[~has] + 1] - lo
    rep[~has] = lo + (u[~has] * size).astype(np.int64)
    return rep
