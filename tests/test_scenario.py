"""Scenario loading and validation: built-ins, extends, --set, and errors that name the key."""

from __future__ import annotations

import pytest

from credsim import ScenarioError, builtin_names, load_scenario, to_toml
from credsim.scenario import scenario_hash
from credsim.scenario.load import parse_assignment

BUILTINS = ["baseline", "sesame", "court-blacklist", "rongcheng", "seed", "safeguards",
            "seed-lifted", "seed-reformed"]


def test_the_six_builtins_ship_and_validate():
    assert builtin_names() == BUILTINS
    for name in BUILTINS:
        sc = load_scenario(name)
        assert sc.name == name
        assert sc.population.agents >= 100_000
        assert sc.run.steps == (240 if name == "seed-lifted" else 120)


def test_builtins_differ_as_the_model_says():
    base, seed, safe = (load_scenario(n) for n in ("baseline", "seed", "safeguards"))
    sesame, court, rong = (load_scenario(n) for n in ("sesame", "court-blacklist", "rongcheng"))
    assert not base.scoring.enabled and not base.rules and not base.lists.blacklist
    assert not any(getattr(base.channels, c).enabled for c in ("payments", "online", "cameras", "court"))
    assert seed.feedback.enabled and seed.lists.naming and seed.scoring.network_weight > 0
    assert seed.recognition.false_match_rate > 0 and seed.channels.cameras.enabled
    assert any(r.event == "dissent" and r.points < 0 for r in seed.rules)
    assert safe.lists.appeals and not safe.lists.naming and safe.scoring.network_weight == 0
    assert safe.scoring.decay > seed.scoring.decay and safe.recognition.human_review > 0
    assert (sesame.scoring.min, sesame.scoring.max) == (350, 950)
    assert [c for c in ("payments", "employer", "online", "cameras", "court", "regulator")
            if getattr(sesame.channels, c).enabled] == ["payments"]
    assert not court.scoring.enabled and court.sanctions.travel.enabled
    assert {r.event for r in court.rules if r.lists} == {"court_default", "company_court_default"}
    assert rong.scoring.base == 1000 and [g.name for g in rong.scoring.grades][:3] == ["AAA", "AA", "A"]
    assert {k.name: k.points for r in rong.rules for k in r.kinds}["bank_loan_arrears"] == -10


def test_resolved_toml_round_trips():
    for name in BUILTINS:
        sc = load_scenario(name)
        again = load_scenario(dict(__import__("tomllib").loads(to_toml(sc))))
        assert again == sc
        assert scenario_hash(again) == scenario_hash(sc)


def _problems(excinfo):
    return {p.key: p for p in excinfo.value.problems}


def test_misspelled_key_names_it_and_suggests():
    with pytest.raises(ScenarioError) as exc:
        load_scenario("seed", sets=["scoring.decy=0.1"])
    p = _problems(exc)["scoring.decy"]
    assert p.value == 0.1
    assert "scoring.decay" in p.message and "network_weight" in p.message


def test_out_of_range_value_names_key_value_and_allowed():
    with pytest.raises(ScenarioError) as exc:
        load_scenario("seed", sets=["lists.min_term=-3", "channels.cameras.coverage=1.5"])
    probs = _problems(exc)
    assert probs["lists.min_term"].value == -3 and "greater than or equal to 0" in probs["lists.min_term"].message
    assert probs["channels.cameras.coverage"].value == 1.5
    assert "less than or equal to 1" in probs["channels.cameras.coverage"].message
    text = str(exc.value)
    assert "lists.min_term = -3" in text


def test_wrong_type_and_unknown_section():
    with pytest.raises(ScenarioError) as exc:
        load_scenario({"extends": "seed", "scoring": {"enabled": "perhaps"}, "sanctionz": {}})
    probs = _problems(exc)
    assert "scoring.enabled" in probs and probs["scoring.enabled"].value == "perhaps"
    assert "did you mean 'sanctions'" in probs["sanctionz"].message


def test_rule_must_use_its_events_channel():
    with pytest.raises(ScenarioError) as exc:
        load_scenario({"rules": [{"event": "dissent", "channel": "payments", "points": -5}]})
    assert "observed through channel 'online'" in str(exc.value)
    with pytest.raises(ScenarioError) as exc:
        load_scenario({"rules": [{"event": "jaywalking", "channel": "cameras"}]})
    assert "rules[0].event" in _problems(exc)


def test_cross_field_checks():
    for sets, words in ((["scoring.min=2000", "scoring.max=100"], "must be below max"),
                        (["lists.exit_threshold=100"], "must not be below black_threshold"),
                        (["population.education_shares=[0.5,0.5,0.5,0.5]"], "sum to 1")):
        with pytest.raises(ScenarioError, match=words):
            load_scenario("seed", sets=sets)


def test_unknown_scenario_suggests_builtin():
    with pytest.raises(ScenarioError, match="did you mean 'seed'"):
        load_scenario("sed")


def test_extends_a_file_and_overrides(tmp_path):
    (tmp_path / "parent.toml").write_text('extends = "seed"\n[lists]\nnaming = false\n')
    (tmp_path / "child.toml").write_text('extends = "parent.toml"\n[scoring]\ndecay = 0.5\n')
    sc = load_scenario(tmp_path / "child.toml")
    assert sc.name == "child"
    assert sc.scoring.decay == 0.5 and not sc.lists.naming and sc.feedback.enabled


def test_extends_cycle_is_an_error(tmp_path):
    (tmp_path / "a.toml").write_text('extends = "b.toml"\n')
    (tmp_path / "b.toml").write_text('extends = "a.toml"\n')
    with pytest.raises(ScenarioError, match="cycle"):
        load_scenario(tmp_path / "a.toml")


def test_bad_toml_is_an_error(tmp_path):
    f = tmp_path / "bad.toml"
    f.write_text("[scoring\nbase = 1")
    with pytest.raises(ScenarioError, match="not valid TOML"):
        load_scenario(f)


@pytest.mark.parametrize("text,key,value", [
    ("scoring.network_weight=0", "scoring.network_weight", 0),
    ("lists.naming=false", "lists.naming", False),
    ("name=my run", "name", "my run"),
    ("population.education_shares=[0.25,0.25,0.25,0.25]", "population.education_shares", [0.25] * 4),
])
def test_parse_assignment(text, key, value):
    assert parse_assignment(text) == (key, value)


def test_set_indexes_rules():
    sc = load_scenario("seed", sets=["rules[0].points=-99", "rules.1.lists=true"])
    assert sc.rules[0].points == -99 and sc.rules[1].lists
    with pytest.raises(ScenarioError, match="out of range"):
        load_scenario("seed", sets=["rules[99].points=1"])
