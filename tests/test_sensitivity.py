"""Sensitivity analysis of a sweep: Sobol' ranks a parameter without effect last; Morris; refusals."""

from __future__ import annotations

import numba
import pandas as pd
import pytest
from typer.testing import CliRunner

import credsim
from credsim.cli import app
from credsim.sweep import run_sweep
from credsim.sweep.sensitivity import SensitivityError, analyze

runner = CliRunner()

# In `baseline` no channel records anything, so the hit rate of face recognition has no effect
# at all; the rate at which the unemployed find work decides unemployment.
SOBOL = """
scenario = "baseline"
seed = 3
replicates = 2

[parameters]
"population.agents" = 400
"run.steps" = 12
"population.hire_rate" = { range = [0.02, 0.5], role = "uncertainty" }
"recognition.hit_rate" = { range = [0.1, 0.9], role = "uncertainty" }

[sampler]
method = "sobol"
n = 8

[outcomes]
unemployment_rate = ["last_year", "final"]
"""


@pytest.fixture(scope="module")
def single_thread():
    """Tiny runs are faster on one thread (no thread pool to wake each step); results are the same."""
    numba.set_num_threads(1)
    yield
    numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)


@pytest.fixture(scope="module")
def sobol_dir(tmp_path_factory, single_thread):
    folder = tmp_path_factory.mktemp("sobol")
    (folder / "sobol.toml").write_text(SOBOL)
    summary = run_sweep(folder / "sobol.toml", folder / "out", executor="sequential")
    assert (summary.runs, summary.failed) == (8 * 4 * 2, 0)  # N (D + 2) points x 2 replicates
    return folder / "out"


def test_the_hit_rate_has_exactly_no_effect_in_baseline(single_thread):
    a = credsim.run("baseline", agents=400, steps=6, seed=5, **{"recognition.hit_rate": 0.1})
    b = credsim.run("baseline", agents=400, steps=6, seed=5, **{"recognition.hit_rate": 0.9})
    pd.testing.assert_frame_equal(a.timeseries, b.timeseries)


def test_sobol_ranks_a_parameter_without_effect_last(sobol_dir):
    result = analyze(sobol_dir)
    assert result.method == "sobol" and result.replicates == 2
    for measure in ("unemployment_rate_last_year", "unemployment_rate_final"):
        t = result.table[result.table["measure"] == measure].set_index("parameter")
        assert t.loc["recognition.hit_rate", "rank"] == 2 and t.loc["population.hire_rate", "rank"] == 1
        assert abs(t.loc["recognition.hit_rate", "ST"]) < 0.1  # near zero: seed noise only
        assert t.loc["population.hire_rate", "ST"] > 0.7
        assert (t[["S1_conf", "ST_conf"]] >= 0).all().all() and set(t["role"]) == {"uncertainty"}
        noise = result.noise.set_index("measure").loc[measure, "seed_noise_share"]
        assert 0 < noise < 0.2


def test_cli_sensitivity_prints_and_writes_table_and_figure(sobol_dir):
    r = runner.invoke(app, ["sensitivity", str(sobol_dir), "--outcome", "unemployment_rate_final"])
    assert r.exit_code == 0, r.output
    assert "population.hire_rate" in r.output and "total ST" in r.output and "seed noise" in r.output
    csv = pd.read_csv(sobol_dir / "sensitivity.csv")
    assert set(csv["measure"]) == {"unemployment_rate_final"}
    assert {"S1", "S1_conf", "ST", "ST_conf", "rank", "seed_noise_share"} <= set(csv.columns)
    assert (sobol_dir / "sensitivity.png").read_bytes()[:4] == b"\x89PNG"
    r = runner.invoke(app, ["sensitivity", str(sobol_dir), "--outcome", "unemployment_rate_fnal"])
    assert r.exit_code == 2 and "did you mean 'unemployment_rate_final'" in r.output


def test_morris_and_the_sweeps_it_refuses(tmp_path, single_thread):
    morris = (SOBOL.replace("replicates = 2", "replicates = 1")
              .replace('method = "sobol"\nn = 8', 'method = "morris"\nn = 4\nlevels = 4')
              .replace('"run.steps" = 12', '"run.steps" = 12\n"population.separation_rate" = [0.01, 0.03]'))
    (tmp_path / "morris.toml").write_text(morris)
    summary = run_sweep(tmp_path / "morris.toml", tmp_path / "m", executor="sequential")
    assert summary.runs == 2 * 4 * 3  # two grid cells, each 4 trajectories of 3 points
    result = analyze(tmp_path / "m")
    assert list(result.noise["cell_label"].unique()) == ["population.separation_rate=0.01",
                                                        "population.separation_rate=0.03"]
    for cell in (0, 1):  # the indices of each grid cell apart
        t = result.table[(result.table["measure"] == "unemployment_rate_final") & (result.table["cell"] == cell)]
        t = t.set_index("parameter")
        assert t.loc["population.hire_rate", "rank"] == 1  # the hit rate's mu* is seed noise only
        assert t.loc["recognition.hit_rate", "mu_star"] < t.loc["population.hire_rate", "mu_star"] / 3
    assert result.noise["seed_noise_share"].isna().all()  # one replicate: not measured
    grid = SOBOL.replace('{ range = [0.02, 0.5], role = "uncertainty" }', "[0.1, 0.2]").replace(
        '{ range = [0.1, 0.9], role = "uncertainty" }', "0.5").split("[sampler]")[0] + (
        "[outcomes]\nunemployment_rate = \"final\"\n")
    (tmp_path / "grid.toml").write_text(grid.replace("replicates = 2", "replicates = 1"))
    run_sweep(tmp_path / "grid.toml", tmp_path / "g", executor="sequential")
    with pytest.raises(SensitivityError, match="samples nothing"):
        analyze(tmp_path / "g")
    r = runner.invoke(app, ["sensitivity", str(tmp_path / "g")])
    assert r.exit_code == 2 and "sobol" in r.output and "Traceback" not in r.output
    r = runner.invoke(app, ["sensitivity", str(tmp_path)])
    assert r.exit_code == 2 and "not a sweep folder" in r.output
