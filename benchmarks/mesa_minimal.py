"""The minimal networked scoring model in idiomatic Mesa 3.5.1 (run it in the Mesa venv).

N persons on a random graph of mean degree 10 (networkx `gnm_random_graph`).  Each step each
person, in random order (`model.agents.shuffle_do("step")`):
    m = mean score of its ties (its own score where it has none)
    acts (a bad action) with p = clip(0.05 + 0.1 * (1 - m / 1000), 0, 1)
    an act is observed with probability 0.1
    score += 0.01 * (1000 - score)  - 10 * observed
This is sequential (asynchronous) activation, as `shuffle_do` gives: a person reads the scores
its ties hold at that moment.  credsim's kernel (`minimal_credsim.py`) is synchronous (double
buffered); both settle at a mean score of about 995, and the work per person is the same.

Three ways to hold the network, `--space`:
    list         each agent keeps a list of its neighbour agents (fastest; the default, so the
                 ratio to Mesa is the conservative one)
    network      mesa.discrete_space.Network + CellAgent, `self.cell.neighborhood.agents`
    networkgrid  mesa.space.NetworkGrid, `grid.get_neighbors(self.pos)` (legacy space)

Only the steps are timed; building the graph and the agents is reported separately.

    .venv-mesa/bin/python benchmarks/mesa_minimal.py --n 100000 --steps 5 --reps 3

With `--serve`, the model stays up and runs `--steps` steps each time `paired.py` asks.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import mesa  # noqa: E402
import networkx as nx  # noqa: E402

from common import emit, log, serve, stats  # noqa: E402

BASE = 1000.0


def _act(agent, m: float) -> None:
    p = 0.05 + 0.1 * (1.0 - m / BASE)
    p = 0.0 if p < 0.0 else (1.0 if p > 1.0 else p)
    rnd = agent.random.random
    observed = rnd() < p and rnd() < 0.1
    agent.score += 0.01 * (BASE - agent.score) - (10.0 if observed else 0.0)


class ListPerson(mesa.Agent):
    def __init__(self, model):
        super().__init__(model)
        self.score = BASE
        self.ties: list = []

    def step(self):
        ties = self.ties
        m = sum(a.score for a in ties) / len(ties) if ties else self.score
        _act(self, m)


class CellPerson(mesa.discrete_space.CellAgent):
    def __init__(self, model, cell):
        super().__init__(model)
        self.score = BASE
        self.cell = cell

    def step(self):
        ties = list(self.cell.neighborhood.agents)
        m = sum(a.score for a in ties) / len(ties) if ties else self.score
        _act(self, m)


class GridPerson(mesa.Agent):
    def __init__(self, model):
        super().__init__(model)
        self.score = BASE

    def step(self):
        ties = self.model.grid.get_neighbors(self.pos)
        m = sum(a.score for a in ties) / len(ties) if ties else self.score
        _act(self, m)


class MinimalModel(mesa.Model):
    def __init__(self, n: int, mean_degree: float = 10.0, space: str = "list", seed: int = 1):
        super().__init__(rng=seed)
        g = nx.gnm_random_graph(n, int(round(n * mean_degree / 2)), seed=seed)
        self.ties = g.number_of_edges()
        if space == "list":
            people = [ListPerson(self) for _ in range(n)]
            for i, a in enumerate(people):
                a.ties = [people[j] for j in g.adj[i]]
        elif space == "network":
            self.grid = mesa.discrete_space.Network(g, random=self.random, layout=None)
            for i in range(n):
                CellPerson(self, self.grid._cells[i])
        elif space == "networkgrid":
            self.grid = mesa.space.NetworkGrid(g)
            for i in range(n):
                a = GridPerson(self)
                self.grid.place_agent(a, i)
        else:
            raise ValueError(space)

    def step(self):
        self.agents.shuffle_do("step")

    def mean_score(self) -> float:
        return sum(a.score for a in self.agents) / len(self.agents)


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--degree", type=float, default=10.0)
    ap.add_argument("--steps", type=int, default=5, help="steps per repetition")
    ap.add_argument("--reps", type=int, default=3, help="timed repetitions (one model, consecutive blocks)")
    ap.add_argument("--space", choices=("list", "network", "networkgrid"), default="list")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--serve", action="store_true",
                    help="for paired.py: after the warm-up, run --steps steps per line read from stdin")
    a = ap.parse_args(argv)
    t = time.perf_counter()
    model = MinimalModel(a.n, a.degree, a.space, a.seed)
    build = time.perf_counter() - t
    log(f"mesa[{a.space}] n={a.n}: built in {build:.1f} s")
    model.step()  # warm-up (lazy caches such as the cell neighbourhoods)
    gc.collect()

    def block() -> dict:
        """`--steps` steps: seconds a step and agent-steps/s."""
        t = time.perf_counter()
        for _ in range(a.steps):
            model.step()
        dt = (time.perf_counter() - t) / a.steps
        return {"step_s": dt, "agent_steps_per_s": a.n / dt}

    if a.serve:
        serve(block, {"bench": "mesa_minimal", "mesa_version": mesa.__version__, "space": a.space, "n": a.n,
                      "mean_degree": 2.0 * model.ties / a.n, "build_s": build})
        return {}
    per_step = []
    for r in range(a.reps):
        dt = block()["step_s"]
        per_step.append(dt)
        log(f"  rep {r}: {dt * 1e3:.0f} ms/step, {a.n / dt:,.0f} agent-steps/s")
    rate = stats([a.n / s for s in per_step])
    res = {
        "bench": "mesa_minimal", "mesa_version": mesa.__version__, "networkx_version": nx.__version__,
        "space": a.space, "n": a.n, "mean_degree": 2.0 * model.ties / a.n, "ties": model.ties,
        "steps_per_rep": a.steps, "reps": a.reps, "build_s": build,
        "step_s": stats(per_step), "agent_steps_per_s": rate,
        "mean_score_end": model.mean_score(),
    }
    emit(res)
    return res


if __name__ == "__main__":
    main()
