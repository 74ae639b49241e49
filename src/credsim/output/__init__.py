"""Outputs: the run folder (scenario.toml, timeseries.parquet, summary.json, the register,
the snapshots, report.html) and reading it back (`open_run`)."""

from .register import RunWriter
from .rundir import RunFolderError, StagedRun, default_run_dir, finish_run, provenance_metadata, write_run

__all__ = ["RunFolderError", "RunWriter", "StagedRun", "default_run_dir", "finish_run",
           "provenance_metadata", "write_run"]
