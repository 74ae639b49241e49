"""The targets of issue #3 as `python -m benchmarks` reports them (benchmarks/targets.py): each
read from the right part and size of a run's results, judged against its goal, and over several
runs on their median.  Synthetic results: nothing is measured here."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
T = pytest.importorskip("benchmarks.targets")
run_all = pytest.importorskip("benchmarks.run_all")

GiB = 2**30


def result(society=20.0, peak_gib=3.6, rate=4.5e6, x_mesa=35.0, x_bound=2.4, date="2026-11-30T00:00:00+00:00"):
    """A run's results with the fields the targets read, and decoys at the other sizes."""
    return {
        "date": date, "command": "python -m benchmarks", "git": {"commit": "abc1234567"}, "bandwidth_GBps": 35.0,
        "mesa": {"agent_steps_per_s": {"median": 120e3}},
        "seed": [
            {"n": 100_000, "society_s": 0.5, "peak_rss_bytes": GiB // 4, "agent_steps_per_s": 9e9,
             "ratio_to_mesa": x_mesa},
            {"n": 1_000_000, "society_s": 999.0, "peak_rss_bytes": 99 * GiB, "agent_steps_per_s": 1.0,
             "ratio_to_mesa": 1.0},
            {"n": 10_000_000, "society_s": society, "peak_rss_bytes": peak_gib * GiB, "agent_steps_per_s": rate,
             "ratio_to_mesa": 1.0},
        ],
        "minimal": [{"n": 1_000_000, "ratio_to_bound": 0.5}, {"n": 10_000_000, "ratio_to_bound": x_bound}],
    }


def values(out):
    return {row["key"]: (row["value"], row["met"]) for row in T.evaluate(out)}


def test_each_target_reads_its_own_part_and_size_and_is_judged_against_its_goal():
    v = values(result())
    assert v["society_1e7_s"] == (20.0, True)
    assert v["seed_1e7_peak_gib"] == (pytest.approx(3.6), True)
    assert v["seed_1e7_rate_m"] == (pytest.approx(4.5), True)
    assert v["seed_1e5_x_mesa"] == (35.0, False)
    assert v["minimal_1e7_x_bound"] == (2.4, False)
    v = values(result(society=61.0, peak_gib=12.5, rate=1.9e6, x_mesa=100.0, x_bound=2.0))
    assert [met for _, met in v.values()] == [False, False, False, True, True]  # the goals themselves are met


def test_a_part_that_did_not_run_has_no_figure_and_no_verdict():
    out = result()
    out["seed"][2] = {"n": 10_000_000, "skipped": "not enough memory"}
    del out["minimal"]
    v = values(out)
    assert v["society_1e7_s"] == (None, None) and v["minimal_1e7_x_bound"] == (None, None)
    assert v["seed_1e5_x_mesa"] == (35.0, False)
    table = "\n".join(T.run_table(out))
    assert "| - | - |" in table


def test_several_runs_are_judged_on_their_median():
    outs = [result(x_bound=1.7), result(x_bound=2.5), result(x_bound=2.2), result(x_bound=None)]
    c = T.combine(outs)
    row = next(r for r in c["targets"] if r["key"] == "minimal_1e7_x_bound")
    assert row["values"] == [1.7, 2.5, 2.2, None]
    assert row["median"] == 2.2 and row["met"] is False
    assert (row["runs_met"], row["runs_measured"]) == (1, 3)
    c = T.combine([result(x_bound=1.7), result(x_bound=1.9), result(x_bound=2.5)])
    assert next(r for r in c["targets"] if r["key"] == "minimal_1e7_x_bound")["met"] is True
    md = T.combined_markdown(c)
    assert "| run 1 | run 2 | run 3 | median | met in | met? |" in md and "2 of 3" in md


def test_combine_command_writes_the_medians_and_refuses_what_is_not_a_run(tmp_path, capsys):
    files = []
    for i, x in enumerate((1.7, 2.5, 2.2)):
        f = tmp_path / f"r{i}.json"
        f.write_text(json.dumps(result(x_bound=x)))
        files.append(str(f))
    run_all.main(["--combine", *files, "--out", str(tmp_path / "all")])
    c = json.loads((tmp_path / "all.json").read_text())
    assert c["names"] == ["r0", "r1", "r2"]
    assert "| r0 | r1 | r2 | median |" in (tmp_path / "all.md").read_text()
    for bad, why in ((tmp_path / "all.json", "not the results of one run"), (tmp_path / "none.json", "cannot be read")):
        with pytest.raises(SystemExit):
            run_all.main(["--combine", str(bad), "--out", str(tmp_path / "x")])
        assert why in capsys.readouterr().err
    with pytest.raises(SystemExit):
        run_all.main(["--runs", "0"])
    assert "--runs 0: allowed: 1 or more" in capsys.readouterr().err


def test_the_ratio_to_mesa_comes_from_the_paired_blocks_where_a_run_has_them():
    out = result(x_mesa=95.0)  # the `seed` part's rate over the `mesa` part's, minutes apart
    out["paired"] = {"ratio_to_mesa": 104.0, "pair_ratio": {"median": 99.0}}
    assert values(out)["seed_1e5_x_mesa"] == (104.0, True)
    for failed in ({"skipped": "no Mesa venv"}, {"error": "exit 1"}):
        out["paired"] = failed
        assert values(out)["seed_1e5_x_mesa"] == (95.0, False)  # runs without it read as before
    runs = [result(x_mesa=95.0), result(x_mesa=97.0)]
    runs[0]["paired"] = {"ratio_to_mesa": 104.0}
    c = T.combine(runs)
    assert next(r for r in c["targets"] if r["key"] == "seed_1e5_x_mesa")["values"] == [104.0, 97.0]
    md = T.combined_markdown(c)
    assert "| 104.0 | 95.0 |" in md and "| - | 97.0 |" in md  # each run's paired and sequential figures


def fake_server(rates):
    """A `--serve` process that answers each block with the next of `rates` (agent-steps/s)."""
    code = ("import sys; sys.path.insert(0, %r); from common import serve; r = iter(%r); "
            "serve(lambda: {'agent_steps_per_s': next(r)}, {'n': 7})"
            % (str(Path(__file__).resolve().parents[1] / "benchmarks"), list(rates)))
    return [sys.executable, "-c", code]


def test_paired_blocks_take_turns_abba_and_report_the_medians_ratio():
    P = pytest.importorskip("benchmarks.paired")
    res = P.measure(fake_server([1.0, 2.0, 4.0, 3.0, 100.0]), fake_server([10.0, 36.0, 20.0, 80.0, 50.0]), 5)
    assert [r["first"] for r in res["rows"]] == ["mesa", "seed", "mesa", "seed", "mesa"]
    assert [r["ratio"] for r in res["rows"]] == [10.0, 18.0, 5.0, pytest.approx(80 / 3), 0.5]
    assert res["ratio_to_mesa"] == 36.0 / 3.0  # the medians' ratio, not the pairs' median (10.0)
    assert res["pair_ratio"]["median"] == 10.0 and res["n"] == 7
    with pytest.raises(RuntimeError, match="seed: no result"):
        P.measure(fake_server([1.0]), [sys.executable, "-c", "pass"], 1)
