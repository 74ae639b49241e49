"""Metrics: one row per step (timeseries.parquet) and the end-of-run summary (summary.json).

Rates and shares are fractions of the relevant population in [0, 1]; counts are whole numbers
for the step.  The column list of docs/ODD.md ("Observation") is kept in sync with `step_row`.
"""

from __future__ import annotations

import functools

import numba as nb
import numpy as np

from .engine.bits import bit_counts_into
from .engine.state import ACTION_BITS, RECORD_BITS
from .scenario.events import CHANNELS, PERSON_BAD, PERSON_GOOD
from .society.population import EDUCATION_LEVELS

COUNT_COLUMNS = (
    "blacklist_inflow", "blacklist_outflow", "records_true", "records_false", "innocents_listed",
    "trips_refused", "trips_refused_flight", "trips_refused_rail", "jobs_lost", "hiring_refused",
    "school_refusals", "service_refusals_true", "service_refusals_false", "loans_refused",
    "rewards", "appeals", "appeals_upheld", "exits_by_appeal", "ties_cut", "ties_formed",
    "tie_refusals", "company_blacklist_inflow", "company_blacklist_outflow",
    "false_matches_reviewed_out", "listed_by_association", "timeline_changes",
)

# outcomes whose persistence after a timeline change is measured against the reference run
PERSISTENCE_COLUMNS = (
    "compliance", "late_bill_rate", "misconduct_rate", "dissent_expressed_share",
    "falsification_gap", "internalization_mean", "blacklist_share",
)
PERSISTENCE_YEARS = (1, 5, 10)


@nb.njit(inline="always")
def _sort_key(b):
    """The float32 bit pattern b as an unsigned key in the floats' order."""
    return b ^ np.uint32(0xFFFFFFFF) if b >> 31 else b | np.uint32(0x80000000)


@nb.njit(inline="always")
def _select(hist, rank):
    """The bin holding the element of this rank, and the rank left inside it."""
    below, t = 0, 0
    while below + hist[t] <= rank:
        below += hist[t]
        t += 1
    return t, rank - below


