"""The combined outputs of a sweep, built from its run files a block of points at a time.

    DIR/timeseries/point=P/part-0.parquet  the chosen columns, one row per (replicate, step),
                                           with the seed and parameter values on every row
                                           (a Parquet dataset partitioned by point)
    DIR/outcomes.parquet                   one row per run: point, replicate, seed, parameters,
                                           status, error and every reduced outcome
    DIR/results.zarr                       an xarray Dataset: series (point x replicate x step
                                           x outcome), value (point x replicate x measure),
                                           seed and ok (point x replicate); parameters as
                                           coordinates along point; provenance in its attributes

Everything is sorted by (point, replicate, step) whatever the order in which runs finished, and
holds no wall times, so the same sweep gives the same outputs with any executor.  Memory is that
of one block of points, however many runs.  Rebuilt from the run files at any time.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ..scenario.load import finite
from .plan import Plan
from .store import SweepDir, describe, param_array

BLOCK_BYTES = 8_000_000  # one block of points in memory while assembling (and one zarr chunk)


def _block_size(plan: Plan) -> int:
    per_point = plan.spec.replicates * max(plan.steps, default=1) * len(plan.spec.outcomes) * 8
    return max(1, min(plan.n_points, BLOCK_BYTES // max(per_point, 1)))


def _outcome_schema(plan: Plan, params: dict[str, pa.Array]) -> pa.Schema:
    fields = [pa.field("point", pa.int64()), pa.field("replicate", pa.int64()), pa.field("seed", pa.int64())]
    fields += [pa.field(k, a.type) for k, a in params.items()]
    fields += [pa.field("status", pa.string()), pa.field("error", pa.string())]
    fields += [pa.field(m, pa.float64()) for m in plan.spec.measures]
    return pa.schema(fields)


def _template(plan: Plan, params: dict[str, pa.Array], block: int):
    import dask.array as da
    import xarray as xr

    spec = plan.spec
    P, R, T = plan.n_points, spec.replicates, max(plan.steps, default=0)
    cols, measures = list(spec.outcomes), spec.measures
    coords = {"point": np.arange(P), "replicate": np.arange(R), "step": np.arange(T),
              "outcome": np.array(cols, dtype=object), "measure": np.array(measures, dtype=object),
              "cell": ("point", np.arange(P) // plan.samples)}
    for key, arr in params.items():
        values = arr.to_numpy(zero_copy_only=False)
        coords[key] = ("point", values.astype(object) if values.dtype.kind in "OUS" else values)
    info = describe(plan)
    attrs = {k: info[k] for k in ("credsim_version", "name", "spec_hash", "base_scenario", "base_scenario_hash",
                                  "root_seed", "replicates", "seeds")}
    attrs.update(parameters=json.dumps(finite(info["parameters"])), outcomes=json.dumps(info["outcomes"]),
                 sampler=json.dumps(info["sampler"]), spec=json.dumps(finite(info["spec"])))
    ds = xr.Dataset(
        {"series": (("point", "replicate", "step", "outcome"),
                    da.full((P, R, T, len(cols)), np.nan, chunks=(block, R, T, len(cols)))),
         "value": (("point", "replicate", "measure"), da.full((P, R, len(measures)), np.nan,
                                                                chunks=(block, R, len(measures)))),
         "ok": (("point", "replicate"), da.zeros((P, R), dtype=bool, chunks=(block, R))),
         "seed": (("point", "replicate"), plan.seeds)},
        coords=coords, attrs=attrs)
    for key, p in plan.spec.parameters.items():
        if key in ds.coords:
            ds[key].attrs.update(kind=p.kind, role=p.role or "")
    return ds


def assemble(folder: SweepDir, plan: Plan) -> dict:
    """Write timeseries/, outcomes.parquet and results.zarr from the run files; returns counts."""
    import xarray as xr

    spec = plan.spec
    keys = list(plan.points[0]) if plan.points else []
    params = {k: param_array([pt[k] for pt in plan.points]) for k in keys}
    stage = folder.root / ".assemble"
    shutil.rmtree(stage, ignore_errors=True)
    stage.mkdir()
    block = _block_size(plan)
    template = _template(plan, params, block)
    template.to_zarr(stage / "results.zarr", mode="w", compute=False, zarr_format=2, consolidated=True)
    schema = _outcome_schema(plan, params)
    counts = {"ok": 0, "failed": 0, "missing": 0}
    R, T, cols, measures = spec.replicates, template.sizes["step"], list(spec.outcomes), spec.measures
    with pq.ParquetWriter(stage / "outcomes.parquet", schema) as writer:
        for start in range(0, plan.n_points, block):
            stop = min(start + block, plan.n_points)
            series = np.full((stop - start, R, T, len(cols)), np.nan)
            value = np.full((stop - start, R, len(measures)), np.nan)
            ok = np.zeros((stop - start, R), dtype=bool)
            rows = {f.name: [] for f in schema}
            for p in range(start, stop):
                tables = []
                for r in range(R):
                    table, meta = folder.read(p, r)
                    status = "ok" if table is not None else "failed" if meta else "missing"
                    counts[status] += 1
                    for name, v in (("point", p), ("replicate", r), ("seed", int(plan.seeds[p, r])),
                                    ("status", status), ("error", meta.get("error"))):
                        rows[name].append(v)
                    for k in keys:
                        rows[k].append(params[k][p].as_py())
                    measured = meta.get("measures", {}) if table is not None else {}
                    for i, m in enumerate(measures):
                        rows[m].append(measured.get(m))
                        value[p - start, r, i] = measured.get(m, np.nan)
                    if table is None:
                        continue
                    ok[p - start, r] = True
                    steps = table.column("step").to_numpy()
                    for j, c in enumerate(cols):
                        series[p - start, r, steps, j] = table.column(c).to_numpy()
                    n = table.num_rows
                    front = {"replicate": pa.array([r] * n, pa.int64()),
                             "seed": pa.array([int(plan.seeds[p, r])] * n, pa.int64()),
                             **{k: pa.repeat(params[k][p], n) if n else params[k][:0] for k in keys}}
                    tables.append(pa.table({**front, **{name: table.column(name) for name in table.column_names}}))
                if tables:
                    part = stage / "timeseries" / f"point={p}"
                    part.mkdir(parents=True)
                    pq.write_table(pa.concat_tables(tables, promote_options="default"), part / "part-0.parquet")
            writer.write_table(pa.table(rows, schema=schema))
            xr.Dataset({"series": (("point", "replicate", "step", "outcome"), series),
                        "value": (("point", "replicate", "measure"), value),
                        "ok": (("point", "replicate"), ok)}).to_zarr(
                stage / "results.zarr", region={"point": slice(start, stop)}, zarr_format=2)
    if not (stage / "timeseries").exists():
        (stage / "timeseries").mkdir()
    for name in ("timeseries", "outcomes.parquet", "results.zarr"):
        target = folder.root / name
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()
        (stage / name).rename(target)
    stage.rmdir()
    return counts


def open_dataset(root: str | Path):
    """The sweep's xarray Dataset (results.zarr), read lazily."""
    import xarray as xr

    return xr.open_zarr(Path(root) / "results.zarr")


def read_timeseries(root: str | Path):
    """The time-series table as a DataFrame (point as an integer), sorted by point, replicate, step."""
    import pyarrow.dataset as ds

    data = ds.dataset(Path(root) / "timeseries", format="parquet",
                      partitioning=ds.partitioning(pa.schema([("point", pa.int64())]), flavor="hive"))
    df = data.to_table().to_pandas()
    front = ["point"] + [c for c in df.columns if c != "point"]
    return df[front].sort_values(["point", "replicate", "step"], kind="stable").reset_index(drop=True)


def read_outcomes(root: str | Path):
    """One row per run: point, replicate, seed, parameters, status, error and the reduced outcomes."""
    return pq.read_table(Path(root) / "outcomes.parquet").to_pandas()
