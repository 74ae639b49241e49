"""The dashboard's controls: a curated list of scenario keys, each with one sentence.

Type, range and default of every control come from the scenario schema (the pydantic field's
type and its `ge`/`le` bounds) and from the scenario chosen; the dashboard adds only tighter
bounds where a browser session should not go (population and years) and the sentences, kept
in `SENTENCES`, the one place that says what each lever does in the real system.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from ..scenario.events import CHANNELS
from ..scenario.schema import Scenario

SANCTIONS = ("travel", "employment", "school", "services", "rewards", "joint")

# key -> one sentence: what the lever does in the real system
SENTENCES: dict[str, str] = {
    "population.agents": "How many persons the synthetic society has; more give smoother curves and take longer.",
    "run.steps": "How long the system runs, one step a month (a scenario's roll-out starts in its pilot cities).",
    "run.seed": "The random seed: the same settings and seed give the same run; change it to see chance at work.",
    "channels.payments.coverage": "Share of late bills and unpaid loans that reach the register from Alipay-style "
                                  "payment apps and banks (0 switches the channel off).",
    "channels.employer.coverage": "Share of poor work and good deeds that employers and residential committees "
                                  "report (0 switches the channel off).",
    "channels.online.coverage": "Share of online posts that censors read, recording dissent and approved speech "
                                "(0 switches the channel off).",
    "channels.cameras.coverage": "Share of public misconduct, such as jaywalking, seen by face-recognition cameras "
                                 "in cities (less in the countryside; 0 switches cameras off).",
    "channels.court.coverage": "Share of defaulted court judgments that reach the register, as the courts' list of "
                               "judgment defaulters (0 switches the channel off).",
    "channels.education.coverage": "Share of degrees that schools and universities confirm to the register each "
                                   "year (0 switches the channel off).",
    "channels.regulator.coverage": "Share of companies' late taxes, quality violations and pollution that "
                                   "regulators record (0 switches the channel off).",
    "recognition.false_match_rate": "Chance per face scan that a camera pins an offence on the wrong person; "
                                    "the false record counts like a true one.",
    "recognition.human_review": "Share of false face matches a human reviewer catches before they are recorded "
                                "(also at the hotel door).",
    "scoring.network_weight": "How much a person's score moves with their friends' scores, so that one's "
                              "standing depends on whom one knows.",
    "lists.naming": "Publish the blacklist with names and addresses, so that friends, employers and "
                    "landlords can check it.",
    "lists.appeals": "Let listed persons appeal; an upheld appeal strikes the false records and can end "
                     "the listing.",
    "sanctions.travel.enabled": "Refuse flights and high-speed rail tickets to blacklisted persons.",
    "sanctions.employment.enabled": "Fire and refuse to hire blacklisted persons in the public sector (and in "
                                    "private companies that check a published list).",
    "sanctions.school.enabled": "Refuse blacklisted parents' children places at school.",
    "sanctions.services.enabled": "Refuse hotel rooms and loans to blacklisted persons.",
    "sanctions.rewards.enabled": "Reward red-listed persons with faster services and deposits waived, "
                                 "easing hardship.",
    "sanctions.joint.enabled": "Joint punishment: when a company is blacklisted, its legal representative "
                               "loses points and is listed too.",
}

# key -> (label, group)
LABELS: dict[str, tuple[str, str]] = {
    "population.agents": ("persons", "Society"),
    "run.steps": ("years", "Society"),
    "run.seed": ("seed", "Society"),
    **{f"channels.{c}.coverage": (f"{c} coverage", "Channels: who feeds the register") for c in CHANNELS},
    "recognition.false_match_rate": ("false-match rate", "Face recognition"),
    "recognition.human_review": ("human review", "Face recognition"),
    "scoring.network_weight": ("network weight", "Scores and lists"),
    "lists.naming": ("public naming", "Scores and lists"),
    "lists.appeals": ("appeals", "Scores and lists"),
    **{f"sanctions.{s}.enabled": (s, "Sanctions and rewards") for s in SANCTIONS},
}
LEVERS: tuple[str, ...] = tuple(LABELS)
assert set(LEVERS) == set(SENTENCES)

# tighter bounds than the schema's, for a page anyone on the machine can drive
DASHBOARD_BOUNDS: dict[str, tuple[float, float]] = {
    "population.agents": (1_000, 200_000),
    "run.steps": (12, 360),  # 1 to 30 years
}
MONTHS = 12


def field_info(key: str):
    """The pydantic `FieldInfo` of a dotted scenario key."""
    model: type[BaseModel] = Scenario
    *sections, last = key.split(".")
    for part in sections:
        model = model.model_fields[part].annotation
    return model.model_fields[last]


def schema_bounds(key: str) -> tuple[float | None, float | None]:
    lo = hi = None
    for m in field_info(key).metadata:
        lo = getattr(m, "ge", lo)
        hi = getattr(m, "le", hi)
    if key in DASHBOARD_BOUNDS:
        dlo, dhi = DASHBOARD_BOUNDS[key]
        lo, hi = max(lo, dlo) if lo is not None else dlo, min(hi, dhi) if hi is not None else dhi
    return lo, hi


def lookup(scenario: Scenario, key: str) -> Any:
    value: Any = scenario
    for part in key.split("."):
        value = getattr(value, part)
    return value


def current(scenario: Scenario, key: str) -> Any:
    """The lever's value in a scenario, as the control shows it (years for run.steps; a
    switched-off channel has coverage 0)."""
    if key == "run.steps":
        return scenario.run.steps / MONTHS
    if key.startswith("channels."):
        channel = lookup(scenario, key.rsplit(".", 1)[0])
        return channel.coverage if channel.enabled else 0.0
    return lookup(scenario, key)


def spec(key: str, scenario: Scenario) -> dict:
    """One control: its kind, range and step from the schema, its value from the scenario."""
    label, group = LABELS[key]
    annotation = field_info(key).annotation
    lo, hi = schema_bounds(key)
    out = {"key": key, "label": label, "group": group, "sentence": SENTENCES[key],
           "value": current(scenario, key)}
    if annotation is bool:
        out["kind"] = "bool"
    elif key == "run.steps":
        out.update(kind="years", min=lo / MONTHS, max=hi / MONTHS, step=1)
    elif annotation is int:
        step = 1_000 if key == "population.agents" else 1
        out.update(kind="int", min=lo, max=hi if key != "run.seed" else 2**31 - 1, step=step)
    else:
        out.update(kind="float", min=lo, max=hi, step=(hi - lo) / 1000)
    return out


def specs(scenario: Scenario) -> list[dict]:
    return [spec(key, scenario) for key in LEVERS]


def overrides(values: dict[str, Any]) -> dict[str, Any]:
    """Dotted scenario overrides for the controls' values (years -> months; a channel whose
    coverage is set is switched on, since coverage 0 records nothing either way)."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        if key == "run.steps" and isinstance(value, (int, float)) and not isinstance(value, bool):
            value = round(value * MONTHS)
        elif key.startswith("channels."):
            out[key.rsplit(".", 1)[0] + ".enabled"] = True
        out[key] = value
    return out


def control_of(key: str) -> str | None:
    """The control a scenario key belongs to (`channels.x.enabled` -> its coverage), or None."""
    if key in LABELS:
        return key
    if key.startswith("channels.") and key.endswith(".enabled") and key.replace(".enabled", ".coverage") in LABELS:
        return key.replace(".enabled", ".coverage")
    return None


def changes(base: Scenario, scenario: Scenario) -> list[str]:
    """Short words for the levers that differ between two scenarios ('naming off', 'cameras 80%')."""
    out = []
    for key in LEVERS:
        a, b = current(base, key), current(scenario, key)
        if a == b or key in ("population.agents", "run.steps"):
            continue
        label = LABELS[key][0]
        if isinstance(b, bool):
            out.append(f"{label} {'on' if b else 'off'}")
        elif key.startswith("channels.") or key == "recognition.human_review":
            out.append(f"{label} {b:.0%}")
        else:
            out.append(f"{label} {b:g}")
    return out
