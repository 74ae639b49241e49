"""The command line: exit codes, no traceback for mistakes, no half-written folders."""

from __future__ import annotations

import json
import tomllib

import pandas as pd
from typer.testing import CliRunner

from credsim.cli import app

runner = CliRunner()

INTERFACE_COLUMNS = (
    "step score_mean blacklist_share redlist_share blacklist_inflow blacklist_outflow late_bill_rate "
    "misconduct_rate dissent_private_share dissent_expressed_share falsification_gap records_true "
    "records_false innocents_listed trips_refused jobs_lost school_refusals service_refusals_true "
    "service_refusals_false ties_cut mean_degree listed_isolated_share internalization_mean "
    "coverage_cameras company_blacklist_share"
).split()


def invoke(*args):
    return runner.invoke(app, list(args), catch_exceptions=False)


def test_run_writes_the_run_folder(tmp_path):
    out = tmp_path / "run"
    r = invoke("run", "seed", "--agents", "2000", "--steps", "6", "--seed", "7", "--out", str(out))
    assert r.exit_code == 0, r.output
    assert sorted(p.name for p in out.iterdir()) == [
        "appeals.parquet", "companies.parquet", "persons.parquet", "register.parquet", "report.html",
        "scenario.toml", "summary.json", "timeseries.parquet"]
    ts = pd.read_parquet(out / "timeseries.parquet")
    assert list(ts["step"]) == list(range(6))
    assert set(INTERFACE_COLUMNS) <= set(ts.columns)
    summary = json.loads((out / "summary.json").read_text())
    for key in ("credsim_version", "seed", "agents", "steps", "wall_time_s", "scenario_hash", "final"):
        assert key in summary
    assert (summary["seed"], summary["agents"], summary["steps"]) == (7, 2000, 6)
    resolved = tomllib.loads((out / "scenario.toml").read_text())
    assert resolved["run"]["seed"] == 7 and resolved["population"]["agents"] == 2000
    assert "blacklisted" in r.output  # the summary table


def test_bad_key_exits_2_without_traceback_or_folder(tmp_path):
    out = tmp_path / "run"
    r = invoke("run", "seed", "--set", "scoring.decy=0.1", "--out", str(out))
    assert r.exit_code == 2
    assert "scoring.decy" in r.output and "scoring.decay" in r.output
    assert "Traceback" not in r.output
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_bad_value_and_missing_scenario_exit_2(tmp_path):
    r = invoke("run", "seed", "--set", "lists.min_term=-1", "--out", str(tmp_path / "x"))
    assert r.exit_code == 2 and "lists.min_term = -1" in r.output
    r = invoke("run", "no-such-scenario")
    assert r.exit_code == 2 and "built-ins" in r.output
    r = invoke("run", "seed", "--agents", "5")
    assert r.exit_code == 2 and "population.agents" in r.output
    assert list(tmp_path.iterdir()) == []


def test_existing_output_folder_is_refused(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    r = invoke("run", "baseline", "--agents", "500", "--steps", "2", "--out", str(out))
    assert r.exit_code == 2 and "already exists" in r.output
    assert (out / "keep.txt").read_text() == "mine"


def test_scenarios_show_validate(tmp_path):
    r = invoke("scenarios")
    assert r.exit_code == 0
    names = [line.split()[0] for line in r.output.strip().splitlines()]
    assert names == ["baseline", "sesame", "court-blacklist", "rongcheng", "seed", "safeguards",
                     "seed-lifted", "seed-reformed"]
    r = invoke("show", "safeguards")
    assert r.exit_code == 0 and tomllib.loads(r.output)["lists"]["appeals"] is True
    good = tmp_path / "good.toml"
    good.write_text('extends = "seed"\n[lists]\nappeals = true\n')
    assert invoke("validate", str(good)).exit_code == 0
    bad = tmp_path / "bad.toml"
    bad.write_text('extends = "seed"\n[lists]\napeals = true\nmin_term = "long"\n')
    r = invoke("validate", str(bad))
    assert r.exit_code == 2
    assert "lists.apeals" in r.output and "lists.appeals" in r.output and "lists.min_term" in r.output


def test_rerunning_the_resolved_scenario_repeats_the_run(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    assert invoke("run", "seed", "--agents", "1500", "--steps", "8", "--seed", "3", "--set",
                  "lists.min_term=2", "--set", "output.report=false", "--out", str(a)).exit_code == 0
    assert invoke("run", str(a / "scenario.toml"), "--seed", "3", "--out", str(b)).exit_code == 0
    assert (a / "timeseries.parquet").read_bytes() == (b / "timeseries.parquet").read_bytes()
    assert (a / "scenario.toml").read_text() == (b / "scenario.toml").read_text()


def test_a_run_that_cannot_fit_is_refused_before_anything_is_built(tmp_path):
    r = invoke("run", "seed", "--agents", "150000000", "--out", str(tmp_path / "huge"))
    assert r.exit_code == 2
    assert "population.agents = 150,000,000" in r.output and "GiB" in r.output
    assert "--no-memory-check" in r.output
    assert list(tmp_path.iterdir()) == []
