"""Policy timelines: changes at a step, refused keys, marks in the outputs, persistence."""

from __future__ import annotations

import pytest

import credsim
from credsim import ScenarioError, load_scenario
from credsim.scenario.timeline import parse_at


@pytest.mark.parametrize("at,step", [(0, 0), (37, 37), ("step 12", 12), ("month 7", 7),
                                     ("year 5", 60), ("year 2.5", 30), ("Year 1", 12)])
def test_parse_at(at, step):
    assert parse_at(at) == step


@pytest.mark.parametrize("at", ["year", "tomorrow", -3, "year 0.1", True])
def test_bad_at_is_refused(at):
    with pytest.raises(ScenarioError) as exc:
        load_scenario({"extends": "seed", "timeline": [{"at": at, "set": {"lists.naming": False}}]})
    assert exc.value.problems[0].key == "timeline[0].at"


@pytest.mark.parametrize("key,value", [("population.agents", 5000), ("network.mean_degree", 4),
                                       ("run.seed", 3), ("scoring.grades", []), ("name", "x")])
def test_keys_that_cannot_change_mid_run_are_refused_by_name(key, value):
    with pytest.raises(ScenarioError) as exc:
        load_scenario({"extends": "seed", "timeline": [{"at": 5, "set": {key: value}}]})
    problem = exc.value.problems[0]
    assert problem.key == f"timeline[0].set.{key}" and "cannot change mid-run" in problem.message


def test_timeline_values_are_validated_like_set():
    with pytest.raises(ScenarioError) as exc:
        load_scenario({"extends": "seed", "timeline": [
            {"at": 5, "set": {"lists.naming": False}},
            {"at": 9, "set": {"lists.min_term": -1, "scoring.decy": 0.1}}]})
    keys = {p.key: p for p in exc.value.problems}
    assert "greater than or equal to 0" in keys["timeline[1].set.lists.min_term"].message
    assert "scoring.decay" in keys["timeline[1].set.scoring.decy"].message


def test_a_change_at_step_k_leaves_earlier_steps_identical():
    k = 9
    plain = credsim.run("seed", agents=2000, steps=15, seed=4)
    changed = credsim.run("seed", agents=2000, steps=15, seed=4, timeline=[
        {"at": k, "set": {"lists.naming": False, "channels.cameras.coverage": 1.0, "behaviour.legitimacy": 0.2}}])
    a, b = plain.timeseries, changed.timeseries
    cols = [c for c in a.columns if c != "timeline_changes"]
    assert a[cols].iloc[:k].equals(b[cols].iloc[:k])
    assert not a[cols].iloc[k:].equals(b[cols].iloc[k:])
    assert b["timeline_changes"].tolist() == [0] * k + [3] + [0] * (15 - k - 1)
    assert changed.summary["timeline"] == [{"step": k, "at": k, "set": {
        "lists.naming": False, "channels.cameras.coverage": 1.0, "behaviour.legitimacy": 0.2}}]


def test_entries_apply_cumulatively_in_order_of_at():
    from credsim.scenario.load import timeline_scenarios

    sc = load_scenario({"extends": "seed", "timeline": [
        {"at": "year 2", "set": {"scoring.decay": 0.2}},
        {"at": 6, "set": {"lists.naming": False}}]})
    (s1, a, _), (s2, b, _) = timeline_scenarios(sc)
    assert (s1, s2) == (6, 24)
    assert not a.lists.naming and a.scoring.decay == sc.scoring.decay
    assert not b.lists.naming and b.scoring.decay == 0.2


def test_extending_a_scenario_adds_to_its_timeline(tmp_path):
    f = tmp_path / "more.toml"
    f.write_text('extends = "seed-reformed"\n[[timeline]]\nat = "year 8"\nset = { "lists.appeals" = false }\n')
    sc = load_scenario(f)
    assert [e.step for e in sc.timeline] == [60, 96]


