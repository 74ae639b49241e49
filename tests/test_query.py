"""`credsim query` and `credsim.open_run`: SQL over a run's tables; mistakes exit 2."""

from __future__ import annotations

import pandas as pd
import pyarrow.parquet as pq
from typer.testing import CliRunner

import credsim
from credsim.cli import app

runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


def test_query_prints_a_table(seed_run_dir):
    r = invoke("query", seed_run_dir, "SELECT channel, count(*) AS n FROM register GROUP BY channel ORDER BY n DESC")
    assert r.exit_code == 0, r.output
    assert "channel" in r.output and "payments" in r.output and "rows)" in r.output
    r = invoke("query", seed_run_dir, "SELECT * FROM persons", "--max-rows", "3")
    assert r.exit_code == 0 and "first 3 rows shown" in r.output and "list_status" in r.output


def test_query_writes_every_row_with_provenance(seed_run_dir, tmp_path):
    csv, parquet = tmp_path / "r.csv", tmp_path / "r.parquet"
    sql = "SELECT * FROM register WHERE event = 'late_bill'"
    r = invoke("query", seed_run_dir, sql, "--csv", csv, "--parquet", parquet)
    assert r.exit_code == 0, r.output
    with credsim.open_run(seed_run_dir) as run:
        n = int(run.sql("SELECT count(*) FROM register WHERE event = 'late_bill'").iloc[0, 0])
    assert n > 0 and f"wrote {n:,} rows" in r.output
    assert len(pd.read_csv(csv)) == n and pq.read_metadata(parquet).num_rows == n
    meta = pq.read_schema(parquet).metadata
    assert meta[b"credsim.seed"] == b"3" and meta[b"credsim.query"] == sql.encode()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.csv", "r.parquet"]


def test_query_mistakes_exit_2_and_name_the_tables(seed_run_dir, tmp_path):
    cases = [
        (("SELEC 1",), "syntax error"),
        (("SELECT * FROM registr",), "registr"),
        (("SELECT nope FROM persons",), "nope"),
        (("SELECT 1", "--csv", tmp_path / "missing" / "x.csv"), "does not exist"),
    ]
    for args, words in cases:
        r = invoke("query", seed_run_dir, *args)
        assert r.exit_code == 2, (args, r.output)
        assert words in r.output and "Traceback" not in r.output
    r = invoke("query", seed_run_dir, "SELECT * FROM registr")
    assert "register, timeseries, persons, companies, appeals" in r.output
    r = invoke("query", tmp_path, "SELECT 1")
    assert r.exit_code == 2 and "not a run folder" in r.output
    hidden = tmp_path / ".x.partial-1"
    hidden.mkdir()
    r = invoke("query", hidden, "SELECT 1")
    assert r.exit_code == 2 and "unfinished run" in r.output


def test_open_run_from_python(seed_run_dir):
    with credsim.open_run(seed_run_dir) as run:
        assert run.tables == ["register", "timeseries", "persons", "companies", "appeals"]
        assert run.summary["seed"] == 3 and run.scenario.name == "seed"
        ts = run.timeseries
        assert len(ts) == 24 and ts.attrs["credsim"]["scenario_hash"] == run.summary["scenario_hash"]
        joined = run.sql("SELECT p.education, count(*) AS n FROM register r JOIN persons p USING (person) "
                         "WHERE p.step = 23 GROUP BY ALL")
        assert set(joined["education"]) <= {"none", "secondary", "bachelor", "postgraduate"}
        same = run.connection.execute("SELECT count(*) FROM timeseries").fetchone()[0]
        assert same == 24
