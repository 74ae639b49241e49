"""The synthetic society: regions, persons, companies and their social network."""

from dataclasses import dataclass

import numpy as np

from ..scenario.schema import Scenario
from .network import Graph, build_network
from .population import Companies, Persons, Regions, make_companies, make_persons, make_regions


@dataclass
class Society:
    regions: Regions
    persons: Persons
    companies: Companies
    graph: Graph


BASE_BYTES = 150 * 2**20          # the interpreter and the libraries
PERSON_BYTES = 200                # state, society and per-step arrays per person
SLOT_BYTES = 13                   # per tie slot: neighbour and family flag, and the build keys


def estimate_bytes(scenario: Scenario) -> int:
    """Peak memory of a run, from measured costs per person and per tie slot (a reference
    run takes twice as much)."""
    p, net = scenario.population, scenario.network
    per_person = PERSON_BYTES + SLOT_BYTES * (net.mean_degree + net.slack)
    runs = 2 if scenario.run.reference else 1
    return int(BASE_BYTES + runs * p.agents * per_person)


def available_bytes() -> int | None:
    """MemAvailable from /proc/meminfo, or None where it cannot be read."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


class TooBig(ValueError):
    """A run that would not fit in memory (refused before anything is built)."""


def check_memory(scenario: Scenario) -> None:
    need, free = estimate_bytes(scenario), available_bytes()
    if free is not None and need > free:
        gib = 2**30
        raise TooBig(
            f"population.agents = {scenario.population.agents:,}: a run of this size needs about "
            f"{need / gib:.1f} GiB and {free / gib:.1f} GiB is available; allowed: fewer agents "
            f"or a lower network.mean_degree, or pass --no-memory-check (memory_check=False) to try anyway")


def make_society(scenario: Scenario, rngs: dict[str, np.random.Generator]) -> Society:
    p = scenario.population
    regions = make_regions(p, rngs["regions"])
    persons = make_persons(p, regions, rngs["persons"])
    companies = make_companies(p, regions, persons, rngs["companies"])
    graph = build_network(scenario.network, persons, regions, rngs["network"])
    return Society(regions=regions, persons=persons, companies=companies, graph=graph)


__all__ = ["Companies", "Graph", "Persons", "Regions", "Society", "TooBig", "check_memory",
           "estimate_bytes", "make_society"]
