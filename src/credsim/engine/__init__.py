"""The engine: state arrays, random streams, the rulebook and the monthly step."""

from .simulation import Simulation

__all__ = ["Simulation"]
