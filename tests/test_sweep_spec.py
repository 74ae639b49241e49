"""The sweep file: every mistake names the key, the value given and what is allowed (exit 2)."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from credsim.cli import app
from credsim.sweep import SweepError, parse_spec, plan_sweep

runner = CliRunner()

OUTCOMES = {"blacklist_share": "final"}


def problems(data: dict) -> str:
    with pytest.raises(SweepError) as info:
        parse_spec({"scenario": "seed", "outcomes": OUTCOMES, **data})
    return str(info.value)


def test_the_expansion_rule():
    spec = parse_spec({"scenario": "seed", "outcomes": {"blacklist_share": ["final", "mean"]}, "parameters": {
        "population.agents": 500,                                  # a value: a constant
        "scoring": {"network_weight": [0.0, 0.2]},                 # a list: a grid axis (TOML dotted key)
        "lists.naming": {"values": [True, False], "role": "lever"},
        "scoring.decay": {"range": [0.0, 0.1], "role": "uncertainty"},  # a range: sampled
        "population.education_shares": {"value": [0.25, 0.25, 0.25, 0.25]},  # a list as a constant
    }, "sampler": {"method": "latin", "n": 4}})
    kinds = {k: p.kind for k, p in spec.parameters.items()}
    assert kinds == {"population.agents": "constant", "scoring.network_weight": "grid", "lists.naming": "grid",
                     "scoring.decay": "sampled", "population.education_shares": "constant"}
    assert spec.parameters["lists.naming"].role == "lever" and spec.parameters["scoring.decay"].role == "uncertainty"
    assert spec.measures == ["blacklist_share_final", "blacklist_share_mean"]
    assert (spec.replicates, spec.seed, spec.retries, spec.name) == (1, 1, 2, "sweep")


@pytest.mark.parametrize("data, expected", [
    ({"replicate": 3}, ["replicate = 3", "did you mean 'replicates'?"]),
    ({"replicates": 0}, ["replicates = 0", "greater than or equal to 1"]),
    ({"outcomes": {"blacklist_share": "fnal"}}, ["outcomes.blacklist_share[0] = 'fnal'", "'final'", "'last_year'"]),
    ({"outcomes": {"blacklist_share": ["final", "final"]}}, ["outcomes.blacklist_share", "distinct"]),
    ({"outcomes": {}}, ["outcomes", "at least one"]),
    ({"parameters": {"lists.naming": {"values": [True], "rol": "lever"}}},
     ['parameters."lists.naming".rol', "did you mean 'role'?"]),
    ({"parameters": {"scoring.decay": {"values": [0.1], "range": [0, 1]}}},
     ['parameters."scoring.decay"', "exactly one of values"]),
    ({"parameters": {"scoring.decay": {"range": [0.2, 0.1]}}, "sampler": {"method": "latin", "n": 4}},
     ['parameters."scoring.decay"', "low < high"]),
    ({"parameters": {"scoring.decay": {"values": [0.1, 0.1]}}}, ['parameters."scoring.decay"', "distinct"]),
    ({"parameters": {"scoring.decay": {"values": [0.1], "role": "knob"}}},
     ['parameters."scoring.decay".role = \'knob\'', "'uncertainty' or 'lever'"]),
    ({"parameters": {"scoring.decay": {"range": [0, 0.1]}}}, ["sampler", "have a range"]),
    ({"parameters": {"scoring.decay": {"range": [0, 0.1]}}, "sampler": {"method": "sobol", "n": 10}},
     ["sampler", "n = 10", "power of two"]),
    ({"parameters": {"scoring.decay": {"range": [0, 0.1]}}, "sampler": {"method": "lhs", "n": 8}},
     ["sampler.method = 'lhs'", "'sobol', 'latin' or 'morris'"]),
    ({"parameters": {"scoring.decay": {"range": [0, 0.1]}}, "sampler": {"method": "latin", "n": 8, "levels": 4}},
     ["levels", "only with method = \"morris\""]),
    ({"sampler": {"method": "latin", "n": 8}}, ["sampler.method = 'latin'", "no parameter has a range"]),
    ({"name": "a b/c"}, ["name = 'a b/c'"]),
])
def test_spec_mistakes_name_key_value_and_allowed(data, expected):
    message = problems(data)
    assert message.startswith("invalid sweep")
    for part in expected:
        assert part in message, message


@pytest.mark.parametrize("parameters, outcomes, expected", [
    ('"scoring.decy" = [0.1, 0.2]', "", ["scoring.decy = 0.1", "did you mean 'scoring.decay'?",
                                         'a value of parameters."scoring.decy"']),
    ('"scoring.network_weight" = [0.0, 4]', "", ["scoring.network_weight = 4", "less than or equal to 0.9"]),
    ('"run.seed" = [1, 2]', "", ['parameters."run.seed"', "set the top-level `seed`"]),
    ('"output.report" = [true, false]', "", ['parameters."output.report"', "writes no run folders"]),
    ('"lists.naming" = { range = [0, 1] }\n[sampler]\nmethod = "latin"\nn = 4', "",
     ['parameters."lists.naming".range', "a range needs a number setting"]),
    ('"lists.black_threshold" = [600, 900]\n"lists.exit_threshold" = [860, 950]', "",  # each value fits alone
     ["exit_threshold (860) must not be below black_threshold (900)",
      "point 2: lists.black_threshold = 900, lists.exit_threshold = 860"]),
    ('"population.agents" = 5', "", ["population.agents = 5", "the base scenario with the sweep's constants"]),
    ("", 'blacklist_shar = "final"', ["outcomes.blacklist_shar", "did you mean 'blacklist_share'?"]),
])
def test_plan_mistakes_name_key_value_and_allowed(tmp_path, parameters, outcomes, expected):
    path = tmp_path / "bad.toml"
    outcomes = outcomes or 'blacklist_share = "final"'
    path.write_text(f'scenario = "seed"\n[outcomes]\n{outcomes}\n[parameters]\n"population.regions" = 10\n'
                    f'{parameters}\n')
    with pytest.raises(SweepError) as info:
        plan_sweep(path)
    message = str(info.value)
    assert message.startswith(f"invalid sweep {path}")
    for part in expected:
        assert part in message, message


def test_cli_mistakes_exit_2_and_write_nothing(tmp_path):
    out = tmp_path / "out"
    bad = tmp_path / "bad.toml"
    bad.write_text('scenario = "seed"\nreplicate = 3\n[outcomes]\nblacklist_share = "final"\n')
    for args, expected in [
        (["sweep", str(bad), "--out", str(out)], "did you mean 'replicates'?"),
        (["sweep", str(tmp_path / "missing.toml"), "--out", str(out)], "no such file"),
        (["sweep", str(bad), "--out", str(out), "--executor", "threads"], "allowed: sequential, processes, dask"),
        (["sweep", str(bad), "--out", str(out), "--scheduler", "tcp://x:8786"], "only with --executor dask"),
        (["sweep", str(bad), "--out", str(out), "--executor", "sequential", "--workers", "2"],
         "--workers 2: allowed only with"),
        (["sweep", str(bad), "--out", str(out), "--workers", "0"], "--workers"),
    ]:
        r = runner.invoke(app, args)
        assert r.exit_code == 2, r.output
        assert expected in " ".join(r.output.split()) and "Traceback" not in r.output
    bad.write_text("scenario = \n")
    r = runner.invoke(app, ["sweep", str(bad), "--out", str(out)])
    assert r.exit_code == 2 and "not valid TOML" in r.output
    assert not out.exists()
