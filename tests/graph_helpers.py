"""Helpers for tests that build or read the network's slot arrays directly."""

from __future__ import annotations

import numpy as np


def live_friends(indptr: np.ndarray, nbr: np.ndarray, family: np.ndarray) -> np.ndarray:
    """Each person's live friend ties: slots holding a neighbour (>= 0) that are not family
    (rows may be empty)."""
    owner = np.repeat(np.arange(len(indptr) - 1), np.diff(indptr))
    live = (nbr >= 0) & ~family
    return np.bincount(owner[live], minlength=len(indptr) - 1).astype(np.int32)


def packed(indptr: np.ndarray, nbr: np.ndarray, family: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The rows with their live ties first, in their order, as the engine keeps them."""
    nbr, family = nbr.copy(), family.copy()
    for i in range(len(indptr) - 1):
        lo, hi = indptr[i], indptr[i + 1]
        order = np.argsort(nbr[lo:hi] < 0, kind="stable")
        nbr[lo:hi], family[lo:hi] = nbr[lo:hi][order], family[lo:hi][order]
    family[nbr < 0] = False
    return nbr, family


def live_ties(indptr: np.ndarray, nbr: np.ndarray) -> np.ndarray:
    """Each person's live ties (rows may be empty)."""
    owner = np.repeat(np.arange(len(indptr) - 1), np.diff(indptr))
    return np.bincount(owner[nbr >= 0], minlength=len(indptr) - 1).astype(np.int32)
