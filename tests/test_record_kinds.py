"""Record kinds: Rongcheng's point table as kinds of the model's actions (issue #5, item 7)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import credsim
from credsim.mechanisms import scoring
from credsim.scenario import load_scenario
from credsim.scenario.errors import ScenarioError
from credsim.validation.rulebook import fee_arrears_and_private_lending, month_of_records

TABLE = {  # Rongcheng personal credit assessment standards, Attachment 1 (REFERENCES.md 1.3)
    "bank_loan_arrears": -10, "private_lending_breach": -20, "public_fee_delay": -20,
    "court_found_fee_arrears": -50, "sued_overdue_debt": -30, "sued_breach_of_contract": -50,
    "destroying_public_utility": -100, "stealing_utilities": -60, "traffic_offence": -5,
}


def test_rongcheng_ships_the_point_table_and_grades():
    sc = load_scenario("rongcheng")
    kinds = {k.name: k.points for r in sc.rules for k in r.kinds}
    for name, pts in TABLE.items():
        assert kinds[name] == pts
    assert sc.scoring.base == 1000
    assert [g.name for g in sc.scoring.grades] == ["AAA", "AA", "A", "B", "C", "D"]


def test_fee_arrears_and_private_lending_end_the_month_at_930():
    sim, kinds = month_of_records(("late_bill", "court_default"))
    late, court = kinds["late_bill"], kinds["court_default"]
    who = (late == "private_lending_breach") & (court == "court_found_fee_arrears")
    assert who.sum() > 10
    assert np.all(sim.state.score[who] == 930.0)
    assert {sim.sc.scoring.grades[g].name for g in sim.state.grade[who]} == {"B"}
    # every other combination is the sum of its two table entries
    expect = 1000 + np.vectorize(TABLE.get)(late, -20) + np.vectorize(TABLE.get)(court, -50)
    assert np.allclose(sim.state.score, expect)
    assert fee_arrears_and_private_lending()[:2] == (930.0, "B")


def test_kinds_are_drawn_by_share_and_independent_of_order():
    cum = np.array([0.4, 0.65, 1.0], np.float32)
    idx = np.arange(200_000)
    code = scoring.draw_kinds(12345, idx, 0, cum)
    assert np.allclose(np.bincount(code) / len(idx), [0.4, 0.25, 0.35], atol=0.005)
    rev = scoring.draw_kinds(12345, idx[::-1], 0, cum)
    assert np.array_equal(rev[::-1], code)  # a record's kind depends on (key, person, action) only


def test_register_names_each_record_by_its_kind(tmp_path):
    out = tmp_path / "rong"
    credsim.run("rongcheng", agents=2000, steps=6, out=out)
    reg = pd.read_parquet(out / "register.parquet")
    events = set(reg["event"].astype(str))
    assert "late_bill" not in events and "bank_loan_arrears" in events
    kinds = reg[reg["event"].astype(str).isin(list(TABLE))]
    assert (kinds["points"] == kinds["event"].astype(str).map(TABLE)).all()
    assert set(reg.loc[reg["event"].astype(str) == "traffic_offence", "channel"].astype(str)) == {"cameras"}


@pytest.mark.parametrize("kinds, msg", [
    ([{"name": "a", "share": 0.5, "points": -1}], "sum"),
    ([{"name": "tax_late", "share": 1.0, "points": -1}], "name of an event"),
])
def test_bad_kinds_are_refused(kinds, msg):
    rule = {"event": "late_bill", "channel": "payments", "kinds": kinds}
    with pytest.raises(ScenarioError, match=msg):
        load_scenario({"rules": [rule]})
