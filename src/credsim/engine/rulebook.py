"""The rulebook, compiled from the scenario's `[[rules]]` into lookups the phases use."""

from __future__ import annotations

from dataclasses import dataclass

from ..scenario.schema import Scenario


@dataclass(frozen=True)
class Rulebook:
    points: dict   # event -> points (0 where no rule)
    lists: dict    # event -> True if an observed record lists the subject directly

    @classmethod
    def from_scenario(cls, sc: Scenario) -> "Rulebook":
        scoring = sc.scoring.enabled
        listing = sc.lists.blacklist
        return cls(
            points={r.event: (r.points if scoring else 0.0) for r in sc.rules},
            lists={r.event: (r.lists and listing) for r in sc.rules},
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
