"""One seeded random tree: a `SeedSequence` per run, one child stream per mechanism.

Each stream's position in `STREAMS` is its spawn key, so the list is append-only: adding a
mechanism never shifts the numbers another mechanism draws.
"""

from __future__ import annotations

import numpy as np

STREAMS: tuple[str, ...] = (
    "regions",
    "persons",
    "companies",
    "network",
    "rollout",
    "actions",
    "observation",
    "scoring",
    "lists",
    "consequences",
    "learning",
    "ties",
    "metrics",
    "output",   # the register's panel; drawn by the output writer, never by the model
)


def streams(seed: int) -> dict[str, np.random.Generator]:
    """A fresh generator for every stream of a run with this root seed."""
    return {name: stream(seed, name) for name in STREAMS}


def stream(seed: int, name: str) -> np.random.Generator:
    """The one generator `name` of a run with this root seed (as `streams(seed)[name]`)."""
    i = STREAMS.index(name)
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(i,))))
