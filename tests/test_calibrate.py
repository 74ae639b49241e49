"""`credsim calibrate`: statistics of a time series, the targets file, the fitted scenario."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from credsim.cli import app
from credsim.scenario import load_scenario
from credsim.validation import calibrate as cal

TARGETS = """
[settings]
agents = 1000
steps = 12
replications = 2
max_evaluations = 0
[fixed]
"behaviour.rail_rate" = 0.02
[[parameters]]
key = "behaviour.flight_rate"
lo = 0.01
hi = 0.2
start = 0.09
[[targets]]
statistic = "flight_rail_ratio"
value = 2.9
lo = 2.6
hi = 3.2
[[targets]]
statistic = "complied_share"
value = 0.27
"""


def series(months=24):
    t = np.arange(months)
    ts = pd.DataFrame({
        "blacklist_share": 0.001 * t / 12, "blacklist_inflow": np.full(months, 10),
        "blacklist_outflow": np.full(months, 7), "company_blacklist_inflow": np.full(months, 2),
        "company_blacklist_outflow": np.full(months, 4), "trips_refused_flight": np.full(months, 3),
        "trips_refused_rail": np.full(months, 1)})
    ts.attrs["agents"] = 1000
    return ts


def test_statistics_of_a_known_series():
    ts = series()
    s = {k: f(ts) for k, f in cal.STATISTICS.items()}
    assert s["stock_growth"] == pytest.approx(0.1)
    assert s["listed_growth"] == pytest.approx(12.0)    # 120 entries a year of 1,000 persons
    assert s["listed_total"] == pytest.approx(24.0)     # 24 months (to step 62 when longer)
    assert s["person_entry_share"] == pytest.approx(10 / 12)
    assert s["flow_balance"] == pytest.approx(11 / 12)
    assert s["company_exits_per_entry"] == pytest.approx(2.0)
    assert s["person_exits_per_entry"] == s["complied_share"] == pytest.approx(0.7)
    assert s["flight_rail_ratio"] == pytest.approx(3.0)
    long = series(66)
    long.loc[60:, "blacklist_outflow"] = 100   # after September 2018 (step 59): not counted
    assert cal.complied_share(long) == pytest.approx(0.7)
    assert cal.listed_total(long) == pytest.approx(63 * 10 / 10)


def test_timeline_values_are_fitted_and_written(tmp_path):
    """A parameter `timeline.N.set.KEY` sets entry N's value; the fitted scenario repeats the entry."""
    from credsim.scenario.load import timeline_scenarios

    spec = cal.Spec(parameters=(cal.Parameter("timeline.1.set.behaviour.fulfil_base", -9, -5),), targets=())
    sc = load_scenario("court-blacklist")
    assert cal._get(sc, "timeline.1.set.behaviour.fulfil_base") == sc.timeline[1].set["behaviour.fulfil_base"]
    text = cal.fitted_toml("court-blacklist", {"timeline.1.set.behaviour.fulfil_base": -6.5},
                           pd.DataFrame(columns=["statistic"]), spec)
    out = tmp_path / "fit.toml"
    out.write_text(text)
    stages = timeline_scenarios(load_scenario(str(out)))
    late = [s for step, s, _ in stages if step == sc.timeline[1].step][-1]
    assert late.behaviour.fulfil_base == -6.5
    assert late.behaviour.company_fulfil_base == sc.timeline[1].set["behaviour.company_fulfil_base"]
    bad = tmp_path / "bad.toml"
    bad.write_text('[[parameters]]\nkey = "timeline.0.at"\nlo = 1\nhi = 2\n')
    with pytest.raises(ValueError, match="timeline.N.set"):
        cal.read_targets(bad)


def test_targets_file_and_fitted_scenario(tmp_path):
    path = tmp_path / "t.toml"
    path.write_text(TARGETS)
    spec = cal.read_targets(path, agents=2000)
    assert spec.agents == 2000 and spec.replications == 2
    assert spec.targets[1].lo == pytest.approx(0.216) and spec.targets[1].hi == pytest.approx(0.324)
    table = cal.summarize(spec, np.array([[2.8, 0.3], [3.0, 0.2]]))
    assert list(table["pass"]) == [True, True]
    text = cal.fitted_toml("court-blacklist", {"behaviour.flight_rate": 0.07}, table, spec)
    out = tmp_path / "fit.toml"
    out.write_text(text)
    sc = load_scenario(str(out))
    assert sc.behaviour.flight_rate == pytest.approx(0.07) and sc.behaviour.rail_rate == pytest.approx(0.02)
    assert sc.sanctions.travel.enabled  # the rest is court-blacklist's


def test_calibrate_command(tmp_path):
    path = tmp_path / "t.toml"
    path.write_text(TARGETS)
    out = tmp_path / "fit.toml"
    res = CliRunner().invoke(app, ["calibrate", "court-blacklist", str(path), "--out", str(out),
                                   "--replications", "1"])
    assert res.exit_code == 0, res.output
    assert "flight_rail_ratio" in res.output and out.is_file()
    bad = tmp_path / "bad.toml"
    bad.write_text('[[targets]]\nstatistic = "nope"\nvalue = 1\n')
    res = CliRunner().invoke(app, ["calibrate", "court-blacklist", str(bad), "--out", str(out)])
    assert res.exit_code == 2 and "nope" in res.output