@nb.njit(inline="always")
def _part(p, parts, n):
    """Part p of `parts` of range(n), as unsigned bounds."""
    return np.uint64(p * n // parts), np.uint64((p + 1) * n // parts)


@nb.njit(inline="always")
def _summed(part_hist):
    """The parts' histograms added up (a loop: smaller compiled code than `sum(axis=0)`)."""
    out = part_hist[0].copy()
    for p in range(1, part_hist.shape[0]):
        out += part_hist[p]
    return out


@nb.njit(parallel=True, cache=True)
def _order_stats(x, ranks, parts, out, known):
    """Exact order statistics: out[q] = the float32 bit pattern of x_(ranks[q]), by a radix
    select on the float32 bit patterns taken as keys in the floats' order.  The keys' range is
    measured first, and the levels split the bits that vary (up to 11, 11 and 10 bits), so the
    first level spreads the values over its 2,048 bins and the later levels count only the
    values in the bins that hold a rank: the second pass keeps those values' keys, and the
    third level reads only them, each finding its level-3 row in a table (a search through
    the rows, with a branch each, took 0.2 ms at 1e5 late in a run).  Every pass counts in
    `parts` parallel parts (integer counts: the split cannot change the result; the second
    level's in int32, so x holds fewer than 2**31 values).  known: x's least and greatest value
    as float32 [lo, hi] when the caller has them (the range pass is skipped), else empty."""
    n, r = len(x), len(ranks)
    bits = x.view(np.uint32)
    if len(known) == 2:
        # a zero end may be either signed zero in x (min and max take -0.0 == 0.0): both keys
        ends = known.view(np.uint32)
        zero = np.uint32(0x80000000)
        kmin, kmax = _sort_key(ends[0]), _sort_key(ends[1])
        if ends[0] & np.uint32(0x7FFFFFFF) == 0:
            kmin = zero - np.uint32(1)  # the key of -0.0
        if ends[1] & np.uint32(0x7FFFFFFF) == 0:
            kmax = zero  # the key of 0.0
    else:
        # the range of the keys
        lo_p = np.empty(parts, np.uint32)
        hi_p = np.empty(parts, np.uint32)
        for p in nb.prange(parts):
            a, b = np.uint32(0xFFFFFFFF), np.uint32(0)
            lo, hi = _part(p, parts, n)
            for i in range(lo, hi):
                key = _sort_key(bits[i])
                a = min(a, key)
                b = max(b, key)
            lo_p[p], hi_p[p] = a, b
        kmin, kmax = lo_p.min(), hi_p.max()
    width = 0  # bits of (key - kmin)
    while width < 32 and (np.uint64(kmax - kmin) >> np.uint64(width)) != 0:
        width += 1
    s1 = np.uint32(max(width - 11, 0))  # level 1: d >> s1; level 2: d >> s2 inside; level 3: the rest
    s2 = np.uint32(max(width - 22, 0))
    # level 1
    part1 = np.zeros((parts, 2048), np.int64)
    for p in nb.prange(parts):
        lo, hi = _part(p, parts, n)
        for i in range(lo, hi):
            part1[p, (_sort_key(bits[i]) - kmin) >> s1] += 1
    hist1 = _summed(part1)
    top1 = np.empty(r, np.int64)
    rest = np.empty(r, np.int64)
    row1 = np.full(2048, -1, np.int64)  # level-1 bin -> its row of level 2
    rows1 = 0
    for q in range(r):
        top1[q], rest[q] = _select(hist1, ranks[q])
        if row1[top1[q]] < 0:
            row1[top1[q]] = rows1
            rows1 += 1
    prefix = top1.copy()  # d >> s2 of each rank's element, once known
    if s1 > 0:
        # level 2: the bits between s1 and s2, inside the chosen level-1 bins.  One pass keeps
        # the keys of those bins (part p's at the start of its own range of `chosen`, written
        # without branches: which values fall in them is as good as random), and the later
        # levels read only those
        w2 = s1 - s2
        mask2 = np.uint32((1 << w2) - 1)
        chosen = np.empty(n, np.uint32)
        kept = np.empty(parts, np.uint64)
        part2 = np.zeros((parts, rows1, 1 << w2), np.int32)  # int32: half the cache lines
        for p in nb.prange(parts):
            lo, hi = _part(p, parts, n)
            k = lo
            for i in range(lo, hi):
                d = _sort_key(bits[i]) - kmin
                chosen[k] = d
                k += np.uint64(row1[d >> s1] >= 0)
            kept[p] = k
            for j in range(lo, k):
                d = chosen[j]
                part2[p, row1[d >> s1], (d >> s2) & mask2] += 1
        hist2 = _summed(part2)
        for q in range(r):
            t, rest[q] = _select(hist2[row1[top1[q]]], rest[q])
            prefix[q] = (top1[q] << w2) | t
        if s2 > 0:
            # level 3: the last s2 bits, inside the chosen level-2 bins, each found in a table of
            # (level-2 row, level-2 bin) -> level-3 row (rows2 where none)
            rows2 = 0
            row2 = np.empty(r, np.int64)
            row3 = np.full(rows1 << w2, r, np.int64)
            for q in range(r):
                at = (row1[top1[q]] << w2) | (prefix[q] & mask2)
                if row3[at] == r:
                    row3[at] = rows2
                    rows2 += 1
                row2[q] = row3[at]
            mask3 = np.uint32((1 << s2) - 1)
            part3 = np.zeros((parts, rows2, 1 << s2), np.int64)
            for p in nb.prange(parts):
                lo, _ = _part(p, parts, n)
                for j in range(lo, kept[p]):
                    d = chosen[j]
                    k = row3[(row1[d >> s1] << w2) | ((d >> s2) & mask2)]
                    if k < rows2:  # rare: a level-2 bin holds 1/2048 of its level-1 bin
                        part3[p, k, d & mask3] += 1
            hist3 = _summed(part3)
            for q in range(r):
                t, _ = _select(hist3[row2[q]], rest[q])
                prefix[q] = (prefix[q] << s2) | t
    for q in range(r):
        key = np.uint32(prefix[q]) + kmin  # all values with this key are equal
        out[q] = key & np.uint32(0x7FFFFFFF) if key >> 31 else key ^ np.uint32(0xFFFFFFFF)


def quantiles(x: np.ndarray, qs, bounds: tuple[float, float] | None = None) -> np.ndarray:
    """np.percentile(x, 100 * qs) (linear interpolation), exact, in about two passes over x;
    bounds: x's least and greatest value when known (one pass fewer)."""
    assert len(x) < 2**31  # the radix select's int32 counts (`_order_stats`)
    ranks, frac = _ranks(len(x), tuple(qs))
    # a part per thread of the pool (numba.get_num_threads(), which tells the threads in use,
    # took 36 us a call in a run; the parts cannot change the result)
    parts = nb.config.NUMBA_NUM_THREADS if len(x) >= 1 << 15 else 1
    out = np.empty(len(ranks), np.uint32)
    known = np.array(bounds if bounds is not None else (), dtype=np.float32)
    _order_stats(np.ascontiguousarray(x, dtype=np.float32), ranks, parts, out, known)
    stats = out.view(np.float32).tolist()  # Python floats: the few values need no NumPy calls
    m = len(frac)
    return np.array([a + (b - a) * w for a, b, w in zip(stats[:m], stats[m:], frac)])


@functools.lru_cache(maxsize=64)
def _ranks(n: int, qs: tuple) -> tuple[np.ndarray, list]:
    """The ranks each quantile interpolates between (all the lower ones, then the upper ones)
    and its weight on the upper one, for n values (the same every step: cached)."""
    pos = (n - 1) * np.asarray(qs, dtype=np.float64)
    lo = np.floor(pos).astype(np.int64)
    hi = np.minimum(lo + 1, n - 1)
    return np.concatenate([lo, hi]), (pos - lo).tolist()  # shared by the calls: read, never written


def _share(num, den) -> float:
    return float(num) / float(den) if den else 0.0


PART = 2048  # persons per partial sum, at least; parts: a function of N alone, so the sums do not
MAX_PARTS = 256  # depend on the number of threads (48 equal parts at 1e5 keep 2-8 threads equally busy)


def _parts(n: int) -> int:
    return min(max(n // PART, 1), MAX_PARTS)


# float sums of `_person_sums`
F_SCORE, F_INTERNAL, F_SALIENCE, F_RISK, F_HARDSHIP, F_INCOME, F_DS, F_DSS, F_DST = range(9)
# integer counts; then the persons with each bit of `acted` and of `seen`, and each grade
(I_BLACK, I_RED, I_PRIVATE, I_DEFAULT, I_EMPLOYED, I_ISOLATED, I_LISTED_FRIENDS, I_DEGREE,
 I_FRIENDS) = range(9)
N_ACTED, N_SEEN = len(ACTION_BITS), len(RECORD_BITS)
N_RISK = len(PERSON_BAD)  # rows of `State.risk`
I_ACTED = 9
I_SEEN = I_ACTED + N_ACTED
I_GRADES = I_SEEN + N_SEEN


@nb.njit(parallel=True, cache=True)
def _person_sums(score, tie_mean, degree, friend_degree, black, red, acted, seen, private,
                 default_out, employer, internalization, salience, risk, hardship, income, grade,
                 parts, ftot, itot):
    """Over the persons, in `parts` parts of equal size: fsum[c], isum[c] hold part c's float
    sums (person by person, in order) and integer counts (in loops without branches or
    scattered increments, which vectorise); ftot, itot their totals, the parts added in order
    (as `sum(axis=0)` adds the rows)."""
    n = len(score)
    n_grades = len(itot) - I_GRADES
    fsum = np.empty((parts, len(ftot)))
    isum = np.empty((parts, len(itot)), np.int64)
    for c in nb.prange(parts):
        # unsigned indices: no negative-index fix-up on each of the ~20 loads (a third faster)
        lo, hi = _part(c, parts, n)
        f_s = f_int = f_sal = f_risk = f_hard = f_inc = f_ds = f_dss = f_dst = 0.0
        for i in range(lo, hi):
            s = np.float64(score[i])
            d = np.float64(degree[i])
            f_s += s
            f_int += internalization[i]
            f_sal += salience[i]
            person_risk = 0.0  # a chain of its own, so persons' sums overlap in the pipeline
            for r in range(N_RISK):  # a constant count: the loop unrolls
                person_risk += risk[r, i]
            f_risk += person_risk
            f_hard += hardship[i]
            f_inc += income[i]
            f_ds += d * s
            f_dss += d * s * s
            f_dst += d * s * np.float64(tie_mean[i])
        fsum[c, F_SCORE], fsum[c, F_INTERNAL], fsum[c, F_SALIENCE] = f_s, f_int, f_sal
        fsum[c, F_RISK], fsum[c, F_HARDSHIP], fsum[c, F_INCOME] = f_risk, f_hard, f_inc
        fsum[c, F_DS], fsum[c, F_DSS], fsum[c, F_DST] = f_ds, f_dss, f_dst
        red_n = priv = dflt = empl = deg = fr = blk = iso = lfr = 0
        for i in range(lo, hi):
            b = np.int64(black[i])
            f = np.int64(friend_degree[i])
            red_n += red[i]
            priv += private[i]
            dflt += default_out[i]
            empl += employer[i] >= 0
            deg += degree[i]
            fr += f
            blk += b
            iso += b & (f == 0)
            lfr += b * f
        k = isum[c]
        k[I_BLACK], k[I_RED], k[I_PRIVATE], k[I_DEFAULT], k[I_EMPLOYED] = blk, red_n, priv, dflt, empl
        k[I_ISOLATED], k[I_LISTED_FRIENDS], k[I_DEGREE], k[I_FRIENDS] = iso, lfr, deg, fr
        bit_counts_into(acted, lo, hi, N_ACTED, k, I_ACTED)
        bit_counts_into(seen, lo, hi, N_SEEN, k, I_SEEN)
        for g in range(n_grades):
            t = 0
            for i in range(lo, hi):
                t += grade[i] == g
            k[I_GRADES + g] = t
    ftot[:] = fsum[0]
    itot[:] = isum[0]
    for c in range(1, parts):
        for q in range(len(ftot)):
            ftot[q] += fsum[c, q]
        for q in range(len(itot)):
            itot[q] += isum[c, q]


def person_sums(st, ctx, view, n_grades: int) -> tuple[np.ndarray, np.ndarray]:
    """Sums over the persons (float64) and counts (int64), the same whatever the thread count."""
    n = len(st.score)
    assert st.risk.shape[0] == N_RISK
    ftot, itot = np.empty(9), np.empty(I_GRADES + n_grades, np.int64)
    _person_sums(st.score, view.tie_mean, view.degree, view.friend_degree, st.black, st.red,
                 ctx.acted, ctx.seen, ctx.dissent_private, st.default_out, st.employer,
                 st.internalization, st.salience, st.risk, st.hardship, st.income, st.grade,
                 _parts(n), ftot, itot)
    return ftot, itot


def _rates(k) -> tuple:
    return k[I_ACTED:I_SEEN], k[I_SEEN:I_GRADES]


def assortativity(ds: float, dss: float, dst: float, total: float) -> float:
    """Pearson correlation of scores across the two ends of every tie (0 if scores do not vary),
    from the degree-weighted sums of s, s^2 and s * (mean score of the ties)."""
    if total == 0:
        return 0.0
    mu = ds / total
    var = dss / total - mu * mu
    if var <= 1e-9 * max(1.0, mu * mu):
        return 0.0
    cov = dst / total - mu * mu
    return max(-1.0, min(1.0, float(cov / var)))


def step_row(sim, ctx, view) -> dict:
    st, sc = sim.state, sim.sc
    regions = sim.society.regions
    n = len(st.score)
    grades = sc.scoring.grades
    f, k = person_sums(st, ctx, view, len(grades))
    f, k = f.tolist(), k.tolist()  # Python floats and ints: every value of the row is one
    row: dict = {"step": ctx.t, "year": ctx.t / 12.0}
    q = quantiles(st.score, (0.05, 0.25, 0.5, 0.75, 0.95), view.score_range).tolist()
    row.update(score_mean=f[F_SCORE] / n, score_p05=q[0], score_p25=q[1], score_median=q[2],
               score_p75=q[3], score_p95=q[4])
    for g, count in zip(grades, k[I_GRADES:]):
        row[f"grade_{g.name}_share"] = _share(count, n)
    n_black = k[I_BLACK]
    row["blacklist_share"] = _share(n_black, n)
    row["redlist_share"] = _share(k[I_RED], n)
    acted, seen = _rates(k)
    employed_start = ctx.counts.get("employed_start", 0)
    for ev, bit, rate, observed_rate in _RATE_KEYS:
        den = employed_start if ev == "poor_work" else n
        row[rate] = _share(acted[bit], den)
        row[observed_rate] = _share(seen[bit], den)
    row["dissent_private_share"] = _share(k[I_PRIVATE], n)
    row["dissent_expressed_share"] = row["dissent_rate"]
    row["falsification_gap"] = row["dissent_private_share"] - row["dissent_expressed_share"]
    row["default_outstanding_share"] = _share(k[I_DEFAULT], n)
    for key in COUNT_COLUMNS:
        row[key] = int(ctx.counts.get(key, 0))
    row["innocent_listed_share"] = _share(row["innocents_listed"], n_black)
    row["mean_degree"] = _share(k[I_DEGREE], n)
    row["mean_friend_degree"] = _share(k[I_FRIENDS], n)
    row["listed_isolated_share"] = _share(k[I_ISOLATED], n_black)
    row["listed_friend_degree"] = _share(k[I_LISTED_FRIENDS], n_black)
    row["score_assortativity"] = assortativity(f[F_DS], f[F_DSS], f[F_DST], float(k[I_DEGREE]))
    row["internalization_mean"] = f[F_INTERNAL] / n
    row["salience_mean"] = f[F_SALIENCE] / n
    row["perceived_risk_mean"] = f[F_RISK] / st.risk.size
    row["hardship_mean"] = f[F_HARDSHIP] / n
    row["unemployment_rate"] = 1.0 - _share(k[I_EMPLOYED], n)
    row["income_mean"] = f[F_INCOME] / n
    size = sim.memo("metrics.regions", lambda: regions.size.astype(np.float64))
    # every channel at once: each row summed as the one channel alone would be
    covered = (ctx.coverage_all * size).sum(axis=1) / size.sum()
    row.update(zip(_COVERAGE_KEYS, covered.tolist()))
    row["compliance"] = float(ctx.counts.get("compliance", 0.0))
    row["feedback_boost"] = float(st.boost)
    m = len(st.c_score)
    row["company_blacklist_share"] = _share(np.count_nonzero(st.c_black), m)
    # mean(), without its wrappers (the same sum, divided by the count)
    row["company_score_mean"] = float(st.c_score.sum(dtype=np.float64)) / m if m else float("nan")
    return row


# each action's bit and its two columns; each channel's coverage column
_RATE_KEYS = tuple((ev, ACTION_BITS[ev], f"{ev}_rate", f"{ev}_observed_rate") for ev in PERSON_BAD + PERSON_GOOD)
_COVERAGE_KEYS = tuple(f"coverage_{ch}" for ch in CHANNELS)


def gini(x: np.ndarray) -> float:
    x = np.sort(np.asarray(x, dtype=np.float64))
    n = len(x)
    if n == 0 or x.sum() <= 0:
        return 0.0
    ranks = np.arange(1, n + 1)
    return float((2.0 * (ranks * x).sum() / (n * x.sum())) - (n + 1.0) / n)


def _groups(sim, key: np.ndarray, labels) -> dict:
    st = sim.state
    out = {}
    for code, label in enumerate(labels):
        sel = key == code
        k = np.count_nonzero(sel)
        out[label] = {
            "persons": int(k),
            "score_mean": float(st.score[sel].mean()) if k else None,
            "blacklist_share": _share(np.count_nonzero(st.black[sel]), k),
            "redlist_share": _share(np.count_nonzero(st.red[sel]), k),
            "unemployment_rate": 1.0 - _share(np.count_nonzero(st.employer[sel] >= 0), k),
            "income_mean": float(st.income[sel].mean()) if k else None,
            "refusals_per_person": _share(st.refusals[sel].sum(), k),
            "rewards_per_person": _share(st.rewards[sel].sum(), k),
        }
    return out


def _mobility(sim) -> dict:
    st, bands = sim.state, [g.name for g in sim.sc.scoring.grades]
    start = st.grade_mid if st.grade_mid is not None else np.zeros_like(st.grade)
    k = len(bands)
    counts = np.bincount(start.astype(np.int64) * k + st.grade, minlength=k * k).reshape(k, k)
    rows = counts.sum(axis=1, keepdims=True)
    shares = np.divide(counts, rows, out=np.zeros((k, k)), where=rows > 0)
    return {"from_step": sim.sc.run.steps // 2, "grades": bands,
            "counts": counts.tolist(), "shares": shares.round(6).tolist()}


def _recovery(sim) -> dict:
    h = sim.state.spell_hist
    total = int(h.sum())
    if total == 0:
        return {"spells_completed": 0, "mean_months": None, "median_months": None}
    months = np.arange(len(h))
    cum = np.cumsum(h)
    return {"spells_completed": total, "mean_months": float((h * months).sum() / total),
            "median_months": int(np.searchsorted(cum, (total + 1) / 2))}


SUMMARY_COLUMNS = (
    "score_mean", "blacklist_share", "redlist_share", "late_bill_rate", "misconduct_rate",
    "dissent_private_share", "dissent_expressed_share", "falsification_gap",
    "innocents_listed", "mean_degree", "listed_isolated_share", "score_assortativity",
    "internalization_mean", "coverage_cameras", "company_blacklist_share", "unemployment_rate",
)

TOTAL_COLUMNS = (
    "records_true", "records_false", "blacklist_inflow", "blacklist_outflow", "trips_refused",
    "trips_refused_flight", "trips_refused_rail", "jobs_lost", "hiring_refused",
    "school_refusals", "service_refusals_true", "service_refusals_false", "rewards", "appeals",
    "appeals_upheld", "ties_cut", "ties_formed", "tie_refusals",
)


def final_summary(sim) -> dict:
    st, rows, sc = sim.state, sim.rows, sim.sc
    last = rows[-1] if rows else {}
    tail = rows[-12:]
    out: dict = {
        "final": {k: last.get(k) for k in SUMMARY_COLUMNS},
        "last_year_mean": {k: float(np.mean([r[k] for r in tail])) if tail else None for k in SUMMARY_COLUMNS},
        "totals": {k: int(sum(r[k] for r in rows)) for k in TOTAL_COLUMNS},
        "score_gini": gini(st.score - sc.scoring.min),
        "grade_mobility": _mobility(sim),
        "recovery": _recovery(sim),
        "by_education": _groups(sim, st.initial_education, EDUCATION_LEVELS),
        "by_income_quintile": _groups(sim, st.initial_income_quintile, ("q1", "q2", "q3", "q4", "q5")),
    }
    q = out["by_income_quintile"]
    out["inequality"] = {
        "score_gap_top_minus_bottom_quintile": (q["q5"]["score_mean"] or 0.0) - (q["q1"]["score_mean"] or 0.0),
        "blacklist_share_bottom_over_top_quintile": _share(q["q1"]["blacklist_share"], q["q5"]["blacklist_share"]),
    }
    return out


def persistence(rows: list[dict], lifted: int | None) -> dict:
    """How much of the system's effect remains after the last timeline change.

    effect(t) = outcome(t) - outcome_reference(t); during = mean effect over the 12 months
    before the change; after Y years = mean effect over months [lifted + 12(Y-1), lifted + 12Y);
    remaining = after / during (None where the run ends first or there was no effect).
    """
    if lifted is None or lifted < 1:
        return {"lifted_at_step": lifted, "note": "no timeline change to measure from"}

    def effect(col: str, lo: int, hi: int) -> float | None:
        window = rows[max(lo, 0):hi]
        if hi > len(rows) or not window:
            return None
        return float(np.mean([r[col] - r[f"{col}_reference"] for r in window]))

    out: dict = {"lifted_at_step": lifted, "effect_during": {}, "effect_after": {}, "remaining": {}}
    for col in PERSISTENCE_COLUMNS:
        during = effect(col, lifted - 12, lifted)
        out["effect_during"][col] = during
        for years in PERSISTENCE_YEARS:
            key = f"{years}y"
            after = effect(col, lifted + 12 * (years - 1), lifted + 12 * years)
            out["effect_after"].setdefault(key, {})[col] = after
            ok = after is not None and during is not None and abs(during) > 1e-9
            out["remaining"].setdefault(key, {})[col] = after / during if ok else None
    return out
