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


def make_society(scenario: Scenario, rngs: dict[str, np.random.Generator]) -> Society:
    p = scenario.population
    regions = make_regions(p, rngs["regions"])
    persons = make_persons(p, regions, rngs["persons"])
    companies = make_companies(p, regions, persons, rngs["companies"])
    graph = build_network(scenario.network, persons, regions, rngs["network"])
    return Society(regions=regions, persons=persons, companies=companies, graph=graph)


__all__ = ["Companies", "Graph", "Persons", "Regions", "Society", "make_society"]