def test_lifting_the_system_persists_only_through_internalization():
    lift = 36

    def gap_after(internalize: bool) -> tuple[float, float]:
        r = credsim.run("seed-lifted", agents=4000, steps=lift + 18, seed=2,
                        **{"timeline[0].at": lift, "learning.internalize": internalize})
        d = r.timeseries["compliance"] - r.timeseries["compliance_reference"]
        assert r.summary["persistence"]["lifted_at_step"] == lift
        return d.iloc[lift - 12:lift].mean(), d.iloc[lift + 3:lift + 15].mean()

    during_on, after_on = gap_after(True)
    during_off, after_off = gap_after(False)
    assert during_on > 0.1 and during_off > 0.1          # the system raised compliance
    assert abs(after_off) < 0.15 * during_off            # without internalization it snaps back
    assert after_on > 0.3 * during_on                    # with it, much of the effect remains
    assert after_on > after_off + 0.05


def test_seed_lifted_reports_persistence_at_1_5_10_years():
    r = credsim.run("seed-lifted", agents=1500, steps=48, seed=1, **{"timeline[0].at": 24})
    p = r.summary["persistence"]
    assert set(p["remaining"]) == {"1y", "5y", "10y"}
    assert p["remaining"]["1y"]["compliance"] is not None
    assert p["remaining"]["5y"]["compliance"] is None  # the run ends before
    assert {"compliance_reference", "dissent_expressed_share_reference"} <= set(r.timeseries.columns)


def test_errors_name_entries_in_file_order():
    with pytest.raises(ScenarioError) as exc:
        load_scenario({"extends": "seed", "timeline": [
            {"at": 50, "set": {"lists.min_term": -1}},
            {"at": 10, "set": {"lists.naming": False}}]})
    assert exc.value.problems[0].key == "timeline[0].set.lists.min_term"


def test_a_partial_schedule_keeps_the_rest():
    from credsim.scenario.load import timeline_scenarios

    sc = load_scenario({"extends": "seed", "timeline": [
        {"at": 3, "set": {"channels": {"cameras": {"schedule": {"ramp": 5}}}}}]})
    (_, after, n_keys), = timeline_scenarios(sc)
    before = sc.channels.cameras.schedule
    assert n_keys == 1
    assert after.channels.cameras.schedule == before.model_copy(update={"ramp": 5})


def test_entries_beyond_the_run_are_reported_and_not_in_the_reference(tmp_path):
    r = credsim.run("seed-lifted", agents=800, steps=6, seed=1, out=tmp_path / "r")
    assert r.summary["timeline"] == []
    assert r.summary["timeline_not_reached"][0]["at"] == "year 10"
    # the reference is the world the run reaches: here the seed system itself
    ts = r.timeseries
    assert (ts["compliance"] == ts["compliance_reference"]).all()


def test_infinite_values_in_a_timeline_are_written(tmp_path):
    import json

    credsim.run("seed", agents=600, steps=4, out=tmp_path / "r", timeline=[
        {"at": 2, "set": {"lists.black_threshold": float("-inf")}}])
    summary = json.loads((tmp_path / "r" / "summary.json").read_text())
    assert summary["timeline"][0]["set"]["lists.black_threshold"] == "-inf"


def test_parameters_kept_between_steps_follow_a_timeline_change():
    """Simulation.memo keeps a phase's parameters while the scenario in force is the same, and
    makes them again from the new one when a timeline change takes effect (and on resume)."""
    from credsim.engine import Simulation

    sc = load_scenario({"extends": "seed", "population": {"agents": 500}, "run": {"steps": 6},
                        "timeline": [{"at": 3, "set": {"scoring.decay": 0.5, "sanctions.travel.enforcement": 0.25}}]})
    sim = Simulation(sc)
    seen = []
    for _ in range(6):
        sim.step()
        seen.append((sim.memo("scoring", lambda: None), sim.memo("consequences", lambda: None)))
    keep = [float(s[1][3]) for s, _ in seen]  # par[3] = 1 - decay
    assert keep[:3] == [pytest.approx(1.0 - sc.scoring.decay)] * 3 and keep[3:] == [0.5] * 3
    assert [float(c[2][0]) for _, c in seen] == [sc.sanctions.travel.enforcement] * 3 + [0.25] * 3
    assert seen[0][0] is seen[2][0] and seen[3][0] is seen[5][0]  # made once per scenario in force
    sim.resume_scenario()
    assert sim.memo("scoring", lambda: None) is not seen[5][0]  # a new rulebook: made again
