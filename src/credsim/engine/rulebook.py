"""The rulebook, compiled from the scenario's `[[rules]]` into lookups the phases use."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..scenario.schema import Scenario


@dataclass(frozen=True)
class Kinds:
    """The record kinds of one action: names, cumulative shares and points (kind order)."""

    names: tuple
    cum: np.ndarray     # float32 cumulative shares, the last forced to 1
    points: np.ndarray  # float32 points of each kind (0 where scoring is off)


@dataclass(frozen=True)
class Rulebook:
    points: dict   # event -> points (0 where no rule); the mean over kinds where it has kinds
    lists: dict    # event -> True if an observed record lists the subject directly
    kinds: dict = field(default_factory=dict)  # event -> Kinds, for rules with record kinds

    @classmethod
    def from_scenario(cls, sc: Scenario) -> "Rulebook":
        scoring = sc.scoring.enabled
        listing = sc.lists.blacklist
        kinds = {}
        for r in sc.rules:
            if r.kinds:
                cum = np.cumsum([k.share for k in r.kinds]).astype(np.float32)
                cum[-1] = 1.0
                pts = np.array([k.points if scoring else 0.0 for k in r.kinds], np.float32)
                kinds[r.event] = Kinds(tuple(k.name for k in r.kinds), cum, pts)
        return cls(
            points={r.event: (r.mean_points if scoring else 0.0) for r in sc.rules},
            lists={r.event: (r.lists and listing) for r in sc.rules},
            kinds=kinds,
        )

    def pts(self, event: str) -> float:
        return self.points.get(event, 0.0)

    def listing(self, event: str) -> bool:
        return self.lists.get(event, False)

    def declared_bad(self, event: str) -> bool:
        return self.pts(event) < 0 or self.listing(event)

    def declared_good(self, event: str) -> bool:
        return self.pts(event) > 0

    def penalty(self, event: str, point_scale: float, listing_penalty: float) -> tuple[float, float]:
        """(points part, listing part) of the deterrent, in utility units."""
        return max(-self.pts(event), 0.0) / point_scale, listing_penalty * self.listing(event)
