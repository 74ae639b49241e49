"""The scenario schema: every setting of the model, validated and frozen.

A `Scenario` is an immutable description; the engine reads it and never changes it.  Each
section mirrors a section of the TOML file and a mechanism of docs/ODD.md.  Defaults describe
a society *without* a social credit system apart from what a section switches on; the
built-in scenarios (`credsim scenarios`) set the system up.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .events import CHANNELS, EVENTS, PERSON_BAD, PERSON_GOOD, RULE_EVENTS
from .timeline import parse_at

KIND_EVENTS = PERSON_BAD + PERSON_GOOD  # the actions whose records may be split into kinds
Prob = Annotated[float, Field(ge=0.0, le=1.0)]
NonNeg = Annotated[float, Field(ge=0.0)]
Step = Annotated[int, Field(ge=0, le=100_000)]


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RunSection(Section):
    steps: Annotated[int, Field(ge=1, le=100_000)] = 120
    seed: Annotated[int, Field(ge=0, le=2**63 - 1)] = 1
    reference: bool = False  # also run the world as the last timeline entry leaves it, from step 0


class PopulationSection(Section):
    agents: Annotated[int, Field(ge=100, le=200_000_000)] = 100_000
    regions: Annotated[int, Field(ge=1, le=10_000)] = 40
    urban_share: Prob = 0.6
    pilot_share: Prob = 0.1
    region_size_sigma: NonNeg = 0.8
    persons_per_company: Annotated[float, Field(ge=2.0, le=10_000.0)] = 25.0
    employment_rate: Prob = 0.92
    public_sector_share: Prob = 0.2
    education_shares: tuple[Prob, Prob, Prob, Prob] = (0.30, 0.45, 0.19, 0.06)
    income_median: tuple[NonNeg, NonNeg, NonNeg, NonNeg] = (2500.0, 4000.0, 7000.0, 10000.0)
    income_sigma: NonNeg = 0.5
    unemployment_income: Prob = 0.3
    child_share: Prob = 0.3
    household_size_mean: Annotated[float, Field(ge=1.0, le=8.0)] = 2.8
    separation_rate: Prob = 0.01
    hire_rate: Prob = 0.12

    @model_validator(mode="after")
    def _regions_fit(self):
        if self.regions > self.agents:
            raise ValueError(f"regions ({self.regions}) must not exceed agents ({self.agents}): "
                             "every region needs a resident")
        return self

    @field_validator("education_shares")
    @classmethod
    def _shares_sum(cls, v):
        total = sum(v)
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"allowed: four shares (none, secondary, bachelor, postgraduate) "
                             f"that sum to 1; these sum to {total:g}")
        return v


class NetworkSection(Section):
    mean_degree: Annotated[float, Field(ge=2.0, le=200.0)] = 10.0
    locality: Prob = 0.9
    window: Annotated[int, Field(ge=2, le=100_000)] = 60
    partners: Annotated[int, Field(ge=1, le=1_000)] = 4
    slack: Annotated[int, Field(ge=0, le=64)] = 4


class Schedule(Section):
    pilot_start: Step = 0
    national_start: Step = 0
    ramp: Annotated[int, Field(ge=0, le=100_000)] = 0


class Channel(Section):
    enabled: bool = False
    coverage: Prob = 0.0
    schedule: Schedule = Schedule()


class ChannelsSection(Section):
    payments: Channel = Channel()
    employer: Channel = Channel()
    online: Channel = Channel()
    cameras: Channel = Channel()
    court: Channel = Channel()
    education: Channel = Channel()
    regulator: Channel = Channel()
    rural_camera_factor: Prob = 0.3


class RecognitionSection(Section):
    hit_rate: Prob = 0.9
    false_match_rate: Annotated[float, Field(ge=0.0, le=0.1)] = 0.0
    scans_per_month: Annotated[float, Field(ge=0.0, le=1000.0)] = 20.0
    human_review: Prob = 0.0


class Grade(Section):
    name: Annotated[str, Field(min_length=1, max_length=16)]
    min: float


class ScoringSection(Section):
    enabled: bool = False
    base: float = 1000.0
    min: float = 0.0
    max: float = 2000.0
    decay: Prob = 0.01
    network_weight: Annotated[float, Field(ge=0.0, le=0.9)] = 0.0
    listed_tie_penalty: NonNeg = 0.0
    grades: tuple[Grade, ...] = (
        Grade(name="AAA", min=1050.0),
        Grade(name="AA", min=1030.0),
        Grade(name="A", min=960.0),
        Grade(name="B", min=850.0),
        Grade(name="C", min=600.0),
        Grade(name="D", min=float("-inf")),
    )

    @model_validator(mode="after")
    def _consistent(self):
        if not self.min < self.max:
            raise ValueError(f"min ({self.min:g}) must be below max ({self.max:g})")
        if not self.min <= self.base <= self.max:
            raise ValueError(f"base ({self.base:g}) must lie in [min, max] = [{self.min:g}, {self.max:g}]")
        if not self.grades:
            raise ValueError("grades must name at least one band")
        mins = [g.min for g in self.grades]
        if any(a <= b for a, b in zip(mins, mins[1:])):
            raise ValueError("grades must be listed from best to worst with strictly falling `min`")
        if len({g.name for g in self.grades}) != len(self.grades):
            raise ValueError("grade names must be distinct")
        return self


class RecordKind(Section):
    """One kind of record of a person action (a line of a real rulebook, e.g. Rongcheng's table).

    Each observed record of the rule's action is of this kind with probability `share`, drawn
    per record; it carries `points` and enters the register under `name`.
    """

    name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
    share: Prob
    points: Annotated[float, Field(ge=-1000.0, le=1000.0)] = 0.0


class Rule(Section):
    event: Literal[RULE_EVENTS]  # type: ignore[valid-type]
    channel: Literal[CHANNELS]  # type: ignore[valid-type]
    points: Annotated[float, Field(ge=-1000.0, le=1000.0)] = 0.0
    lists: bool = False
    # record kinds refining the action; with kinds, `points` is unused (each kind has its own)
    kinds: tuple[RecordKind, ...] = ()

    @model_validator(mode="after")
    def _channel_matches(self):
        expected = EVENTS[self.event][1]
        if self.channel != expected:
            raise ValueError(
                f"event '{self.event}' is observed through channel '{expected}', not '{self.channel}'"
            )
        return self

    @model_validator(mode="after")
    def _kinds_valid(self):
        if not self.kinds:
            return self
        if self.event not in KIND_EVENTS:
            raise ValueError(f"rules: event '{self.event}' takes no kinds; allowed: "
                             f"{', '.join(KIND_EVENTS)}")
        total = sum(k.share for k in self.kinds)
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"rules: the kinds of '{self.event}' have shares summing to {total:g}; "
                             "they must sum to 1")
        for k in self.kinds:
            if k.name in EVENTS:
                raise ValueError(f"rules: kind '{k.name}' is the name of an event; choose another")
        return self

    @property
    def mean_points(self) -> float:
        """Points of a record on average: `points`, or the share-weighted points of the kinds."""
        return sum(k.share * k.points for k in self.kinds) if self.kinds else self.points


class ListsSection(Section):
    blacklist: bool = False
    redlist: bool = False
    black_threshold: float = 600.0
    exit_threshold: float = 600.0
    red_threshold: float = 1050.0
    min_term: Annotated[int, Field(ge=0, le=1200)] = 12
    appeals: bool = False
    appeal_rate: Prob = 0.2
    appeal_success: Prob = 0.8
    naming: bool = False

    @model_validator(mode="after")
    def _thresholds(self):
        if self.exit_threshold < self.black_threshold:
            raise ValueError(
                f"exit_threshold ({self.exit_threshold:g}) must not be below black_threshold "
                f"({self.black_threshold:g})"
            )
        return self


class TravelSanction(Section):
    enabled: bool = False
    enforcement: Prob = 1.0


class EmploymentSanction(Section):
    enabled: bool = False
    job_loss_rate: Prob = 0.1
    private_check: Prob = 0.3


class SchoolSanction(Section):
    enabled: bool = False
    enforcement: Prob = 1.0


class ServicesSanction(Section):
    enabled: bool = False
    loan_enforcement: Prob = 1.0


class RewardsSanction(Section):
    enabled: bool = False
    hardship_relief: Prob = 0.05


class JointSanction(Section):
    enabled: bool = False
    representative_points: Annotated[float, Field(ge=-1000.0, le=0.0)] = -50.0
    list_representative: bool = True
    employee_points: Annotated[float, Field(ge=-1000.0, le=0.0)] = 0.0


class SanctionsSection(Section):
    travel: TravelSanction = TravelSanction()
    employment: EmploymentSanction = EmploymentSanction()
    school: SchoolSanction = SchoolSanction()
    services: ServicesSanction = ServicesSanction()
    rewards: RewardsSanction = RewardsSanction()
    joint: JointSanction = JointSanction()


class BehaviourSection(Section):
    legitimacy: Prob = 0.8
    late_bill_base: float = -3.2
    poor_work_base: float = -3.0
    misconduct_base: float = -3.0
    court_default_base: float = -7.0
    approved_speech_base: float = -3.0
    good_deed_base: float = -3.5
    fulfil_base: float = -4.0
    conscientiousness_weight: NonNeg = 2.0
    poverty_weight: NonNeg = 1.5
    deterrence_weight: NonNeg = 3.0
    company_deterrence_weight: NonNeg = 0.5
    point_scale: Annotated[float, Field(gt=0.0)] = 30.0
    listing_penalty: NonNeg = 2.0
    guilt_weight: NonNeg = 2.0
    peer_weight: NonNeg = 1.0
    reward_weight: NonNeg = 2.0
    sanction_pressure: NonNeg = 1.5
    pressure_memory: Prob = 0.7
    hardship_per_sanction: Prob = 0.02
    hardship_relax: Prob = 0.05
    unemployment_hardship: Prob = 0.3
    grievance_weight: NonNeg = 1.0
    cascade_weight: NonNeg = 0.05
    fear_weight: NonNeg = 1.0
    dissent_guilt: NonNeg = 0.2
    dissent_threshold_mean: float = 0.15
    dissent_threshold_sd: NonNeg = 0.05
    flight_rate: Prob = 0.03
    rail_rate: Prob = 0.10
    hotel_rate: Prob = 0.10
    loan_rate: Prob = 0.02
    school_month: Annotated[int, Field(ge=0, le=11)] = 8
    tax_late_base: float = -3.5
    quality_violation_base: float = -4.0
    pollution_base: float = -4.5
    company_court_default_base: float = -6.5
    company_fulfil_base: float = -2.5


class LearningSection(Section):
    enabled: bool = True
    internalize: bool = True
    risk_rate: Prob = 0.1
    initial_risk: Prob = 0.2
    standard_rate: Prob = 0.04
    internalization_initial: Prob = 0.05
    internalization_reward: Prob = 0.02
    internalization_punish: Prob = 0.01
    internalization_fade: Prob = 0.01
    propaganda: Prob = 0.0
    propaganda_rate: Prob = 0.01
    salience_initial: Prob = 0.1
    gamification: Prob = 0.0
    salience_growth: Prob = 0.03
    salience_fade: Prob = 0.01


class TiesSection(Section):
    enabled: bool = True
    cut_rate: Prob = 0.3
    score_aversion: Annotated[float, Field(ge=0.0, le=1000.0)] = 10.0
    form_rate: Prob = 0.2
    refusal: Prob = 0.8
    triadic: Prob = 0.5


class FeedbackSection(Section):
    enabled: bool = False
    gain: Annotated[float, Field(ge=0.0, le=10.0)] = 0.5
    max_boost: Annotated[float, Field(ge=0.0, le=10.0)] = 1.0


class TimelineEntry(Section):
    at: Union[int, str]
    set: dict[str, Any]

    @property
    def step(self) -> int:
        return parse_at(self.at)


class OutputSection(Section):
    """What a run folder holds besides the time series and summary (see docs/report.md).

    Output settings never change a run: the panel is drawn from its own random stream, and the
    section is left out of the scenario hash.
    """

    register_records: bool = True  # stream every observed record to register.parquet
    register_panel: Annotated[float, Field(gt=0.0, le=1.0)] = 1.0  # share of persons (and companies) kept
    snapshots: tuple[Step, ...] = ()  # steps whose end state is written to persons/companies (the last always is)
    report: bool = True            # write report.html at the end of the run
    checkpoint_every: Annotated[int, Field(ge=0, le=100_000)] = 0  # steps; 0 = by run size (see checkpoint_interval)

    @field_validator("snapshots")
    @classmethod
    def _sorted(cls, v):
        return tuple(sorted(set(v)))


class Scenario(Section):
    """A fully resolved scenario: what `credsim show` prints and `scenario.toml` holds."""

    name: Annotated[str, Field(min_length=1, max_length=80)] = "custom"
    description: str = ""
    run: RunSection = RunSection()
    population: PopulationSection = PopulationSection()
    network: NetworkSection = NetworkSection()
    channels: ChannelsSection = ChannelsSection()
    recognition: RecognitionSection = RecognitionSection()
    scoring: ScoringSection = ScoringSection()
    rules: tuple[Rule, ...] = ()
    lists: ListsSection = ListsSection()
    sanctions: SanctionsSection = SanctionsSection()
    behaviour: BehaviourSection = BehaviourSection()
    learning: LearningSection = LearningSection()
    ties: TiesSection = TiesSection()
    feedback: FeedbackSection = FeedbackSection()
    output: OutputSection = OutputSection()
    timeline: tuple[TimelineEntry, ...] = ()

    @model_validator(mode="after")
    def _rules_unique(self):
        seen = set()
        for rule in self.rules:
            if rule.event in seen:
                raise ValueError(f"rules: event '{rule.event}' has more than one rule; give it one")
            seen.add(rule.event)
        names = [k.name for rule in self.rules for k in rule.kinds]
        if len(set(names)) != len(names):
            raise ValueError("rules: a record kind is named twice; kind names must be distinct")
        return self

    @model_validator(mode="after")
    def _snapshots_in_run(self):
        late = [k for k in self.output.snapshots if k >= self.run.steps]
        if late:
            raise ValueError(f"output.snapshots: step {late[0]} is past the run; allowed: steps "
                             f"0..{self.run.steps - 1} (run.steps = {self.run.steps})")
        return self
