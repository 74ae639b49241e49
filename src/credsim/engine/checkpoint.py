"""Checkpoints: the whole state of a simulation between two steps, saved and restored exactly.

What a checkpoint holds: every array of `State`, the network's slots (ties are cut and formed
during a run), every random stream's state, the rows written so far, the timeline changes
applied, and the reference simulation's own checkpoint where there is one.  What it does not
hold, because it is rebuilt bit for bit from the scenario and its seed: the society (regions,
persons, companies) and the network view, which one pass over the restored network recomputes.
A restored simulation therefore continues exactly as the original would have.

Files are written under temporary names and renamed, so a checkpoint on disk is always whole.
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import numpy as np

from ..society.network import pack_rows
from .state import State

FORMAT = 1
_SCALARS = ("boost", "compliance_ref", "step")


def _arrays(sim) -> dict[str, np.ndarray]:
    st: State = sim.state
    out = {}
    for f in dataclasses.fields(st):
        value = getattr(st, f.name)
        if isinstance(value, np.ndarray):
            out[f"state.{f.name}"] = value
    g = sim.society.graph
    out["graph.nbr"] = g.nbr
    out["graph.family"] = g.family
    return out


def _meta(sim) -> dict:
    st = sim.state
    return {
        "format": FORMAT,
        "scalars": {k: getattr(st, k) for k in _SCALARS},
        "has_grade_mid": st.grade_mid is not None,
        "rng": {name: g.bit_generator.state for name, g in sim.rng.items()},
        "rows": sim.rows,
        "applied": sim.applied,
    }


def save(sim, folder: str | Path, extra: dict | None = None) -> Path:
    """Write `sim`'s checkpoint into `folder` (created), atomically, and return the folder.

    `extra` (plain JSON) is kept with it for the caller (e.g. the wall time so far)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    arrays = _arrays(sim)
    if sim.state.grade_mid is None:
        arrays.pop("state.grade_mid", None)
    tmp = folder / f".arrays.npz.tmp-{os.getpid()}"
    with open(tmp, "wb") as fh:
        np.savez(fh, **arrays)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, folder / "arrays.npz")
    if sim.reference is not None:
        save(sim.reference, folder / "reference")
    tmp = folder / f".meta.json.tmp-{os.getpid()}"
    tmp.write_text(json.dumps(dict(_meta(sim), extra=extra or {}), default=_plain), encoding="utf-8")
    os.replace(tmp, folder / "meta.json")  # written last: its presence marks a whole checkpoint
    return folder


def _plain(obj):
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    raise TypeError(f"cannot store {type(obj).__name__} in a checkpoint")


def read_extra(folder: str | Path) -> dict:
    """What the caller kept with a checkpoint (see `save`)."""
    return json.loads((Path(folder) / "meta.json").read_text(encoding="utf-8")).get("extra", {})


def restore(sim, folder: str | Path) -> None:
    """Load a checkpoint written by `save` into `sim`, a fresh Simulation of the same scenario."""
    folder = Path(folder)
    meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    if meta.get("format") != FORMAT:
        raise ValueError(f"checkpoint {folder}: format {meta.get('format')} is not {FORMAT}")
    with np.load(folder / "arrays.npz") as data:
        st = sim.state
        for key in data.files:
            kind, name = key.split(".", 1)
            target = sim.society.graph if kind == "graph" else st
            current = getattr(target, name)
            loaded = data[key]
            if isinstance(current, np.ndarray) and current.shape == loaded.shape:
                current[...] = loaded
            else:
                setattr(target, name, loaded.copy())
    g = sim.society.graph
    pack_rows(g.indptr, g.nbr, g.family)  # live ties first (a checkpoint from before 2026-12 may have holes)
    if not meta["has_grade_mid"]:
        sim.state.grade_mid = None
    for k, v in meta["scalars"].items():
        setattr(sim.state, k, v)
    for name, state in meta["rng"].items():
        sim.rng[name].bit_generator.state = state
    sim.rows = meta["rows"]
    sim.applied = meta["applied"]
    sim.resume_scenario()
    if sim.reference is not None:
        restore(sim.reference, folder / "reference")
    sim.view = sim._perceive()
