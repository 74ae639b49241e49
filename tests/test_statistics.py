"""Statistical expectations, with tolerances derived from the sample size (4 standard errors)."""

from __future__ import annotations

import math

import numpy as np

import credsim
from credsim import Simulation, load_scenario

N = 3000


def totals(result, col):
    return int(round((result.timeseries[col] * result.scenario.population.agents).sum()))


def test_observed_rate_is_true_rate_times_coverage():
    cov = 0.5
    r = credsim.run("baseline", agents=N, steps=24, seed=2, **{
        "channels.payments.enabled": True, "channels.payments.coverage": cov})
    true, seen = totals(r, "late_bill_rate"), totals(r, "late_bill_observed_rate")
    assert true > 1000
    sd = math.sqrt(true * cov * (1 - cov))
    assert abs(seen - cov * true) < 4 * sd, (seen, cov * true, sd)
    assert r.timeseries["records_true"].sum() == seen  # no other channel records anything


def test_camera_observation_is_coverage_times_hit_rate():
    cov, hit = 0.6, 0.9
    r = credsim.run("baseline", agents=N, steps=24, seed=4, **{
        "channels.cameras.enabled": True, "channels.cameras.coverage": cov,
        "channels.rural_camera_factor": 1.0, "recognition.hit_rate": hit})
    true, seen = totals(r, "misconduct_rate"), totals(r, "misconduct_observed_rate")
    p = cov * hit
    assert abs(seen - p * true) < 4 * math.sqrt(true * p * (1 - p))
    assert r.timeseries["coverage_cameras"].iloc[-1] == np.float32(cov)


def test_false_matches_follow_poisson_rate_and_human_review():
    cov, fmr, scans, review, steps = 0.5, 1e-3, 20.0, 0.5, 24
    r = credsim.run("baseline", agents=N, steps=steps, seed=8, **{
        "channels.cameras.enabled": True, "channels.cameras.coverage": cov,
        "channels.rural_camera_factor": 1.0, "recognition.false_match_rate": fmr,
        "recognition.scans_per_month": scans, "recognition.human_review": review})
    expected = N * cov * scans * fmr * steps * (1 - review)
    got = r.timeseries["records_false"].sum()
    assert abs(got - expected) < 4 * math.sqrt(expected), (got, expected)
    reviewed = r.timeseries["false_matches_reviewed_out"].sum()
    assert abs(reviewed - expected) < 4 * math.sqrt(expected)
    none = credsim.run("baseline", agents=N, steps=6, seed=8, **{
        "channels.cameras.enabled": True, "channels.cameras.coverage": cov,
        "recognition.false_match_rate": fmr, "recognition.human_review": 1.0})
    assert none.timeseries["records_false"].sum() == 0


def test_rollout_reaches_pilot_regions_first():
    sc = load_scenario("baseline", overrides={
        "population.agents": N, "run.steps": 6, "channels.payments.enabled": True,
        "channels.payments.coverage": 0.8,
        "channels.payments.schedule": {"pilot_start": 0, "national_start": 4, "ramp": 0}})
    sim = Simulation(sc)
    regions = sim.society.regions
    pilot_share = regions.size[regions.pilot].sum() / N
    rows = [sim.step() for _ in range(6)]
    for row in rows[:4]:
        assert math.isclose(row["coverage_payments"], 0.8 * pilot_share, rel_tol=1e-5)
    assert math.isclose(rows[4]["coverage_payments"], 0.8, rel_tol=1e-5)


def test_court_defaults_are_listed_and_leave_when_paid():
    r = credsim.run("court-blacklist", agents=20000, steps=36, seed=1)
    ts = r.timeseries
    entries = ts["blacklist_inflow"].sum()
    defaults = totals(r, "court_default_rate")
    assert entries == defaults  # court coverage 1: every default is listed at once
    assert ts["blacklist_outflow"].sum() > 0
    assert (ts["blacklist_share"].diff().dropna() * 20000).round().astype(int).tolist() == \
        (ts["blacklist_inflow"] - ts["blacklist_outflow"]).iloc[1:].tolist()
