"""Helpers for tests that build or read the network's slot arrays directly."""

from __future__ import annotations

import numpy as np


def live_friends(indptr: np.ndarray, nbr: np.ndarray, family: np.ndarray) -> np.ndarray:
    """Each person's live friend ties: slots holding a neighbour (>= 0) that are not family
    (rows may be empty)."""
    owner = np.repeat(np.arange(len(indptr) - 1), np.diff(indptr))
    live = (nbr >= 0) & ~family
    return np.bincount(owner[live], minlength=len(indptr) - 1).astype(np.int32)
