"""The simulation: a frozen scenario, a society, the state, and the monthly step.

The step is the phase list of docs/ODD.md ("Process overview and scheduling"):

    1 roll-out -> 2 actions -> 3 observation -> 4 scoring -> 5 lists -> 6 consequences
    -> 7 learning -> 8 ties

Each phase is one function of one module in `credsim.mechanisms`.  Before the first step and
after each step one pass over the network computes what every person sees of its ties
(`NetworkView`); the next step's phases and this step's metrics read it.

A `[[timeline]]` entry swaps the scenario in force at the start of its step (phases read
`sim.sc` every step).  With `run.reference`, a second simulation of the same society and seed
runs in lockstep under the scenario the last timeline entry leaves (the world that never had
what the timeline removed); its key columns join each row as `<column>_reference`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import metrics
from ..mechanisms import actions, consequences, learning, lists, observation, rollout, scoring, ties
from ..scenario.load import timeline_scenarios
from ..scenario.schema import Scenario
from ..society import Society, check_memory, make_society
from ..society.network import aggregate, spread_table
from ..randomness import streams
from .rulebook import Rulebook
from . import checkpoint
from .state import N_SEEN, State, StepContext, initial_state

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
    score_range: tuple = None  # the least and greatest score when the view was taken


def _new_view(n: int) -> NetworkView:
    return NetworkView(tie_mean=np.empty(n, np.float32), listed_ties=np.empty(n, np.int32),
                       degree=np.empty(n, np.int32), friend_degree=np.empty(n, np.int32),
                       tie_did=np.empty(n, np.uint64), tie_obs=np.empty(n, np.uint64))


class Simulation:
    """One run: `Simulation(scenario).run()` or step by step with `step()`."""

    def __init__(self, scenario: Scenario, memory_check: bool = True):
        if memory_check:
            check_memory(scenario)
        self.scenario = scenario  # as loaded; `sc` is the scenario in force this step
        self.sc = scenario
        self.timeline = {}
        for step, sc_k, n_keys in timeline_scenarios(scenario):
            self.timeline[step] = (sc_k, self.timeline.get(step, (None, 0))[1] + n_keys)
        self.applied: list[dict] = []
        self.reference = (Simulation(reference_scenario(scenario), memory_check=False)
                          if scenario.run.reference else None)
        self.rng = streams(scenario.run.seed)
        self.society: Society = make_society(scenario, self.rng)
        self.state: State = initial_state(scenario, self.society)
        self.rulebook = Rulebook.from_scenario(scenario)
        self.income_ref = float(np.median(self.society.persons.income_base))
        self._spread = spread_table(N_SEEN)
        # one buffer, rewritten after each step's phases are done with the view of its start:
        # no new pages are touched each step (at 10M persons, 400 MB of fresh pages cost about
        # 0.1 s), and the step's working set holds one view, not two (3.2 MB at 1e5)
        self._buffer = _new_view(self.society.graph.n)
        self._words = np.empty(self.society.graph.n, np.uint64)  # each person's packed word
        self.view = self._perceive()
        self.rows: list[dict] = []
        self.last_ctx: StepContext | None = None  # the last step's context, for observers (the register)
        self._memo: dict = {}

    def memo(self, name: str, build):
        """`build()`, made once and kept while the scenario in force and the rulebook are the
        objects it was made under (a timeline change makes new ones).  For the phases'
        parameter arrays, which otherwise cost tens of microseconds a step to rebuild."""
        hit = self._memo.get(name)
        if hit is not None and hit[0] is self.sc and hit[1] is self.rulebook:
            return hit[2]
        value = build()
        self._memo[name] = (self.sc, self.rulebook, value)
        return value

    def _perceive(self) -> NetworkView:
        """What every person sees of its ties after this step (into the one buffer: the step's
        phases, which read the view of its start, are done)."""
        g, st = self.society.graph, self.state
        v = self._buffer
        v.score_range = aggregate(g.indptr, g.nbr, g.n_family, st.score, st.black, st.acted, st.observed,
                                  self._spread, N_SEEN, v.tie_mean, v.listed_ties, v.degree, v.friend_degree,
                                  v.tie_did, v.tie_obs, self._words)
        return v

    def _apply_timeline(self, ctx: StepContext) -> None:
        change = self.timeline.get(ctx.t)
        if change is None:
            return
        self.sc, n_keys = change
        self.rulebook = Rulebook.from_scenario(self.sc)
        ctx.add("timeline_changes", n_keys)
        for entry in self.scenario.timeline:
            if entry.step == ctx.t:
                self.applied.append({"step": ctx.t, "at": entry.at, "set": dict(entry.set)})

    def resume_scenario(self) -> None:
        """Put in force the scenario of the last timeline change before the next step."""
        self.sc = self.scenario
        for step in sorted(self.timeline):
            if step < self.state.step:
                self.sc = self.timeline[step][0]
        self.rulebook = Rulebook.from_scenario(self.sc)

    def save_checkpoint(self, folder, extra: dict | None = None) -> None:
        checkpoint.save(self, folder, extra)

    @classmethod
    def from_checkpoint(cls, scenario: Scenario, folder, memory_check: bool = True) -> "Simulation":
        """A simulation of `scenario` continued from a checkpoint `save_checkpoint` wrote."""
        sim = cls(scenario, memory_check=memory_check)
        checkpoint.restore(sim, folder)
        return sim

    def step(self) -> dict:
        st = self.state
        ctx = StepContext(t=st.step)
        self._apply_timeline(ctx)
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
        if self.reference is not None:
            ref = self.reference.step()
            row.update({f"{k}_reference": ref[k] for k in metrics.PERSISTENCE_COLUMNS})
        self.rows.append(row)
        self.last_ctx = ctx
        st.step += 1
        return row

    def _remember_actions(self, ctx: StepContext) -> None:
        self.state.acted, self.state.observed = ctx.acted, ctx.seen

    def run(self, progress=None) -> list[dict]:
        for _ in range(self.sc.run.steps - self.state.step):
            self.step()
            if progress is not None:
                progress()
        return self.rows

    def summary(self) -> dict:
        out = metrics.final_summary(self)
        out["timeline"] = self.applied
        late = [{"at": e.at, "set": dict(e.set)} for e in self.scenario.timeline if e.step >= self.sc.run.steps]
        if late:
            out["timeline_not_reached"] = late
        if self.reference is not None:
            lifted = self.applied[-1]["step"] if self.applied else None
            out["persistence"] = metrics.persistence(self.rows, lifted)
        return out


def reference_scenario(scenario: Scenario) -> Scenario:
    """The scenario as the last timeline entry the run reaches leaves it, from step 0."""
    stages = [s for s in timeline_scenarios(scenario) if s[0] < scenario.run.steps]
    final = stages[-1][1] if stages else scenario
    run = final.run.model_copy(update={"reference": False})
    return final.model_copy(update={"timeline": (), "run": run, "name": f"{scenario.name}-reference"})
