"""The register: every observed record, streamed; the panel; snapshots; appeals; provenance."""

from __future__ import annotations

import numpy as np
import pyarrow.parquet as pq
import pytest
from conftest import APPEALS

import credsim
from credsim import ScenarioError, Simulation, load_scenario, open_run
from credsim.output.register import RunWriter
from credsim.scenario import scenario_hash
from credsim.scenario.events import EVENTS


def test_register_rows_equal_the_timeseries_counts(seed_run_dir):
    with open_run(seed_run_dir) as run:
        ts = run.timeseries.set_index("step")
        by_step = run.sql("SELECT step, count(*) FILTER (WHERE is_true) AS t, count(*) FILTER (WHERE NOT is_true) AS f "
                          "FROM register GROUP BY step").set_index("step").reindex(ts.index, fill_value=0)
        assert by_step["t"].tolist() == ts["records_true"].tolist()
        assert by_step["f"].tolist() == ts["records_false"].tolist()
        assert ts["records_true"].sum() > 1000
        # one subject per record, of the event's kind; points are the rulebook's
        kinds = run.sql("SELECT DISTINCT event, person IS NOT NULL AS p, company IS NOT NULL AS c, points, channel "
                        "FROM register")
        rules = {r.event: r.points for r in run.scenario.rules}
        rules["joint_representative"] = run.scenario.sanctions.joint.representative_points
        for ev, p, c, points, channel in kinds.itertuples(index=False):
            assert (p, c) == ((True, False) if EVENTS[ev][0] == "person" else (False, True))
            assert points == pytest.approx(rules.get(ev, 0.0)) and channel == EVENTS[ev][1]
        false = run.sql("SELECT DISTINCT event FROM register WHERE NOT is_true")["event"].tolist()
        assert false in ([], ["misconduct"])


def test_register_is_written_in_row_groups(tmp_path):
    sim = Simulation(load_scenario("seed", overrides={"population.agents": 1500, "run.steps": 8}))
    writer = RunWriter(tmp_path, sim, {"credsim.seed": "1"}, chunk_rows=30)
    for _ in range(8):
        sim.step()
        writer.after_step(sim)
    stats = writer.close(sim)
    meta = pq.ParquetFile(tmp_path / "register.parquet").metadata
    sizes = [meta.row_group(i).num_rows for i in range(meta.num_row_groups)]
    assert len(sizes) > 1 and all(s >= 30 for s in sizes[:-1])
    assert sum(sizes) == stats["register_records"] == sum(r["records_true"] + r["records_false"] for r in sim.rows)


def test_the_panel_keeps_every_record_of_its_members_and_none_of_the_others(tmp_path):
    # 24 months: the regulators' coverage has grown enough that panel companies have records
    args = dict(agents=2500, steps=24, seed=8, **{"output.report": False})
    full = credsim.run("seed", out=tmp_path / "full", **args)
    part = credsim.run("seed", out=tmp_path / "panel", **args, **{"output.register_panel": 0.3})
    assert full.timeseries.equals(part.timeseries)  # output settings never change the run
    with open_run(tmp_path / "full") as f, open_run(tmp_path / "panel") as p:
        members = p.sql("SELECT person FROM persons WHERE in_panel AND step = 23")["person"]
        firms = set(p.sql("SELECT company FROM companies WHERE in_panel AND step = 23")["company"])
        assert 0.25 < len(members) / 2500 < 0.35
        cols = "step, person, company, event, is_true"
        expect = f.sql(f"SELECT {cols} FROM register ORDER BY ALL")
        keep = expect["person"].isin(set(members)) | expect["company"].isin(firms)
        got = p.sql(f"SELECT {cols} FROM register ORDER BY ALL")
        assert 0 < len(got) < len(expect)
        assert got["company"].notna().any() and got["person"].notna().any()  # both kinds kept
        assert got.equals(expect[keep].reset_index(drop=True))
        assert p.summary["output"]["register_panel"] == 0.3


