"""Small per-step computations moved from NumPy calls into compiled loops (fewer calls a step):
each must give exactly, bit for bit, what the NumPy definition it replaced gives."""

from __future__ import annotations

import numpy as np

from credsim.engine.state import BY_JOINT
from credsim.mechanisms import lists, observation, rollout, scoring


def _coverage_reference(t, start, ramp, level, camera, on, cam, boost):
    """The roll-out's coverage as NumPy computed it, every channel at once."""
    ramp, level = ramp[:, None], level[:, None]
    share = np.where(ramp > 0, np.minimum(np.maximum((t - start + 1) / np.maximum(ramp, 1), 0.0), 1.0),
                     (t >= start).astype(np.float64))
    cov = np.minimum(1.0, level * share * (1.0 + boost))
    cov[cam] = cov[cam] * camera
    return np.where(on[:, None], cov, 0.0).astype(np.float32)


def test_coverage_kernel_is_the_definition():
    rng = np.random.default_rng(3)
    seen_ramping = seen_full = seen_capped = 0
    for _ in range(300):
        channels, regions = int(rng.integers(1, 9)), int(rng.integers(1, 50))
        start = rng.integers(0, 40, (channels, regions)).astype(np.int64)
        ramp = np.where(rng.random(channels) < 0.3, 0, rng.integers(1, 30, channels)).astype(np.int64)
        level = np.where(rng.random(channels) < 0.2, 1.0, rng.random(channels))
        camera = np.where(rng.random(regions) < 0.5, 1.0, rng.random(regions))
        on = rng.random(channels) < 0.8
        cam = int(rng.integers(0, channels))
        boost = float(rng.choice([0.0, rng.random(), 1.0 + rng.random()]))
        t = int(rng.integers(0, 60))
        ours = np.empty((channels, regions), np.float32)
        rollout._coverage(t, start, ramp, level, camera, on, cam, boost, ours)
        want = _coverage_reference(t, start, ramp, level, camera, on, cam, boost)
        assert ours.dtype == want.dtype and np.array_equal(ours, want)
        share = (t - start + 1) / np.maximum(ramp, 1)[:, None]
        seen_ramping += int(((share > 0) & (share < 1) & (ramp[:, None] > 0)).sum())
        seen_full += int((want == 1.0).sum())
        seen_capped += int((level[:, None] * (1.0 + boost) > 1.0).sum())
    # every branch is taken: mid-ramp shares, full coverage, the cap at 1 after the boost
    assert min(seen_ramping, seen_full, seen_capped) > 100


def test_company_records_kernel_is_the_definition():
    rng = np.random.default_rng(4)
    for _ in range(50):
        events, m, regions = int(rng.integers(1, 6)), int(rng.integers(0, 300)), int(rng.integers(1, 9))
        did = rng.random((events, m)) < rng.random()
        cov = rng.random((events + 3, regions)).astype(np.float32)
        rows = rng.permutation(events + 3)[:events]
        region = rng.integers(0, regions, m)
        u = rng.random(np.count_nonzero(did), dtype=np.float32)
        kept, ends = observation._company_records(did, cov, rows, region, u)
        # the definition: the doers in (event, company) order, one draw each
        event, who = np.nonzero(did)
        keep = u < cov[rows[event], region[who]]
        for k in range(events):
            assert np.array_equal(kept[ends[k]:ends[k + 1]], who[(event == k) & keep])
        assert ends[0] == 0 and ends[-1] == len(kept) == keep.sum()


def test_false_records_kernel_is_the_definition():
    rng = np.random.default_rng(5)
    for _ in range(50):
        regions = int(rng.integers(1, 12))
        size = rng.integers(1, 500, regions)
        start = np.concatenate([[0], np.cumsum(size)])
        k = rng.poisson(rng.random(regions) * 30)
        total = int(k.sum())
        u = rng.random(2 * total)
        review = float(rng.random())
        idx, reviewed_out = observation._false_records(k, start, size, u, review)
        # the definition: residents drawn from the first half, review from the second
        who = np.repeat(start[:-1], k) + (u[:total] * np.repeat(size, k)).astype(np.int64)
        survived = u[total:] >= review
        assert np.array_equal(idx, np.sort(who[survived]))
        assert reviewed_out == total - survived.sum()
        assert (np.repeat(start[:-1], k) <= who).all() and (who < np.repeat(start[1:], k)).all()


def test_two_runs_of_uniform_draws_are_one_run_of_both():
    """`_false_matches` takes its two runs of draws (residents, then review) in one call."""
    a, b = np.random.default_rng(6), np.random.default_rng(6)
    first, second = a.random(37), a.random(37)
    assert np.array_equal(np.concatenate([first, second]), b.random(74))


