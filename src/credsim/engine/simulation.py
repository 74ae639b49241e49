"""The simulation: a frozen scenario, a society, the state, and the monthly step.

The step is the phase list of docs/ODD.md ("Process overview and scheduling"):

    1 roll-out -> 2 actions -> 3 observation -> 4 scoring -> 5 lists -> 6 consequences
    -> 7 learning -> 8 ties

Each phase is one function of one module in `credsim.mechanisms`.  Before the first step and
after each step one pass over the network computes what every person sees of its ties
(`NetworkView`); the next step's phases and this step's metrics read it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import metrics
from ..mechanisms import actions, consequences, learning, lists, observation, rollout, scoring, ties
from ..scenario.events import channel_of
from ..scenario.schema import Scenario
from ..society import Society, make_society
from ..society.network import aggregate
from .rng import streams
from .rulebook import Rulebook
from .state import ACTION_BITS, N_BITS, State, StepContext, initial_state

PHASES = (
    ("rollout", rollout.step),
    ("actions", actions.step),
    ("feedback", rollout.feedback),
    ("observation", observation.step),
    ("scoring", scoring.step),
    ("lists", lists.step),
    ("consequences", consequences.step),
    ("learning", learning.step),
    ("ties", ties.step),
)


@dataclass
class NetworkView:
    tie_mean: np.ndarray
    listed_ties: np.ndarray
    degree: np.ndarray
    friend_degree: np.ndarray
    tie_did: np.ndarray
    tie_obs: np.ndarray


class Simulation:
    """One run: `Simulation(scenario).run()` or step by step with `step()`."""

    def __init__(self, scenario: Scenario):
        self.sc = scenario
        self.rng = streams(scenario.run.seed)
        self.society: Society = make_society(scenario, self.rng)
        self.state: State = initial_state(scenario, self.society)
        self.rulebook = Rulebook.from_scenario(scenario)
        self.income_ref = float(np.median(self.society.persons.income_base))
        self.channel_of = channel_of
        self.view = self._perceive()
        self.rows: list[dict] = []
        self.last_ctx: StepContext | None = None  # the last step's context, for observers (the register)

    def _perceive(self) -> NetworkView:
        g, st = self.society.graph, self.state
        n = g.n
        v = NetworkView(
            tie_mean=np.empty(n, np.float32),
            listed_ties=np.empty(n, np.int32),
            degree=np.empty(n, np.int32),
            friend_degree=np.empty(n, np.int32),
            tie_did=np.empty((N_BITS, n), np.int32),
            tie_obs=np.empty((N_BITS, n), np.int32),
        )
        aggregate(g.indptr, g.nbr, g.family, st.score, st.black, st.acted, st.observed, N_BITS,
                  v.tie_mean, v.listed_ties, v.degree, v.friend_degree, v.tie_did, v.tie_obs)
        return v

    def step(self) -> dict:
        st = self.state
        ctx = StepContext(t=st.step)
        v = self.view
        ctx.tie_mean, ctx.listed_ties, ctx.degree = v.tie_mean, v.listed_ties, v.degree
        ctx.friend_degree, ctx.tie_did, ctx.tie_obs = v.friend_degree, v.tie_did, v.tie_obs
        for _, phase in PHASES:
            phase(self, ctx)
        self._remember_actions(ctx)
        self.view = self._perceive()
        if st.step == self.sc.run.steps // 2:
            st.grade_mid = st.grade.copy()
        row = metrics.step_row(self, ctx, self.view)
        self.rows.append(row)
        self.last_ctx = ctx
        st.step += 1
        return row

    def _remember_actions(self, ctx: StepContext) -> None:
        st = self.state
        acted = np.zeros(len(st.acted), np.uint16)
        observed = np.zeros(len(st.acted), np.uint16)
        for ev, bit in ACTION_BITS.items():
            acted |= ctx.did[ev].astype(np.uint16) << bit
            seen = np.zeros(len(st.acted), np.uint16)
            seen[ctx.observed[ev]] = 1
            observed |= seen << bit
        st.acted, st.observed = acted, observed

    def run(self, progress=None) -> list[dict]:
        for _ in range(self.sc.run.steps - self.state.step):
            self.step()
            if progress is not None:
                progress()
        return self.rows

    def summary(self) -> dict:
        return metrics.final_summary(self)
