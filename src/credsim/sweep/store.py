"""The sweep folder: the plan, one small file per finished run, the errors of failed runs.

    DIR/sweep.toml                       the sweep file as given
    DIR/sweep.json                       the validated spec, its hash, provenance, the parameters
    DIR/base.toml                        the resolved base scenario (the constants applied)
    DIR/points.parquet                   one row per point: its parameter values
    DIR/samples.parquet                  the sampler's rows (before integer settings are rounded)
    DIR/runs/point=P/rep=R.parquet       a finished run: the chosen columns by step; the reduced
                                         outcomes, seed and wall time in the file's metadata
    DIR/runs/point=P/rep=R.error.json    a failed run: its error and traceback

Each run file is written under a temporary name and renamed, so a run file is always complete:
a sweep run again into the same folder skips every run whose file exists ("nothing lost,
nothing twice").  A folder made by a different sweep is refused.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from .._version import __version__
from ..output.rundir import RunFolderError
from ..scenario.load import finite
from .plan import Plan
from .task import RunResult

RUN_META = b"credsim.run"


def param_array(values: list) -> pa.Array:
    """A parameter's values as one typed column; lists, tables and mixed types as JSON text."""
    if all(isinstance(v, (int, float, bool, str)) for v in values):
        try:
            return pa.array(values)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            pass
    return pa.array([json.dumps(v, sort_keys=True) for v in values], type=pa.string())


def describe(plan: Plan) -> dict:
    """The sweep as written in sweep.json and in the dataset's attributes."""
    spec = plan.spec
    return {
        "credsim_version": __version__,
        "name": spec.name,
        "description": spec.description,
        "spec_hash": plan.digest(),
        "base_scenario": spec.scenario,
        "base_scenario_hash": plan.base_hash,
        "root_seed": spec.seed,
        "replicates": spec.replicates,
        "points": plan.n_points,
        "runs": plan.n_runs,
        "grid_cells": plan.cells,
        "samples_per_cell": plan.samples,
        "parameters": {k: {"kind": p.kind, "role": p.role,
                           **({"values": list(p.values)} if p.values is not None else {}),
                           **({"range": list(p.range)} if p.range is not None else {}),
                           **({"value": p.value} if p.kind == "constant" else {})}
                       for k, p in spec.parameters.items()},
        "sampler": spec.sampler.model_dump(mode="json") if spec.sampler else None,
        "problem": plan.problem,
        "outcomes": {c: list(r) for c, r in spec.outcomes.items()},
        "measures": spec.measures,
        "seeds": "SeedSequence(root_seed, spawn_key=(point, replicate)).generate_state(1, uint64) >> 1",
        "spec": spec.model_dump(mode="json"),
    }


def _atomic_write(path: Path, write) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    write(tmp)
    os.replace(tmp, path)


