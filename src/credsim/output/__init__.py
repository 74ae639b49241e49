"""Outputs: the run folder (scenario.toml, timeseries.parquet, summary.json)."""

from .rundir import RunFolderError, default_run_dir, write_run

__all__ = ["RunFolderError", "default_run_dir", "write_run"]
