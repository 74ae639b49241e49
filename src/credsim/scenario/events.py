"""The vocabulary of the model: channels and the events they can observe.

Every record in the register is an (event, channel) pair.  An event is observable through
exactly one channel; a rule of the rulebook names both so that a scenario file reads like the
real rulebooks it imitates (Rongcheng's table names the reporting body next to each item).
"""

from __future__ import annotations

CHANNELS: tuple[str, ...] = (
    "payments",   # app and bank payment records (near-total where present)
    "employer",   # employer and residential-committee reports
    "online",     # online monitoring by censors
    "cameras",    # public cameras with face recognition
    "court",      # court records
    "education",  # education records (degrees held)
    "regulator",  # regulators' inspections of companies
)

# event -> (subject, channel, kind)
#   subject: "person" or "company"
#   kind: "bad" actions are drawn from the utility with deterrence; "good" actions are drawn
#         with rewards; "static" events confirm a fixed attribute (a degree) once a year for
#         the holders the channel reaches; "resolution" events end an outstanding court
#         default; "joint" events are written by joint punishment, never by a rule.
EVENTS: dict[str, tuple[str, str, str]] = {
    "late_bill": ("person", "payments", "bad"),
    "poor_work": ("person", "employer", "bad"),
    "misconduct": ("person", "cameras", "bad"),
    "dissent": ("person", "online", "bad"),
    "court_default": ("person", "court", "bad"),
    "approved_speech": ("person", "online", "good"),
    "good_deed": ("person", "employer", "good"),
    "fulfil_judgment": ("person", "court", "resolution"),
    "degree_bachelor": ("person", "education", "static"),
    "degree_postgraduate": ("person", "education", "static"),
    "tax_late": ("company", "regulator", "bad"),
    "quality_violation": ("company", "regulator", "bad"),
    "pollution": ("company", "regulator", "bad"),
    "company_court_default": ("company", "court", "bad"),
    "company_fulfil_judgment": ("company", "court", "resolution"),
    # written by joint punishment (sanctions.joint), never by a rule
    "joint_representative": ("person", "regulator", "joint"),
}
RULE_EVENTS = tuple(e for e, (_, _, kind) in EVENTS.items() if kind != "joint")

# Order of the person actions drawn from the utility; index = row in per-action arrays.
PERSON_BAD = ("late_bill", "poor_work", "misconduct", "dissent", "court_default")
PERSON_GOOD = ("approved_speech", "good_deed")
COMPANY_BAD = ("tax_late", "quality_violation", "pollution", "company_court_default")
PERSON_EVENTS = tuple(e for e, (s, _, _) in EVENTS.items() if s == "person")
COMPANY_EVENTS = tuple(e for e, (s, _, _) in EVENTS.items() if s == "company")


def channel_of(event: str) -> str:
    return EVENTS[event][1]


def channel_rows(events) -> tuple[int, ...]:
    """Each event's channel as its index in CHANNELS: its row of the roll-out's (channel,
    region) coverage, `StepContext.coverage_all`."""
    return tuple(CHANNELS.index(channel_of(e)) for e in events)