class SweepDir:
    """A sweep's output folder."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.runs = self.root / "runs"

    # -- the plan ----------------------------------------------------------------------------
    def prepare(self, plan: Plan, source_text: str) -> bool:
        """Create the folder for `plan`, or check that it was made by the same sweep.

        Returns True when resuming an earlier attempt.  Raises `RunFolderError` (exit 2) for a
        folder made by another sweep or one that is not a sweep folder.
        """
        info = self.root / "sweep.json"
        if info.is_file():
            self._check_same(plan, json.loads(info.read_text(encoding="utf-8")))
            self._clean_temporaries()
            return True
        if self.root.exists() and (not self.root.is_dir() or any(self.root.iterdir())):
            raise RunFolderError(f"--out {self.root}: already exists and is not a sweep folder (no sweep.json); "
                                 "choose another or remove it")
        from ..scenario import load_scenario, to_toml

        try:
            self.runs.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise RunFolderError(f"--out {self.root}: cannot create it: {exc.strerror or exc}") from None
        (self.root / "sweep.toml").write_text(source_text, encoding="utf-8")
        (self.root / "base.toml").write_text(to_toml(load_scenario(plan.base)), encoding="utf-8")
        keys = list(plan.points[0]) if plan.points else []
        table = pa.table({"point": pa.array(range(plan.n_points), pa.int64()),
                          "cell": pa.array([p // plan.samples for p in range(plan.n_points)], pa.int64()),
                          "sample": pa.array([p % plan.samples for p in range(plan.n_points)], pa.int64()),
                          "steps": pa.array(plan.steps, pa.int64()),
                          **{k: param_array([pt[k] for pt in plan.points]) for k in keys}})
        pq.write_table(table, self.root / "points.parquet")
        if plan.X is not None:  # the sampler's rows before rounding, for the sensitivity analysis
            pq.write_table(pa.table({k: plan.X[:, i] for i, k in enumerate(plan.problem["names"])}),
                           self.root / "samples.parquet")
        text = json.dumps(finite(describe(plan)), indent=2, allow_nan=False) + "\n"
        _atomic_write(info, lambda tmp: tmp.write_text(text, encoding="utf-8"))  # last: marks the folder ready
        return False

    def _check_same(self, plan: Plan, stored: dict) -> None:
        if stored.get("spec_hash") == plan.digest():
            return
        new = describe(plan)
        old_spec, new_spec = stored.get("spec", {}), new["spec"]
        changed = sorted(k for k in set(old_spec) | set(new_spec)
                         if k not in ("name", "description") and old_spec.get(k) != new_spec.get(k))
        if stored.get("base_scenario_hash") != plan.base_hash:
            changed.append("the base scenario's resolved settings")
        raise RunFolderError(
            f"--out {self.root}: was made by a different sweep (hash {stored.get('spec_hash')}; this sweep's "
            f"is {plan.digest()}; changed: {', '.join(changed) or 'unknown'}). Its runs cannot be reused: "
            "choose another --out, or remove the folder to start over")

    def _clean_temporaries(self) -> None:
        for tmp in self.runs.glob("point=*/.*.tmp-*"):
            tmp.unlink(missing_ok=True)

    # -- runs ----------------------------------------------------------------------------------
    def run_path(self, point: int, replicate: int, error: bool = False) -> Path:
        return self.runs / f"point={point}" / f"rep={replicate}{'.error.json' if error else '.parquet'}"

    def finished(self) -> set[tuple[int, int]]:
        """(point, replicate) of every run with a result file."""
        out = set()
        for path in self.runs.glob("point=*/rep=*.parquet"):
            out.add((int(path.parent.name[6:]), int(path.name[4:-8])))
        return out

    def write(self, result: RunResult) -> None:
        """Record one run: its result file, or its error (a later success replaces the error)."""
        path = self.run_path(result.point, result.replicate, error=not result.ok)
        path.parent.mkdir(parents=True, exist_ok=True)
        if result.ok:
            meta = {"point": result.point, "replicate": result.replicate, "seed": result.seed,
                    "measures": result.measures, "wall_s": round(result.wall_s, 4),
                    "attempts": result.attempts, "credsim_version": __version__}
            table = pa.table({"step": result.steps, **result.series})
            table = table.replace_schema_metadata({RUN_META: json.dumps(finite(meta)).encode()})
            _atomic_write(path, lambda tmp: pq.write_table(table, tmp))
            self.run_path(result.point, result.replicate, error=True).unlink(missing_ok=True)
        else:
            doc = {"point": result.point, "replicate": result.replicate, "seed": result.seed,
                   "error": result.error, "attempts": result.attempts, "traceback": result.traceback}
            _atomic_write(path, lambda tmp: tmp.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8"))

    def read(self, point: int, replicate: int) -> tuple[pa.Table | None, dict]:
        """A run's table and metadata, or (None, error record), or (None, {}) if it never ran."""
        path = self.run_path(point, replicate)
        if path.is_file():
            table = pq.read_table(path)
            return table, json.loads(table.schema.metadata[RUN_META])
        err = self.run_path(point, replicate, error=True)
        if err.is_file():
            return None, json.loads(err.read_text(encoding="utf-8"))
        return None, {}

    def info(self) -> dict:
        path = self.root / "sweep.json"
        if not path.is_file():
            raise RunFolderError(f"{self.root}: not a sweep folder (no sweep.json); "
                                 "give the --out folder of `credsim sweep`")
        return json.loads(path.read_text(encoding="utf-8"))
