"""Every built-in scenario runs, small, end to end, and writes a complete run folder."""

from __future__ import annotations

import json

import pandas as pd
import pytest

import credsim
from credsim import builtin_names


@pytest.mark.parametrize("name", builtin_names())
def test_builtin_runs_small(name, tmp_path):
    out = tmp_path / name
    r = credsim.run(name, agents=1500, steps=13, seed=2, out=out)
    assert r.path == out
    ts = pd.read_parquet(out / "timeseries.parquet")
    assert len(ts) == 13 and ts["step"].tolist() == list(range(13))
    assert not ts.isna().any().any()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["scenario"] == name and summary["agents"] == 1500
    assert set(summary["by_education"]) == {"none", "secondary", "bachelor", "postgraduate"}
    k = len(r.scenario.scoring.grades)
    assert len(summary["grade_mobility"]["counts"]) == k
    assert summary["output"]["register_records"] == ts["records_true"].sum() + ts["records_false"].sum()
    assert (out / "register.parquet").exists() and "<figcaption>" in (out / "report.html").read_text()


def test_parquet_keeps_provenance(tmp_path):
    import pyarrow.parquet as pq

    credsim.run("baseline", agents=500, steps=2, seed=9, out=tmp_path / "r")
    meta = pq.read_schema(tmp_path / "r" / "timeseries.parquet").metadata
    assert meta[b"credsim.seed"] == b"9"
    assert meta[b"credsim.credsim_version"] == credsim.__version__.encode()
    assert len(meta[b"credsim.scenario_hash"]) == 16
