"""The mutable state of a run (struct of arrays) and the per-step context the phases share.

Mechanisms read and write `State` and `StepContext` only; they never import each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..scenario.events import PERSON_BAD, PERSON_GOOD
from ..scenario.schema import Scenario
from ..society import Society

def grade_of(score, bands) -> np.ndarray:
    """Index of the first band, best to worst, whose `min` the score reaches (the worst if none)."""
    mins = np.array([g.min for g in bands], dtype=np.float32)[::-1]  # ascending, as scores
    pos = np.searchsorted(mins, score, side="right") - 1
    return np.clip(len(mins) - 1 - pos, 0, len(mins) - 1).astype(np.int8)


# list causes
NOT_LISTED, BY_SCORE, BY_RULE, BY_JOINT, BY_FALSE, BY_ASSOCIATION = 0, 1, 2, 3, 4, 5

# bit positions of a person's actions in `acted`, and of its true records in `seen`
ACTION_BITS = {name: i for i, name in enumerate(PERSON_BAD + PERSON_GOOD)}
N_BITS = len(ACTION_BITS)
RECORD_BITS = dict(ACTION_BITS, fulfil_judgment=N_BITS, degree_bachelor=N_BITS + 1,
                   degree_postgraduate=N_BITS + 2)
N_SEEN = len(PERSON_BAD)  # ties' actions and records each person sees (the disapproved ones)
# bits of `attempts`: where enforcement happens
ATTEMPT_BITS = {"flight": 0, "rail": 1, "hotel": 2, "loan": 3, "school": 4}


@dataclass
class State:
    # persons
    score: np.ndarray            # float32: displayed score (record points + network term)
    personal: np.ndarray         # float32: score from the person's own records (decays)
    false_points: np.ndarray     # float32: part of `personal` owed to false records
    grade: np.ndarray            # int8: index into scoring.grades (0 best)
    black: np.ndarray            # bool
    red: np.ndarray              # bool
    list_cause: np.ndarray       # int8: why the current spell began (see lists.py)
    months_listed: np.ndarray    # int32
    default_out: np.ndarray      # bool: an unpaid court judgment
    employer: np.ndarray         # int32 company or -1
    income: np.ndarray           # float32 current monthly income
    hardship: np.ndarray         # float32 in [0, 1]
    pressure: np.ndarray         # float32: recent sanctions felt (drives court compliance)
    internalization: np.ndarray  # float32 in [0, 1]
    salience: np.ndarray         # float32 in [0, 1]
    risk: np.ndarray             # float32 (len(PERSON_BAD), N): perceived chance of observation
    acted: np.ndarray            # uint16 ACTION_BITS of last step's actions
    observed: np.ndarray         # uint16 RECORD_BITS of last step's true records
    refusals: np.ndarray         # int32 cumulative refusals of every kind
    rewards: np.ndarray          # int32 cumulative rewards
    jobs_lost: np.ndarray        # int32 cumulative jobs lost to the list
    # companies
    c_score: np.ndarray
    c_grade: np.ndarray
    c_black: np.ndarray
    c_months_listed: np.ndarray
    c_default_out: np.ndarray
    # system-wide
    standard: np.ndarray         # float64 (len(PERSON_BAD + PERSON_GOOD)): internalized standard
    boost: float = 0.0           # coverage growth from the compliance feedback loop
    compliance_ref: float = -1.0  # compliance at the first step, the feedback's reference
    step: int = 0
    # for end-of-run metrics
    initial_education: np.ndarray = field(default=None)
    initial_income_quintile: np.ndarray = field(default=None)
    grade_mid: np.ndarray = field(default=None)
    spell_hist: np.ndarray = field(default=None)  # int64: completed list spells by months


def initial_state(sc: Scenario, society: Society) -> State:
    p, c = society.persons, society.companies
    n, m = p.count, c.count
    base = np.float32(sc.scoring.base)
    base_grade = grade_of(sc.scoring.base, sc.scoring.grades)
    employer = p.employer0.copy()
    income = np.where(employer >= 0, p.income_base, p.income_base * sc.population.unemployment_income)
    quint = np.empty(n, dtype=np.int8)
    quint[np.argsort(p.income_base, kind="stable")] = (np.arange(n) * 5 // n).astype(np.int8)
    return State(
        score=np.full(n, base, np.float32),
        personal=np.full(n, base, np.float32),
        false_points=np.zeros(n, np.float32),
        grade=np.full(n, base_grade, np.int8),
        black=np.zeros(n, bool),
        red=np.zeros(n, bool),
        list_cause=np.zeros(n, np.int8),
        months_listed=np.zeros(n, np.int32),
        default_out=np.zeros(n, bool),
        employer=employer,
        income=income.astype(np.float32),
        hardship=p.hardship0.copy(),
        pressure=np.zeros(n, np.float32),
        internalization=np.full(n, sc.learning.internalization_initial * sc.learning.internalize, np.float32),
        salience=np.full(n, sc.learning.salience_initial, np.float32),
        risk=np.full((len(PERSON_BAD), n), sc.learning.initial_risk, np.float32),
        acted=np.zeros(n, np.uint16),
        observed=np.zeros(n, np.uint16),
        refusals=np.zeros(n, np.int32),
        rewards=np.zeros(n, np.int32),
        jobs_lost=np.zeros(n, np.int32),
        c_score=np.full(m, base, np.float32),
        c_grade=np.full(m, base_grade, np.int8),
        c_black=np.zeros(m, bool),
        c_months_listed=np.zeros(m, np.int32),
        c_default_out=np.zeros(m, bool),
        standard=np.zeros(len(ACTION_BITS), np.float64),
        initial_education=p.education.copy(),
        initial_income_quintile=quint,
        spell_hist=np.zeros(sc.run.steps + 2, np.int64),
    )


@dataclass
class StepContext:
    """What one step's phases hand each other.  Rebuilt every step."""

    t: int
    coverage: dict = field(default_factory=dict)        # channel -> float32 (R,)
    coverage_all: np.ndarray = None  # float32 (channel, R) in CHANNELS order: `coverage`'s rows
    person_coverage: dict = field(default_factory=dict)  # channel -> float32 (N,), lazily
    # network view at the start of the step
    tie_mean: np.ndarray = None
    listed_ties: np.ndarray = None
    degree: np.ndarray = None
    friend_degree: np.ndarray = None
    tie_did: np.ndarray = None      # uint64 (N): ties who did bad action k last step, in lane k
                                    # (`credsim.society.network.lane`)
    tie_obs: np.ndarray = None
    # actions (true behaviour)
    acted: np.ndarray = None        # uint16 ACTION_BITS of persons' actions
    dissent_private: np.ndarray = None
    fulfilled: np.ndarray = None    # persons who paid a judgment
    attempts: np.ndarray = None     # uint8 ATTEMPT_BITS
    c_did: np.ndarray = None        # bool (len(COMPANY_EVENTS), M): row k, companies that did event k
    # observation
    seen: np.ndarray = None         # uint16 RECORD_BITS of persons' true records
    c_observed: tuple = None        # (kept, ends): companies observed doing event k, kept[ends[k]:ends[k + 1]]
    false_idx: np.ndarray = None                     # persons hit by false camera matches
    records: list = field(default_factory=list)      # (event, subject indices, is_true)
    kinds: dict = field(default_factory=dict)        # event -> kind index of each true record (scoring)
    # appeals (lists phase; None where appeals are off)
    appealed: np.ndarray = None      # persons who appealed this step
    upheld: np.ndarray = None        # those whose appeal was upheld (false records overturned)
    appeal_exits: np.ndarray = None  # those whose listing ended with the upheld appeal
    # per-step counts for metrics
    counts: dict = field(default_factory=dict)
    punished: np.ndarray = None   # bool: a negative record or a refusal this step
    rewarded: np.ndarray = None   # bool: a positive record or a reward this step

    def cov(self, channel: str, region: np.ndarray) -> np.ndarray:
        """Coverage of `channel` where each person (or company) of `region` lives."""
        key = (channel, len(region))
        if key not in self.person_coverage:
            self.person_coverage[key] = self.coverage[channel][region]
        return self.person_coverage[key]

    def did_mask(self, event: str) -> np.ndarray:
        """Bool mask of the persons who did a person action this step."""
        return (self.acted & (1 << ACTION_BITS[event])) != 0

    def add(self, key: str, value: int) -> None:
        self.counts[key] = self.counts.get(key, 0) + int(value)