def test_joint_representatives_kernel_is_the_definition():
    rng = np.random.default_rng(7)
    for case in range(40):
        n = 500
        reps = np.unique(rng.integers(0, n, int(rng.integers(0, 80))).astype(np.int32))
        scored, list_them = bool(case % 2), bool(case % 4 < 2)
        points, lo, hi = -float(rng.integers(0, 300)), 350.0, 950.0
        personal = rng.uniform(300, 1000, n).astype(np.float32)  # some outside [lo, hi]: clipped
        score = rng.uniform(300, 1000, n).astype(np.float32)
        punished, black = rng.random(n) < 0.2, rng.random(n) < 0.3
        cause = rng.integers(0, 4, n).astype(np.int8)
        want = [a.copy() for a in (personal, score, punished, black, cause)]
        new = lists._joint_representatives(reps, scored, np.float32(points), np.float32(lo), np.float32(hi),
                                           list_them, personal, score, punished, black, cause)
        # the definition, as NumPy computed it
        w_personal, w_score, w_punished, w_black, w_cause = want
        if scored:
            w_personal[reps] = np.clip(w_personal[reps] + points, lo, hi)
            w_score[reps] = np.clip(w_score[reps] + points, lo, hi)
        w_punished[reps] = True
        fresh = reps[~w_black[reps]] if list_them else reps[:0]
        w_black[fresh] = True
        w_cause[fresh] = BY_JOINT
        assert new == len(fresh)
        for a, b in zip((personal, score, punished, black, cause), want):
            assert a.dtype == b.dtype and np.array_equal(a, b)


def test_false_points_kernel_is_the_definition():
    rng = np.random.default_rng(8)
    for _ in range(30):
        n = 200
        idx = np.sort(rng.integers(0, n, int(rng.integers(0, 60))))  # repeats: several records a person
        points = np.float32(-rng.uniform(1, 80))
        personal = rng.uniform(300, 1000, n).astype(np.float32)
        false_points = -rng.uniform(0, 50, n).astype(np.float32)
        flag = rng.random(n) < 0.1
        want = [personal.copy(), false_points.copy(), flag.copy()]
        scoring._false_points(idx, points, personal, false_points, flag)
        np.add.at(want[0], idx, points)
        np.add.at(want[1], idx, points)
        want[2][idx] = True
        for a, b in zip((personal, false_points, flag), want):
            assert np.array_equal(a, b)


def test_company_points_kernel_is_the_definition():
    rng = np.random.default_rng(9)
    for _ in range(30):
        m, events = 300, 5
        did = rng.random((events, m)) < 0.3
        u = rng.random(np.count_nonzero(did), dtype=np.float32)
        kept, ends = observation._company_records(did, rng.random((events, 3)).astype(np.float32),
                                                  np.arange(events), rng.integers(0, 3, m), u)
        points = np.where(rng.random(events) < 0.3, 0.0, -rng.uniform(1, 60, events)).astype(np.float32)
        ours = np.zeros(m, np.float32)
        scoring._company_points(kept, ends, points, ours)
        want = np.zeros(m, np.float32)
        for k in range(events):  # event by event, as the records come
            if points[k]:
                np.add.at(want, kept[ends[k]:ends[k + 1]], float(points[k]))
        assert np.array_equal(ours, want) and (want != 0).any()


def test_representatives_kernel_is_np_unique():
    rng = np.random.default_rng(10)
    for _ in range(50):
        m = int(rng.integers(0, 300))
        representative = rng.integers(0, int(rng.integers(1, 400)), m).astype(np.int32)  # shared ones
        entering = rng.random(m) < rng.random()
        ours, want = lists._representatives(entering, representative), np.unique(representative[entering])
        assert ours.dtype == want.dtype and np.array_equal(ours, want)


def test_observation_tables_are_the_definition():
    rng = np.random.default_rng(11)
    for _ in range(30):
        channels, regions, bits = int(rng.integers(1, 8)), int(rng.integers(1, 60)), int(rng.integers(1, 12))
        coverage_all = rng.random((channels, regions)).astype(np.float32)
        rows = rng.integers(0, channels, bits)
        factor = np.where(rng.random(bits) < 0.5, 1.0, rng.random(bits)).astype(np.float32)
        ours = np.empty((bits, regions), np.float32)
        observation._record_coverage(coverage_all, rows, factor, ours)
        assert np.array_equal(ours, coverage_all[rows] * factor[:, None])
        size = rng.integers(1, 10_000, regions)
        scans, rate = float(rng.uniform(0, 30)), float(rng.uniform(0, 1e-3))
        lam = np.empty(regions)
        observation._false_match_rates(size, coverage_all[0], scans, rate, lam)
        assert np.array_equal(lam, size * coverage_all[0].astype(np.float64) * scans * rate)


def test_mark_is_the_definition():
    rng = np.random.default_rng(12)
    for _ in range(20):
        hits = rng.integers(0, 4, 300).astype(np.uint8)
        idx = rng.integers(0, 300, int(rng.integers(0, 100)))  # repeats: one flag either way
        flag = int(rng.choice([lists.TRUE_HIT, lists.FALSE_HIT]))
        want = hits.copy()
        want[idx] |= np.uint8(flag)
        lists._mark(hits, idx, flag)
        assert np.array_equal(hits, want)
