"""Reading a finished run folder back: `credsim.open_run(path)`.

    run = credsim.open_run("runs/seed-1-20250101-120000")
    run.timeseries                      # one row per step (pandas)
    run.summary["score_gini"]           # summary.json
    run.sql("SELECT event, count(*) FROM register GROUP BY event")   # DuckDB -> pandas

The DuckDB connection is in memory and holds one view per table of the folder: `timeseries`,
`persons`, `companies` (snapshots), `register` (every observed record, with `appealed` and
`overturned` worked out from `appeals`) and `appeals`.  The files are only read.
"""

from __future__ import annotations

import json
import tomllib
from functools import cached_property
from pathlib import Path

import pandas as pd

from .rundir import RunFolderError, checkpoint_of, final_path, partial_path

REQUIRED = ("summary.json", "timeseries.parquet", "scenario.toml")
TABLE_FILES = {
    "timeseries": "timeseries.parquet",
    "persons": "persons.parquet",
    "companies": "companies.parquet",
    "appeals": "appeals.parquet",
}
# `register` = the records of register.parquet, each with whether its person appealed it later
# (an appeal reviews every record of the person up to the appeal's step) and whether it was
# overturned (a false record covered by an upheld appeal).
REGISTER_VIEW = """
CREATE VIEW register AS
WITH a AS (
    SELECT person, max(step) AS last_appeal, max(CASE WHEN upheld THEN step END) AS last_upheld
    FROM appeals GROUP BY person
)
SELECT r.step, r.person, r.company, r.event, r.channel, r.points, r.is_true,
       coalesce(r.step <= a.last_appeal, false) AS appealed,
       coalesce(NOT r.is_true AND r.step <= a.last_upheld, false) AS overturned
FROM read_parquet({path}) AS r LEFT JOIN a ON r.person = a.person
"""


class NotARunError(RunFolderError):
    """The path is not a finished run folder."""


def _refuse_incomplete(path: Path) -> None:
    """An interrupted run is refused with what it is and how to finish it."""
    partial = partial_path(final_path(path))
    if path.is_dir() and path != partial:
        return
    if not partial.is_dir() or all((partial / f).is_file() for f in REQUIRED):
        return  # nothing there, or a finished run being renamed (its report is written then)
    ckpt = checkpoint_of(partial)
    if ckpt is None:
        raise NotARunError(f"{final_path(path)}: an incomplete run (still running, or stopped before its first "
                           "checkpoint); it has no results yet")
    step = json.loads((ckpt / "meta.json").read_text(encoding="utf-8"))["scalars"]["step"]
    steps = tomllib.loads((partial / "scenario.toml").read_text(encoding="utf-8"))["run"]["steps"]
    raise NotARunError(f"{final_path(path)}: an incomplete run, interrupted after step {step} of {steps}; "
                       f"finish it with `credsim run --resume {final_path(path)}`")


def _quote(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


class RunFolder:
    """A finished run folder, read lazily: time series, summary, scenario and SQL over its tables."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        _refuse_incomplete(self.path)
        if not self.path.is_dir():
            raise NotARunError(f"{self.path}: no such run folder (a run folder is what `credsim run` "
                               "writes: scenario.toml, timeseries.parquet, summary.json, ...)")
        missing = [f for f in REQUIRED if not (self.path / f).is_file()]
        if missing:
            partial = self.path.name.startswith(".") and ".partial-" in self.path.name
            why = "an unfinished run" if partial else "not a run folder"
            raise NotARunError(f"{self.path}: {why}: it has no {', '.join(missing)} (a run folder "
                               "holds scenario.toml, timeseries.parquet and summary.json)")
        self._con = None

    def __repr__(self) -> str:
        return f"RunFolder({str(self.path)!r}: {self.label})"

    @cached_property
    def summary(self) -> dict:
        try:
            return json.loads((self.path / "summary.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise NotARunError(f"{self.path / 'summary.json'}: cannot be read: {exc}") from None

    @cached_property
    def timeseries(self) -> pd.DataFrame:
        """The time series; `.attrs["credsim"]` holds its provenance (version, scenario hash, seed)."""
        import pyarrow.parquet as pq

        table = pq.read_table(self.path / "timeseries.parquet")
        meta = {k.decode(): v.decode() for k, v in (table.schema.metadata or {}).items()
                if k.startswith(b"credsim.")}
        df = table.to_pandas()
        df.attrs["credsim"] = {k[len("credsim."):]: v for k, v in meta.items()}
        return df

    @cached_property
    def scenario_dict(self) -> dict:
        """scenario.toml as written (plain TOML data, readable whatever the credsim version)."""
        return tomllib.loads((self.path / "scenario.toml").read_text(encoding="utf-8"))

    @cached_property
    def scenario(self):
        """The resolved scenario, validated (a `credsim.Scenario`)."""
        from ..scenario import load_scenario

        return load_scenario(self.path / "scenario.toml")

    @property
    def label(self) -> str:
        """`<scenario> (seed <seed>)`, the name runs are shown by in reports and comparisons."""
        return f"{self.summary.get('scenario', '?')} (seed {self.summary.get('seed', '?')})"

    @property
    def tables(self) -> list[str]:
        """The tables SQL can read in this run (the register only where it was written)."""
        names = [name for name, f in TABLE_FILES.items() if (self.path / f).is_file()]
        if (self.path / "register.parquet").is_file() and "appeals" in names:
            names.insert(0, "register")
        return names

    @property
    def connection(self):
        """An in-memory DuckDB connection with one view per table (see `tables`)."""
        if self._con is None:
            import duckdb

            con = duckdb.connect(":memory:")
            for name in self.tables:
                if name == "register":
                    continue
                con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet({_quote(self.path / TABLE_FILES[name])})")
            if "register" in self.tables:
                con.execute(REGISTER_VIEW.format(path=_quote(self.path / "register.parquet")))
            self._con = con
        return self._con

    def sql(self, query: str) -> pd.DataFrame:
        """Run SQL over the run's tables and return the result as a DataFrame."""
        return self.connection.execute(query).df()

    def close(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None

    def __enter__(self) -> "RunFolder":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def open_run(path: str | Path) -> RunFolder:
    """Open a finished run folder (raises `RunFolderError` if `path` is not one)."""
    return RunFolder(path)