def test_snapshots_match_the_state(tmp_path):
    sc = load_scenario("seed", overrides={"population.agents": 1500, "run.steps": 9, "output.snapshots": [2, 5]})
    sim = Simulation(sc)
    writer = RunWriter(tmp_path, sim, {})
    for _ in range(9):
        sim.step()
        writer.after_step(sim)
    assert writer.close(sim)["snapshot_steps"] == [2, 5, 8]
    persons = pq.read_table(tmp_path / "persons.parquet").to_pandas()
    assert sorted(persons["step"].unique()) == [2, 5, 8]
    ts = {r["step"]: r for r in sim.rows}
    for step, snap in persons.groupby("step"):
        assert snap["score"].mean() == pytest.approx(ts[step]["score_mean"], rel=1e-6)
        assert (snap["list_status"] == "black").mean() == pytest.approx(ts[step]["blacklist_share"])
    last, st = persons[persons["step"] == 8], sim.state
    grades = np.array([g.name for g in sc.scoring.grades])
    assert np.array_equal(last["person"], np.arange(1500))
    assert np.array_equal(last["score"].to_numpy(), st.score)
    assert (last["grade"].astype(str).to_numpy() == grades[st.grade]).all()
    assert np.array_equal((last["list_status"] == "black").to_numpy(), st.black)
    assert np.array_equal((last["list_status"] == "red").to_numpy(), st.red)
    assert np.array_equal(last["months_listed"].to_numpy(), st.months_listed)
    assert np.array_equal(last["employer"].fillna(-1).to_numpy(), st.employer)
    assert np.array_equal(last["degree"].to_numpy(), sim.view.degree)
    assert np.array_equal(last["internalization"].to_numpy(), st.internalization)
    companies = pq.read_table(tmp_path / "companies.parquet").to_pandas()
    c_last = companies[companies["step"] == 8]
    assert np.array_equal(c_last["score"].to_numpy(), st.c_score)
    assert c_last["employees"].sum() == np.count_nonzero(st.employer >= 0)


def test_appeals_are_written_and_mark_the_records_they_overturn(tmp_path):
    r = credsim.run("safeguards", agents=2000, steps=24, seed=4, out=tmp_path / "r", **APPEALS,
                    **{"output.report": False})
    ts = r.timeseries
    with open_run(r.path) as run:
        a = run.sql("SELECT count(*) AS n, count(*) FILTER (WHERE upheld) AS up, "
                    "count(*) FILTER (WHERE listing_ended) AS ended FROM appeals").iloc[0]
        assert (a["n"], a["up"], a["ended"]) == (ts["appeals"].sum(), ts["appeals_upheld"].sum(),
                                                 ts["exits_by_appeal"].sum())
        assert a["up"] > 0
        over = run.sql("SELECT * FROM register WHERE overturned")
        assert len(over) > 0 and not over["is_true"].any() and over["appealed"].all()
        # each overturned record has an upheld appeal of its person at or after its step
        bad = run.sql("SELECT count(*) FROM register r WHERE overturned AND NOT EXISTS "
                      "(SELECT 1 FROM appeals a WHERE a.person = r.person AND a.upheld AND a.step >= r.step)")
        assert bad.iloc[0, 0] == 0
        assert not run.sql("SELECT bool_or(appealed) FROM register WHERE company IS NOT NULL").iloc[0, 0]


def test_no_folder_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    r = credsim.run("seed", agents=500, steps=3, seed=1)
    assert r.path is None and r.output is None
    assert list(tmp_path.iterdir()) == []


def test_register_off_and_provenance(tmp_path):
    credsim.run("seed", agents=800, steps=4, seed=6, out=tmp_path / "r",
                **{"output.register_records": False, "output.report": False})
    names = sorted(p.name for p in (tmp_path / "r").iterdir())
    assert names == ["companies.parquet", "persons.parquet", "scenario.toml", "summary.json", "timeseries.parquet"]
    with open_run(tmp_path / "r") as run:
        assert "register" not in run.tables and "persons" in run.tables
        for name in ("companies", "persons", "timeseries"):
            meta = pq.read_schema(tmp_path / "r" / f"{name}.parquet").metadata
            assert meta[b"credsim.seed"] == b"6" and meta[b"credsim.scenario_hash"] == run.summary["scenario_hash"].encode()


def test_an_interrupted_run_leaves_nothing(tmp_path):
    def stop(row):
        if row["step"] == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        credsim.run("seed", agents=800, steps=6, out=tmp_path / "r", on_step=stop)
    assert list(tmp_path.iterdir()) == []


def test_output_settings_are_validated_and_left_out_of_the_hash():
    with pytest.raises(ScenarioError, match=r"output\.snapshots: step 12 is past the run"):
        load_scenario("seed", overrides={"run.steps": 12, "output.snapshots": [3, 12]})
    with pytest.raises(ScenarioError, match=r"output\.register_panel = 0"):
        load_scenario("seed", sets=["output.register_panel=0"])
    with pytest.raises(ScenarioError, match=r"did you mean 'output\.register_records'"):
        load_scenario("seed", sets=["output.register_record=false"])
    plain, sampled = load_scenario("seed"), load_scenario("seed", sets=["output.register_panel=0.1"])
    assert scenario_hash(plain) == scenario_hash(sampled)
    assert load_scenario("seed", sets=["output.snapshots=[9, 3, 9]"]).output.snapshots == (3, 9)
